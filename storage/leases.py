"""Leadership among replicas: who runs the scheduled work (refresh, sources, delivery, digest).

On PostgreSQL it is a session advisory lock held on a connection of its own: the server releases
it the moment that connection ends, so a leader killed with SIGKILL frees it at once (its socket
closes), and a leader whose machine vanished frees it once the server's TCP keepalives give up
on it (about ten seconds with the settings below). No clocks are compared between machines.

SQLite serves one process, which always leads.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from storage.database import Database, PostgresDatabase

LEADER_LOCK = 0x6F75_7461_6765_01  # any fixed number, distinct from the migration lock
# The server notices a silent peer after idle + interval * count seconds and ends its session.
KEEPALIVES = {
    "tcp_keepalives_idle": "4",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
    "application_name": "outagebot-leader",
}


class Lock(Protocol):
    async def try_acquire(self) -> bool: ...

    async def held(self) -> bool: ...

    async def release(self) -> None: ...


class SoleLock:
    """One process on one SQLite file: nobody to share the work with."""

    async def try_acquire(self) -> bool:
        return True

    async def held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class AdvisoryLock:
    """pg_try_advisory_lock on a dedicated connection (never a pooled one: the lock is the
    connection's, and a pool would hand it to someone else)."""

    def __init__(self, url: str, *, key: int = LEADER_LOCK, timeout: float = 5.0) -> None:
        self.url = url
        self.key = key
        self.timeout = timeout
        self._connection: Any = None

    async def try_acquire(self) -> bool:
        import asyncpg

        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(
                    self.url, timeout=self.timeout, server_settings=KEEPALIVES
                )
            return bool(
                await self._connection.fetchval(
                    "SELECT pg_try_advisory_lock($1)", self.key, timeout=self.timeout
                )
            )
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            await self._drop()
            return False

    async def held(self) -> bool:
        """Still ours: the connection that holds it still answers."""
        if self._connection is None or self._connection.is_closed():
            return False
        try:
            await self._connection.fetchval("SELECT 1", timeout=self.timeout)
        except Exception:  # any failure (closed, reset, asyncpg's internal states) means lost
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        """Closing the connection ends the session, and with it the lock."""
        await self._drop()

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                await asyncio.wait_for(connection.close(), timeout=self.timeout)
            except Exception:  # a dead connection: nothing left to close cleanly
                connection.terminate()


def lock_for(db: Database) -> Lock:
    if isinstance(db, PostgresDatabase):
        return AdvisoryLock(db.url)
    return SoleLock()


async def leader_backend(db: Database) -> int | None:
    """The server process id holding the leader lock (for /healthz and the replica tests)."""
    if not isinstance(db, PostgresDatabase):
        return None
    return await db.scalar(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND ((CAST(classid AS BIGINT) << 32) | CAST(objid AS BIGINT)) = ?",
        (LEADER_LOCK,),
    )

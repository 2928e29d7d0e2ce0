"""Leadership among replicas: who runs the scheduled work (refresh, sources, delivery, digest).

On PostgreSQL it is a session advisory lock held on a connection of its own: the server releases
it the moment that connection ends, so a leader killed with SIGKILL frees it at once (its socket
closes), and a leader whose machine vanished frees it once the server's TCP keepalives give up
on it (about ten seconds with the settings below). No clocks are compared between machines.

On SQLite the lock is an exclusive `flock` on a file beside the database: a second `outagebot run`
on the same file answers updates but leaves the scheduled work to the first (so nobody is alerted
twice), and takes it over the moment the first exits, however it exits (the kernel drops a dead
process's locks).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
from typing import Any, Protocol

from storage.database import Database, PostgresDatabase, SqliteDatabase

LEADER_LOCK = 0x6F75_7461_6765_01  # any fixed number, distinct from the migration lock
# The server notices a silent peer after idle + interval * count seconds and ends its session;
# keepalives only start once everything sent was acknowledged, so a peer that vanished with an
# answer unacknowledged is given up after tcp_user_timeout instead of the kernel's many minutes.
KEEPALIVES = {
    "tcp_keepalives_idle": "4",
    "tcp_keepalives_interval": "2",
    "tcp_keepalives_count": "3",
    "tcp_user_timeout": "10000",  # ms; PostgreSQL 12+, Linux
    "application_name": "outagebot-leader",
}


class Lock(Protocol):
    async def try_acquire(self) -> bool: ...

    async def held(self) -> bool: ...

    async def release(self) -> None: ...


class SoleLock:
    """An in-memory database: only this process can see it, so it always leads."""

    async def try_acquire(self) -> bool:
        return True

    async def held(self) -> bool:
        return True

    async def release(self) -> None:
        return None


class FileLock:
    """flock(LOCK_EX | LOCK_NB) on `path`, held while its file stays open.

    flock rather than fcntl's record locks: a record lock is the process's, so a second
    connection in the same process would silently share it; an flock belongs to one open file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    async def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    async def held(self) -> bool:
        return self._fd is not None

    async def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the only descriptor of the open file drops its lock


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
    if isinstance(db, SqliteDatabase) and db.path != ":memory:":
        return FileLock(f"{db.path}.leader")
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

"""PostgreSQL through asyncpg: a pool of connections, one per transaction.

Replicas and concurrent handlers write side by side, and row locks (`FOR UPDATE SKIP LOCKED`)
decide who takes which outbox row. asyncpg itself is imported only when a pool is made.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from storage.database.dialect import (
    MAX_PARAMETERS,
    MULTIROW_ROWS,
    POSTGRESQL,
    multirow_insert,
    numbered,
    postgres_ddl,
)
from storage.database.protocol import Connection, Database, Row
from storage.database.schema import split_statements
from storage.database.urls import is_postgres, redacted, unavailable

# Any fixed number: the key of the advisory lock that lets one replica migrate at a time.
MIGRATION_LOCK = 0x6F75_7461_6765  # "outage"


def _rowcount(status: str) -> int:
    """Rows a command touched, from PostgreSQL's status tag ("INSERT 0 3", "UPDATE 2")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


class PostgresCursor:
    """The rows and count of one statement, shaped like an aiosqlite cursor."""

    __slots__ = ("_position", "lastrowid", "rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount
        self.lastrowid = None  # use RETURNING id: portable, and exact under concurrency
        self._position = 0

    async def fetchall(self) -> list[Any]:
        rest = self.rows[self._position :]
        self._position = len(self.rows)
        return rest

    async def fetchone(self) -> Any:
        if self._position >= len(self.rows):
            return None
        self._position += 1
        return self.rows[self._position - 1]

    async def fetchmany(self, size: int) -> list[Any]:
        chunk = self.rows[self._position : self._position + size]
        self._position += len(chunk)
        return chunk


class _Statement:
    """`await connection.execute(…)` and `async with connection.execute(…)` both work."""

    __slots__ = ("_run",)

    def __init__(self, run: Any) -> None:
        self._run = run

    def __await__(self) -> Any:
        return self._run().__await__()

    async def __aenter__(self) -> PostgresCursor:
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        return None


_READS = re.compile(r"\s*(SELECT|WITH|VALUES)\b", re.IGNORECASE)
_RETURNING = re.compile(r"\bRETURNING\b", re.IGNORECASE)


class PostgresConnection:
    """An asyncpg connection inside a transaction, spoken to as storage functions speak."""

    __slots__ = ("_changes", "raw")

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._changes = 0

    @property
    def total_changes(self) -> int:
        return self._changes

    def execute(self, sql: str, params: Sequence[Any] = ()) -> _Statement:
        return _Statement(lambda: self._execute(sql, params))

    async def _execute(self, sql: str, params: Sequence[Any]) -> PostgresCursor:
        text = numbered(sql)
        if _RETURNING.search(text):  # a write whose rows come back: each one is a change
            rows = await self.raw.fetch(text, *params)
            self._changes += len(rows)
            return PostgresCursor(rows, len(rows))
        if _READS.match(text):
            rows = await self.raw.fetch(text, *params)
            return PostgresCursor(rows, -1)
        changed = _rowcount(await self.raw.execute(text, *params))
        self._changes += max(changed, 0)
        return PostgresCursor([], changed)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Many rows, counted as SQLite counts them (ON CONFLICT may skip some).

        asyncpg's own executemany reports no counts. A plain INSERT … VALUES (…) [ON CONFLICT
        DO NOTHING] goes as multi-row statements whose RETURNING rows are the inserted ones
        (about 20× fewer round trips); anything else, one statement a row.
        """
        rows = list(rows)
        if not rows:
            return
        batched = multirow_insert(sql)
        if batched is None:
            text = numbered(sql)
            for row in rows:
                self._changes += max(_rowcount(await self.raw.execute(text, *row)), 0)
            return
        width = len(rows[0])
        per_statement = max(1, min(MULTIROW_ROWS, MAX_PARAMETERS // max(width, 1)))
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            text = batched(len(chunk), width)
            flat = [value for row in chunk for value in row]
            self._changes += len(await self.raw.fetch(text, *flat))

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self.raw.fetch(numbered(sql), *params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self.raw.fetchrow(numbered(sql), *params)

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self.raw.fetchval(numbered(sql), *params)


class PostgresDatabase(Database):
    dialect = POSTGRESQL

    def __init__(self, pool: Any, target: str) -> None:
        self.pool = pool
        self.url = target
        self.target = redacted(target)

    @classmethod
    def takes(cls, target: str | Path) -> bool:
        return is_postgres(target)

    @classmethod
    async def open_target(cls, target: str | Path, *, pool_size: int) -> PostgresDatabase:
        import asyncpg

        refused = (  # what the server answers a login it will not take
            OSError,
            TimeoutError,
            asyncpg.PostgresConnectionError,
            asyncpg.InvalidAuthorizationSpecificationError,  # role, password, pg_hba
            asyncpg.InvalidCatalogNameError,  # no such database
            asyncpg.CannotConnectNowError,  # starting up or shutting down
            asyncpg.TooManyConnectionsError,
        )
        try:
            return await cls.connect(str(target), pool_size=pool_size)
        except refused as error:
            raise unavailable(target, error) from None

    @classmethod
    async def connect(cls, url: str, *, pool_size: int = 10) -> PostgresDatabase:
        import asyncpg  # only a PostgreSQL deployment needs it loaded

        pool = await asyncpg.create_pool(
            url,
            min_size=1,
            max_size=max(2, pool_size),
            server_settings={"application_name": "outagebot"},
        )
        database = cls(pool, url)
        try:
            await database.migrate()
        except BaseException:
            await pool.close()
            raise
        return database

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresConnection]:
        async with self.pool.acquire() as raw, raw.transaction():
            yield PostgresConnection(raw)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[PostgresConnection]:
        """One pooled connection outside any transaction (each statement commits itself)."""
        async with self.pool.acquire() as raw:
            yield PostgresConnection(raw)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return list(await self.pool.fetch(numbered(sql), *params))

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self.pool.fetchrow(numbered(sql), *params)

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return await self.pool.fetchval(numbered(sql), *params)

    @asynccontextmanager
    async def _migrating(self) -> AsyncIterator[PostgresConnection]:
        """Replicas starting together take turns: the second finds the work done."""
        async with self.pool.acquire() as raw:
            await raw.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                yield PostgresConnection(raw)
            finally:
                await raw.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

    async def _apply(self, connection: Connection, version: int, name: str, sql: str) -> None:
        assert isinstance(connection, PostgresConnection)
        async with connection.raw.transaction():
            for statement in split_statements(sql):
                await connection.raw.execute(postgres_ddl(statement))
            await connection.execute(
                "INSERT INTO schema_version (version, name) VALUES (?, ?)", (version, name)
            )
            await resync_identities(connection)

    async def tables(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT table_name FROM information_schema.tables"
            " WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            " AND table_name <> 'schema_version' ORDER BY table_name"
        )
        return [row[0] for row in rows]


async def resync_identities(connection: PostgresConnection) -> None:
    """Move every identity counter past the highest id present.

    Rows copied in with their ids (a table rebuilt by a migration, `outagebot migrate-data`)
    leave the counter behind, and the next insert would collide.
    """
    rows = await connection.fetchall(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND column_name = 'id' AND is_identity = 'YES'"
    )
    for row in rows:
        table = row[0]
        await connection.raw.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        )

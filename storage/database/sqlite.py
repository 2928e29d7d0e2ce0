"""SQLite through aiosqlite: one connection, one writer at a time.

aiosqlite runs every statement on one background thread per connection, so a single connection
already serialises access; the asyncio lock makes a transaction exclusive across awaits, so one
writer's statements never interleave with another's.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from functools import lru_cache
from itertools import chain, islice
from pathlib import Path
from typing import Any

import aiosqlite

from storage.bulk import no_cycle_collection
from storage.database.dialect import SQLITE, insert_values
from storage.database.protocol import Connection, Database, Row
from storage.database.schema import split_statements
from storage.database.urls import is_environmental, is_postgres, sqlite_path, unavailable

# Rows a plain INSERT takes at once (fewer if the values would pass SQLite's limit on them).
# Measured on 300,000 five-column observations: a statement a row 1.8 CPU s, 100 rows 1.5 s,
# 1,000 rows 1.1 s; the per-row cost is SQLite opening the table's and every index's cursor
# and the sqlite3 module's per-execution bookkeeping, paid once per statement instead.
ROWS_PER_INSERT = 1000


@lru_cache(maxsize=1)
def _variable_limit() -> int:
    """How many values one statement may bind in this SQLite library (32,766 since 3.32)."""
    probe = sqlite3.connect(":memory:")
    try:
        return probe.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    finally:
        probe.close()


@lru_cache(maxsize=256)
def _multirow(sql: str) -> tuple[str, int, int] | None:
    """For a plain `INSERT … VALUES (?, …) [ON CONFLICT … DO NOTHING]`: the statement inserting
    many rows at once, how many, and the values a row; None for any other statement."""
    insert = insert_values(sql)
    if insert is None or insert.width == 0:
        return None
    rows = min(ROWS_PER_INSERT, _variable_limit() // insert.width)
    if rows < 2:
        return None
    group = "(" + ", ".join("?" * insert.width) + ")"
    return f"{insert.head}{', '.join([group] * rows)}{insert.tail}", rows, insert.width


class SqliteConnection:
    """aiosqlite's connection with the reads the PostgreSQL side offers too."""

    __slots__ = ("raw",)

    def __init__(self, raw: aiosqlite.Connection) -> None:
        self.raw = raw

    @property
    def total_changes(self) -> int:
        return self.raw.total_changes

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.raw.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Each row, in order; a plain INSERT takes them a thousand at a time.

        Row by row and many at once insert the same rows in the same order (ON CONFLICT still
        judges each row, against those before it too) and count the same changes; an error
        still fails the caller's transaction. Rows that are not all tuples or lists of the
        statement's width go one at a time, where the sqlite3 module says what is wrong.
        """
        batched = _multirow(sql)
        if batched is None:
            await self.raw.executemany(sql, rows)
            return
        statement, per_statement, width = batched
        with no_cycle_collection():
            listed = rows if isinstance(rows, list) else list(rows)
            whole = len(listed) - len(listed) % per_statement
            kinds = set(map(type, listed))  # len() only of what surely has one
            well_formed = kinds <= {tuple, list} and set(map(len, listed)) == {width}
            values = list(chain.from_iterable(islice(listed, whole))) if well_formed else []
        if not values:
            await self.raw.executemany(sql, listed)
            return
        await self.raw.executemany(statement, _slices(values, per_statement * width))
        if whole < len(listed):
            await self.raw.executemany(sql, listed[whole:])

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self.raw.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self.raw.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


def _slices(values: list[Any], size: int) -> Iterator[list[Any]]:
    return (values[start : start + size] for start in range(0, len(values), size))


class SqliteDatabase(Database):
    dialect = SQLITE

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self.raw = connection
        self.connection = SqliteConnection(connection)
        self.path = path
        self.target = path
        self._lock = asyncio.Lock()

    @classmethod
    def takes(cls, target: str | Path) -> bool:
        return not is_postgres(target)  # a bare path, or sqlite:///…

    @classmethod
    async def open_target(cls, target: str | Path, *, pool_size: int) -> SqliteDatabase:
        try:
            return await cls.connect(sqlite_path(target))
        except (OSError, sqlite3.Error) as error:
            if isinstance(error, sqlite3.Error) and not is_environmental(error):
                raise
            raise unavailable(target, error) from None

    @classmethod
    async def connect(cls, path: str) -> SqliteDatabase:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so a transaction means exactly
        # what `transaction()` says.
        connection = await aiosqlite.connect(path, isolation_level=None)
        connection.row_factory = aiosqlite.Row
        database = cls(connection, path)
        try:
            await database._configure()
            await database.migrate()
        except BaseException:
            await connection.close()  # its worker thread would otherwise keep the process alive
            raise
        return database

    async def _configure(self) -> None:
        for pragma in (
            "PRAGMA journal_mode = WAL",  # readers (other processes too) never block the writer
            "PRAGMA synchronous = NORMAL",  # durable at checkpoints; safe with WAL
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 5000",  # an `outagebot import` from cron may hold the lock
        ):
            await self.raw.execute(pragma)

    async def close(self) -> None:
        await self.raw.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteConnection]:
        """A write transaction; a full disk or a read-only file becomes DatabaseUnavailable.

        SQLite rolls back by itself after a full disk or an I/O error, so a ROLLBACK of ours
        would fail with "no transaction is active" and hide the error that matters.
        """
        async with self._lock:
            try:
                await self.raw.execute("BEGIN IMMEDIATE")
                try:
                    yield self.connection
                except BaseException:
                    if self.raw.in_transaction:
                        await self.raw.execute("ROLLBACK")
                    raise
                else:
                    await self.raw.execute("COMMIT")
            except sqlite3.Error as error:
                if self.raw.in_transaction:  # a COMMIT that failed leaves it open
                    await self.raw.execute("ROLLBACK")
                if is_environmental(error):
                    raise unavailable(self.path, error, doing="write to") from None
                raise

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return await self.connection.fetchall(sql, params)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return await self.connection.fetchone(sql, params)

    @asynccontextmanager
    async def _migrating(self) -> AsyncIterator[SqliteConnection]:
        yield self.connection  # one file, and BEGIN IMMEDIATE in _apply serialises writers

    async def _apply(self, connection: Connection, version: int, name: str, sql: str) -> None:
        async with self.transaction() as writer:
            for statement in split_statements(sql):
                await writer.execute(statement)
            await writer.execute(
                "INSERT INTO schema_version (version, name) VALUES (?, ?)", (version, name)
            )

    async def tables(self) -> list[str]:
        rows = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name <> 'schema_version' ORDER BY name"
        )
        return [row[0] for row in rows]

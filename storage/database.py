"""One SQLite file, opened with the pragmas the bot relies on and migrated on open.

aiosqlite runs every statement on one background thread per connection, so a single connection
already serialises access; the asyncio lock makes a transaction exclusive across awaits, so one
writer's statements never interleave with another's.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class Database:
    def __init__(self, connection: aiosqlite.Connection, path: Path | str) -> None:
        self.connection = connection
        self.path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves so a transaction means exactly
        # what `transaction()` says.
        connection = await aiosqlite.connect(str(path), isolation_level=None)
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
            await self.connection.execute(pragma)

    async def close(self) -> None:
        await self.connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """All statements inside land together or not at all."""
        async with self._lock:
            await self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                await self.connection.execute("ROLLBACK")
                raise
            else:
                await self.connection.execute("COMMIT")

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        async with self.connection.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        async with self.connection.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def schema_version(self) -> int:
        return int(await self.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version"))

    async def migrate(self) -> int:
        """Apply every numbered migration not applied yet, in order; return the highest version.

        Missing versions are applied even below the highest one, so migrations written on two
        branches at once (0005 landing after 0006) still all run.
        """
        await self.connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL"
            " DEFAULT CURRENT_TIMESTAMP)"
        )
        applied = {row[0] for row in await self.fetchall("SELECT version FROM schema_version")}
        for version, name, sql in migrations():
            if version in applied:
                continue
            async with self.transaction() as connection:
                for statement in split_statements(sql):
                    await connection.execute(statement)
                await connection.execute(
                    "INSERT INTO schema_version (version, name) VALUES (?, ?)", (version, name)
                )
        return await self.schema_version()


def migrations() -> Iterable[tuple[int, str, str]]:
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def split_statements(sql: str) -> list[str]:
    """Statements of a migration file: executescript() would commit behind our transaction.

    sqlite3.complete_statement knows comments and string literals, so a `;` inside either does
    not end a statement.
    """
    statements: list[str] = []
    current: list[str] = []
    for line in sql.splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text and sqlite3.complete_statement(text):
            statements.append(text)
            current = []
    rest = "\n".join(current).strip()
    if rest and not all(
        line.lstrip().startswith("--") for line in rest.splitlines() if line.strip()
    ):
        raise ValueError(f"migration ends with an incomplete statement: {rest[:80]!r}")
    return statements

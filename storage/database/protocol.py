"""What storage functions speak to, the same on both engines: `Database` and its `Connection`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from storage.database import schema
from storage.database.dialect import Dialect
from storage.database.urls import (
    DatabaseUnavailable,
    UnsupportedDatabase,
    database_target,
    redacted,
)


class Row(Protocol):
    """A result row, by position or by column name (sqlite3.Row and asyncpg.Record both)."""

    def __getitem__(self, key: int | str) -> Any: ...

    def keys(self) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...


class Cursor(Protocol):
    rowcount: int

    async def fetchall(self) -> Iterable[Row]: ...

    async def fetchone(self) -> Row | None: ...


class Connection(Protocol):
    """What storage functions use inside a transaction, the same on both engines."""

    @property
    def total_changes(self) -> int: ...

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any: ...


class Database(ABC):
    """One of the two engines; storage functions take it and never ask which."""

    dialect: Dialect
    target: str

    @staticmethod
    async def open(target: str | Path, *, pool_size: int = 10) -> Database:
        """A path or `sqlite:///…` opens SQLite; `postgresql://…` connects to PostgreSQL.

        Either way the schema is brought up to date before the database is handed out.
        """
        try:
            target = database_target(target)
        except UnsupportedDatabase as error:
            raise DatabaseUnavailable(f"cannot open the database: {error}") from None
        # Each engine subclasses Database and says which targets it takes, so this module
        # needs neither (storage.database imports both).
        for engine in Database.__subclasses__():
            if engine.takes(target):
                return await engine.open_target(target, pool_size=pool_size)
        raise DatabaseUnavailable(f"no database engine takes {redacted(target)}")

    @classmethod
    @abstractmethod
    def takes(cls, target: str | Path) -> bool:
        """Whether a target (as a person wrote it) names a database of this engine."""

    @classmethod
    @abstractmethod
    async def open_target(cls, target: str | Path, *, pool_size: int) -> Database:
        """Open and migrate; a target that cannot be opened raises DatabaseUnavailable."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def transaction(self) -> Any:
        """An async context manager yielding a `Connection`: all of it lands, or none."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

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
        async with self._migrating() as connection:
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL"
                " DEFAULT CURRENT_TIMESTAMP)"
            )
            applied = {
                row[0] for row in await connection.fetchall("SELECT version FROM schema_version")
            }
            for version, name, sql in schema.migrations():
                if version in applied:
                    continue
                await self._apply(connection, version, name, sql)
        return await self.schema_version()

    @abstractmethod
    def _migrating(self) -> Any:
        """A connection no other process migrates through at the same time."""

    @abstractmethod
    async def _apply(self, connection: Connection, version: int, name: str, sql: str) -> None: ...

    @abstractmethod
    async def tables(self) -> list[str]:
        """The application's tables (schema_version left out), for copying and checks."""

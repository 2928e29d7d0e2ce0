"""The database: one SQLite file by default, or PostgreSQL when the bot outgrows one machine.

Storage functions are written once, in the SQL both engines share (`?` placeholders, ON CONFLICT,
integer UTC times, window functions). What truly differs lives here: how a statement's
placeholders are spelled, the column types a migration declares, how a transaction begins, and
the few clauses one engine has and the other lacks (`Dialect`).

SQLite: aiosqlite runs every statement on one background thread per connection, so a single
connection already serialises access; the asyncio lock makes a transaction exclusive across
awaits, so one writer's statements never interleave with another's.

PostgreSQL: a pool of asyncpg connections; each transaction takes one, so replicas and
concurrent handlers write side by side, and row locks (`FOR UPDATE SKIP LOCKED`) decide who
takes which outbox row.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

import aiosqlite

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite://"
# Any fixed number: the key of the advisory lock that lets one replica migrate at a time.
MIGRATION_LOCK = 0x6F75_7461_6765  # "outage"


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


@dataclass(frozen=True, slots=True)
class Dialect:
    """The few spellings that differ between the engines."""

    name: str
    # Appended to a SELECT that claims rows: other replicas skip the rows one has claimed.
    # SQLite has one writer at a time, so it needs (and has) no such clause.
    skip_locked: str

    def utf8_bytes(self, column: str) -> str:
        """An expression giving a text column's UTF-8 bytes (kept compact in memory)."""
        if self.name == "postgresql":
            return f"convert_to({column}, 'UTF8')"
        return f"CAST({column} AS BLOB)"


SQLITE = Dialect("sqlite", "")
POSTGRESQL = Dialect("postgresql", " FOR UPDATE SKIP LOCKED")


# The URL schemes each engine answers to, as other tools spell them (SQLAlchemy's driver suffixes
# included), so a URL copied from another project's settings works as it is.
_SCHEMES = {
    "sqlite": SQLITE_SCHEME,
    "sqlite3": SQLITE_SCHEME,
    "sqlite+aiosqlite": SQLITE_SCHEME,
    "sqlite+pysqlite": SQLITE_SCHEME,
    "postgresql": "postgresql://",
    "postgres": "postgresql://",
    "postgresql+asyncpg": "postgresql://",
    "postgresql+psycopg": "postgresql://",
    "postgresql+psycopg2": "postgresql://",
    "pgsql": "postgresql://",
}
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


class UnsupportedDatabase(ValueError):
    """A URL naming an engine the bot does not run on; the message names the scheme only."""


def database_target(target: str | Path) -> str:
    """The target in the spelling the rest of this module reads: a path, `sqlite://…` or
    `postgresql://…`.

    Any other `scheme://` is refused: taken as a file path it would create a SQLite file named
    after the URL, password and all, and the bot would answer from an empty database.
    """
    text = str(target)
    match = _URL.match(text)
    if match is None:
        return text
    scheme = _SCHEMES.get(match.group(1).lower())
    if scheme is None:
        raise UnsupportedDatabase(
            f"the bot cannot use a {match.group(1)}:// database; give a SQLite file path,"
            " sqlite:///file.db or postgresql://user:password@host/db"
        )
    return scheme + text[match.end() :]


def is_postgres(target: str | Path) -> bool:
    return str(target).startswith(POSTGRES_SCHEMES)


def sqlite_path(target: str | Path) -> str:
    """`sqlite:///relative.db`, `sqlite:////abs/file.db` or a bare path, as a file path."""
    text = str(target)
    if text.startswith(SQLITE_SCHEME):
        text = text[len(SQLITE_SCHEME) :]
        return text[1:] if text.startswith("/") else text
    return text


def redacted(target: str | Path) -> str:
    """A database target fit for logs and messages: a URL's password replaced by ***."""
    text = str(target)
    if not _URL.match(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def password_of(target: str | Path) -> str | None:
    """The secret a logger must scrub, if the target carries one."""
    return urlsplit(str(target)).password if _URL.match(str(target)) else None


class DatabaseUnavailable(Exception):
    """The database cannot be used (opened, or written): one line for the person running the bot,
    naming the database, what is wrong and what to do."""


# What the environment did to a SQLite file, by SQLite's primary result code, and what a person
# can do about it. Extended codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED) share the advice.
_SQLITE_ADVICE = {
    "SQLITE_READONLY": "it is read-only for this user: make the file and its folder writable (the"
    " folder holds the -wal and -shm files beside it), or use another path",
    "SQLITE_CANTOPEN": "the file cannot be opened: check that its folder exists and that this user"
    " may write there, or use another path",
    "SQLITE_PERM": "this user may not write it: check its permissions, or use another path",
    "SQLITE_FULL": "the disk is full: free some space, then run the command again",
    "SQLITE_IOERR": "the disk refused a read or write (most often because it is full): free some"
    " space or check the disk, then run the command again",
    "SQLITE_NOTADB": "it is not a SQLite database: give the bot's own database file, or a path"
    " where none exists yet to start a new one",
    "SQLITE_CORRUPT": "the file is damaged: restore it from a backup, or start a new one elsewhere",
}


def _unavailable(
    target: str | Path, error: BaseException, *, doing: str = "open"
) -> DatabaseUnavailable:
    why = str(error) or type(error).__name__
    password = password_of(target)
    if password:
        why = why.replace(password, "***")
    code = getattr(error, "sqlite_errorname", "") or ""
    advice = next((text for name, text in _SQLITE_ADVICE.items() if code.startswith(name)), None)
    if advice is not None:
        why = f"{advice} ({why}); nothing was changed"
    return DatabaseUnavailable(f"cannot {doing} the database {redacted(target)}: {why}")


def is_environmental(error: BaseException) -> bool:
    """A SQLite error that the disk, the file or its permissions caused, not the statement."""
    code = getattr(error, "sqlite_errorname", "") or ""
    return isinstance(error, sqlite3.Error) and code.startswith(tuple(_SQLITE_ADVICE))


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
        if is_postgres(target):
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
                return await PostgresDatabase.connect(str(target), pool_size=pool_size)
            except refused as error:
                raise _unavailable(target, error) from None
        try:
            return await SqliteDatabase.connect(sqlite_path(target))
        except (OSError, sqlite3.Error) as error:
            if isinstance(error, sqlite3.Error) and not is_environmental(error):
                raise
            raise _unavailable(target, error) from None

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
            for version, name, sql in migrations():
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


# ---------------------------------------------------------------------------------- SQLite


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
        await self.raw.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        async with self.raw.execute(sql, params) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        async with self.raw.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class SqliteDatabase(Database):
    dialect = SQLITE

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self.raw = connection
        self.connection = SqliteConnection(connection)
        self.path = path
        self.target = path
        self._lock = asyncio.Lock()

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
                    raise _unavailable(self.path, error, doing="write to") from None
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


# ------------------------------------------------------------------------------ PostgreSQL


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, …`; a `?` in a literal or identifier stays."""
    out: list[str] = []
    number = 0
    quote: str | None = None
    index = 0
    while index < len(sql):
        char = sql[index]
        if quote is not None:
            out.append(char)
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
            out.append(char)
        elif char == "-" and sql.startswith("--", index):
            end = sql.find("\n", index)
            end = len(sql) if end == -1 else end
            out.append(sql[index:end])
            index = end
            continue
        elif char == "?":
            number += 1
            out.append(f"${number}")
        else:
            out.append(char)
        index += 1
    return "".join(out)


_ID_COLUMN = re.compile(r"\bid(\s+)INTEGER\s+PRIMARY\s+KEY\b", re.IGNORECASE)
_TYPES = (
    (re.compile(r"\bINTEGER\b", re.IGNORECASE), "BIGINT"),  # chat ids outgrow 32 bits
    (re.compile(r"\bREAL\b", re.IGNORECASE), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b", re.IGNORECASE), "BYTEA"),
)


def postgres_ddl(statement: str) -> str:
    """A migration statement as PostgreSQL declares it: the one per-dialect step migrations take.

    SQLite's `id INTEGER PRIMARY KEY` numbers rows by itself; PostgreSQL needs an identity
    column for that. Integers become BIGINT because Telegram chat ids need 64 bits.
    """
    text = _ID_COLUMN.sub(r"id\1BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", statement)
    for pattern, replacement in _TYPES:
        text = pattern.sub(replacement, text)
    return text


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


MULTIROW_ROWS = 500
MAX_PARAMETERS = 32_767  # PostgreSQL's wire protocol counts parameters in 16 bits (signed)
_INSERT_VALUES = re.compile(
    r"^(?P<head>\s*INSERT\s+INTO\s+.+?\)\s*VALUES\s*)\((?P<marks>[?,\s]+)\)"
    r"(?P<tail>\s*(ON\s+CONFLICT\b.*\bDO\s+NOTHING)?\s*)$",
    re.IGNORECASE | re.DOTALL,
)


@lru_cache(maxsize=256)
def multirow_insert(sql: str) -> Any:
    """For `INSERT … VALUES (?, …) [ON CONFLICT … DO NOTHING]`, a function making the statement
    for n rows at once, returning one row per inserted row; None for any other statement.

    DO UPDATE is left out on purpose: PostgreSQL refuses a multi-row statement that updates the
    same row twice, which one-row-at-a-time would allow.
    """
    match = _INSERT_VALUES.match(sql)
    if match is None or "RETURNING" in sql.upper():
        return None
    head, tail = match.group("head"), match.group("tail").rstrip()

    @lru_cache(maxsize=64)
    def statement(count: int, width: int) -> str:
        groups = ", ".join(
            "(" + ", ".join(f"${row * width + column + 1}" for column in range(width)) + ")"
            for row in range(count)
        )
        return f"{head}{groups}{tail} RETURNING 1"

    return statement


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


# ------------------------------------------------------------------------------ migrations


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

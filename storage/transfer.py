"""Copying one database into another (SQLite to PostgreSQL, mostly), resumably and verifiably.

A copy can take long and be cut short (Ctrl-C, a dropped connection), so each batch of rows
lands in one target transaction together with a checkpoint in `migrate_data_progress`: after
an interruption the target holds whole batches only, and a rerun continues after the last
checkpoint. Checkpoints hold the *source's* key of the last row copied, because only the source
orders its keys the way the next batch is read (PostgreSQL's text collation may not agree with
SQLite's byte order).

Verification reads both sides completely and compares a count and an order-free checksum per
table, computed from the values as Python sees them, so it means the same on either engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storage.database import (
    Database,
    PostgresConnection,
    PostgresDatabase,
    SqliteDatabase,
    redacted,
    resync_identities,
)

PROGRESS_TABLE = "migrate_data_progress"
STAGE_TABLE = "migrate_data_stage"  # PostgreSQL only: temporary, gone at each commit
DEFAULT_BATCH = 5_000
CHECKSUM_MODULUS = 2**256


class TransferError(Exception):
    """Why a copy cannot start or go on; the message says what to do about it."""


class SchemaMismatch(TransferError):
    """The two databases are at different migrations: rows would not mean the same."""


class TargetInUse(TransferError):
    """The target holds rows no copy of ours put there: copying in would mix two databases."""


class RowRefused(TransferError):
    """The target refused one source row; its batch was rolled back, the checkpoint kept."""

    def __init__(self, table: str, key: str, reason: str) -> None:
        super().__init__(f"{table}: the target refused the row {key}: {reason}")
        self.table = table
        self.key = key
        self.reason = reason


@dataclass(frozen=True, slots=True)
class TableShape:
    """A table as the copy sees it: its columns in order and its primary key."""

    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]

    def key_of(self, row: Sequence[Any]) -> list[Any]:
        return [row[self.columns.index(column)] for column in self.key]


@dataclass(frozen=True, slots=True)
class TableProgress:
    """Where one table's copy stands, after a batch landed or when a table is passed over."""

    table: str
    copied: int  # rows copied so far, this run and earlier ones together
    total: int  # rows in the source when this run reached the table
    done: bool
    earlier: int  # of `copied`, the rows an interrupted earlier run had copied
    finished_earlier: bool  # an earlier run copied all of it; this one passed it over


@dataclass(frozen=True, slots=True)
class TableCheck:
    """One table read in full on both sides: equal counts alone would miss a changed value."""

    table: str
    source_rows: int
    target_rows: int
    source_checksum: int
    target_checksum: int

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_checksum == self.target_checksum


Progress = Callable[[TableProgress], None]


def quoted(identifier: str) -> str:
    """An identifier both engines read literally: "end" and "on" are column names here."""
    return '"' + identifier.replace('"', '""') + '"'


def _columns(names: Iterable[str]) -> str:
    return ", ".join(quoted(name) for name in names)


# --------------------------------------------------------------------------- the schema


async def table_shapes(db: Database) -> dict[str, TableShape]:
    """Every application table with its columns and primary key, read from the catalog.

    Read rather than listed, so a table a later migration adds is copied without anyone
    remembering to add it here.
    """
    names = [name for name in await db.tables() if name != PROGRESS_TABLE]
    shapes: dict[str, TableShape] = {}
    for name in names:
        if db.dialect.name == "postgresql":
            columns = await db.fetchall(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND table_name = ?"
                " ORDER BY ordinal_position",
                (name,),
            )
            key = await db.fetchall(
                "SELECT k.column_name FROM information_schema.table_constraints c"
                " JOIN information_schema.key_column_usage k"
                " ON k.constraint_schema = c.constraint_schema"
                " AND k.constraint_name = c.constraint_name AND k.table_name = c.table_name"
                " WHERE c.table_schema = current_schema() AND c.table_name = ?"
                " AND c.constraint_type = 'PRIMARY KEY' ORDER BY k.ordinal_position",
                (name,),
            )
            shape = TableShape(name, tuple(row[0] for row in columns), tuple(row[0] for row in key))
        else:
            info = await db.fetchall(
                "SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", (name,)
            )
            in_key = sorted((row[1], row[0]) for row in info if row[1])
            shape = TableShape(
                name, tuple(row[0] for row in info), tuple(column for _, column in in_key)
            )
        if not shape.key:
            raise TransferError(
                f"table {name} has no primary key: migrate-data reads each table in key order"
                " to resume where it stopped, so it cannot copy this one"
            )
        shapes[name] = shape
    return shapes


async def foreign_parents(db: Database, tables: Iterable[str]) -> dict[str, set[str]]:
    """For each table, the tables its foreign keys point at (which must be filled first)."""
    parents: dict[str, set[str]] = {}
    for name in tables:
        if db.dialect.name == "postgresql":
            rows = await db.fetchall(
                "SELECT DISTINCT parent.relname FROM pg_constraint k"
                " JOIN pg_class child ON child.oid = k.conrelid"
                " JOIN pg_class parent ON parent.oid = k.confrelid"
                " JOIN pg_namespace n ON n.oid = child.relnamespace"
                " WHERE k.contype = 'f' AND n.nspname = current_schema() AND child.relname = ?",
                (name,),
            )
        else:
            rows = await db.fetchall(
                'SELECT DISTINCT "table" FROM pragma_foreign_key_list(?)', (name,)
            )
        parents[name] = {row[0] for row in rows}
    return parents


def parents_first(tables: Iterable[str], parents: Mapping[str, set[str]]) -> list[str]:
    """The tables ordered so that every table comes after the tables it references.

    Ties go by name, so the order is the same on every run. A cycle (none exists today) is
    broken by name order; the target then refuses a row and says which.
    """
    remaining = sorted(tables)
    placed: list[str] = []
    while remaining:
        waiting = set(remaining)
        ready = [
            name for name in remaining if not (parents.get(name, set()) - {name}) & waiting
        ] or remaining[:1]
        placed += ready
        remaining = [name for name in remaining if name not in ready]
    return placed


# ------------------------------------------------------------------------------ reading


def _after(shape: TableShape, last_key: Sequence[Any] | None) -> tuple[str, list[Any]]:
    if last_key is None:
        return "", []
    marks = ", ".join("?" for _ in shape.key)
    return f" WHERE ({_columns(shape.key)}) > ({marks})", list(last_key)


async def read_batch(
    db: Database, shape: TableShape, last_key: Sequence[Any] | None, limit: int
) -> list[tuple[Any, ...]]:
    """The next `limit` rows after `last_key` in the table's key order (keyset pagination).

    A row-value comparison uses the primary key's index on both engines, so every batch costs
    the same however deep into the table it starts.
    """
    where, params = _after(shape, last_key)
    rows = await db.fetchall(
        f"SELECT {_columns(shape.columns)} FROM {quoted(shape.name)}{where}"
        f" ORDER BY {_columns(shape.key)} LIMIT ?",
        [*params, limit],
    )
    return [tuple(row) for row in rows]


async def stream_rows(
    db: Database, shape: TableShape, batch: int
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Every row of a table, a batch at a time, in no particular order.

    A plain scan rather than key pages: verification must not share the copy's assumptions
    (a row the key order cannot reach would be missed by both alike).
    """
    sql = f"SELECT {_columns(shape.columns)} FROM {quoted(shape.name)}"
    if isinstance(db, PostgresDatabase):
        async with db.pool.acquire() as raw, raw.transaction(readonly=True):
            cursor = await raw.cursor(sql)
            while rows := await cursor.fetch(batch):
                yield [tuple(row) for row in rows]
    elif isinstance(db, SqliteDatabase):
        async with db.raw.execute(sql) as cursor:
            while rows := await cursor.fetchmany(batch):
                yield [tuple(row) for row in rows]
    else:
        raise TypeError(f"cannot stream rows from {type(db).__name__}")


# ------------------------------------------------------------------------------ copying


async def _ensure_progress_table(target: Database) -> None:
    async with target.transaction() as connection:
        await connection.execute(
            f"CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} ("
            " table_name TEXT PRIMARY KEY, last_key TEXT NOT NULL, copied BIGINT NOT NULL,"
            " done INTEGER NOT NULL)"
        )


async def _occupied_tables(target: Database, tables: Iterable[str]) -> list[str]:
    found = []
    for name in tables:
        if await target.scalar(f"SELECT 1 FROM {quoted(name)} LIMIT 1") is not None:
            found.append(name)
    return found


def _insert_sql(shape: TableShape) -> str:
    marks = ", ".join("?" for _ in shape.columns)
    return (
        f"INSERT INTO {quoted(shape.name)} ({_columns(shape.columns)}) VALUES ({marks})"
        " ON CONFLICT DO NOTHING"
    )


async def _insert_batch(connection: Any, shape: TableShape, rows: Sequence[Sequence[Any]]) -> None:
    if not isinstance(connection, PostgresConnection):
        await connection.executemany(_insert_sql(shape), rows)
        return
    # COPY into a scratch table, then one INSERT … SELECT: about twice as fast as a statement
    # a row (the target's indexes cost the rest), and ON CONFLICT still applies.
    stage = quoted(STAGE_TABLE)
    await connection.raw.execute(
        f"CREATE TEMPORARY TABLE {stage} (LIKE {quoted(shape.name)}) ON COMMIT DROP"
    )
    await connection.raw.copy_records_to_table(STAGE_TABLE, records=rows, columns=shape.columns)
    columns = _columns(shape.columns)
    await connection.raw.execute(
        f"INSERT INTO {quoted(shape.name)} ({columns}) SELECT {columns} FROM {stage}"
        " ON CONFLICT DO NOTHING"
    )


async def _checkpoint(
    connection: Any, table: str, last_key: Sequence[Any], copied: int, done: bool
) -> None:
    await connection.execute(
        f"INSERT INTO {PROGRESS_TABLE} (table_name, last_key, copied, done) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (table_name) DO UPDATE SET last_key = excluded.last_key,"
        " copied = excluded.copied, done = excluded.done",
        (table, json.dumps(list(last_key)), copied, int(done)),
    )


async def _integer_columns(target: Database, shape: TableShape) -> list[int]:
    """Positions of the columns the target declares as integers (PostgreSQL only)."""
    if target.dialect.name != "postgresql":
        return []
    rows = await target.fetchall(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND table_name = ? AND data_type IN ('smallint', 'integer', 'bigint')",
        (shape.name,),
    )
    names = {row[0] for row in rows}
    return [index for index, column in enumerate(shape.columns) if column in names]


def _refuse_non_integers(
    shape: TableShape, rows: Sequence[Sequence[Any]], integers: Sequence[int]
) -> None:
    """Refuse what PostgreSQL would refuse but asyncpg lets through: asyncpg's encoder turns
    5.5 (which SQLite keeps as it is, even in an INTEGER column) into 5, silently."""
    for index in integers:
        if {type(row[index]) for row in rows} <= {int, type(None)}:
            continue
        for row in rows:
            value = row[index]
            if value is not None and type(value) is not int:
                raise RowRefused(
                    shape.name,
                    _key_text(shape, row),
                    f"{shape.columns[index]} is {value!r}, and the target's column holds integers",
                )


def _key_text(shape: TableShape, row: Sequence[Any]) -> str:
    return ", ".join(
        f"{column}={value!r}" for column, value in zip(shape.key, shape.key_of(row), strict=True)
    )


class _Rollback(Exception):
    """Leaves a trial transaction the only way that undoes it: by raising."""


async def _refused_row(
    target: Database, shape: TableShape, rows: Sequence[Sequence[Any]], error: Exception
) -> RowRefused:
    """Which row of a failed batch the target refuses, found by trying them one at a time.

    The trial runs in a transaction that is always rolled back. When no single row fails
    (the batch broke for another reason, such as a lost connection), the original error stands.
    """
    refused: RowRefused | None = None
    try:
        with contextlib.suppress(_Rollback):
            async with target.transaction() as connection:
                for row in rows:
                    try:
                        await connection.execute(_insert_sql(shape), row)
                    except Exception as why:
                        reason = str(why).strip() or type(why).__name__
                        refused = RowRefused(shape.name, _key_text(shape, row), reason)
                        break
                raise _Rollback
    except Exception:
        raise error from None
    if refused is None:
        raise error
    return refused


async def copy_table(
    source: Database,
    target: Database,
    shape: TableShape,
    *,
    batch: int,
    progress: Progress | None = None,
) -> int:
    """Copy one table from where its checkpoint says; return the rows copied in all runs."""
    row = await target.fetchone(
        f"SELECT last_key, copied, done FROM {PROGRESS_TABLE} WHERE table_name = ?",
        (shape.name,),
    )
    last_key: list[Any] | None = (json.loads(row[0]) or None) if row is not None else None
    copied = earlier = int(row[1]) if row is not None else 0
    total = int(await source.scalar(f"SELECT COUNT(*) FROM {quoted(shape.name)}"))
    if row is not None and row[2]:
        if progress is not None:
            progress(TableProgress(shape.name, copied, total, True, earlier, True))
        return copied
    integers = await _integer_columns(target, shape)
    while True:
        rows = await read_batch(source, shape, last_key, batch)
        done = len(rows) < batch
        if rows:
            _refuse_non_integers(shape, rows, integers)
            try:
                async with target.transaction() as connection:
                    await _insert_batch(connection, shape, rows)
                    await _checkpoint(
                        connection, shape.name, shape.key_of(rows[-1]), copied + len(rows), done
                    )
            except Exception as error:
                raise await _refused_row(target, shape, rows, error) from error
            last_key = shape.key_of(rows[-1])
            copied += len(rows)
        else:
            async with target.transaction() as connection:
                await _checkpoint(connection, shape.name, last_key or [], copied, True)
        if progress is not None:
            progress(TableProgress(shape.name, copied, total, done, earlier, False))
        if done:
            return copied


async def copy_database(
    source: Database,
    target: Database,
    *,
    batch: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> list[TableShape]:
    """Copy every application table, parents first; return the tables in the order copied.

    Refuses, changing nothing, when the schemas differ or when the target already holds rows
    without being an interrupted copy (that is somebody's live database).
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    versions = (await source.schema_version(), await target.schema_version())
    if versions[0] != versions[1]:
        raise SchemaMismatch(
            f"the source is at schema version {versions[0]}, the target at {versions[1]}:"
            " the newer one was written by a newer outagebot. Upgrade outagebot and rerun;"
            " both databases are then brought to the same version before anything is copied."
        )
    shapes = await table_shapes(source)
    target_shapes = await table_shapes(target)
    for name, shape in shapes.items():
        other = target_shapes.get(name)
        if other is None or set(other.columns) != set(shape.columns):
            raise SchemaMismatch(
                f"table {name} differs between source and target although both are at schema"
                f" version {versions[0]}: was one of them changed by hand?"
            )
    if PROGRESS_TABLE not in await target.tables():
        occupied = await _occupied_tables(target, target_shapes)
        if occupied:
            raise TargetInUse(
                f"{redacted(target.target)} already holds rows ({', '.join(occupied[:4])}"
                f"{', …' if len(occupied) > 4 else ''}) and is not an interrupted copy (it has"
                f" no {PROGRESS_TABLE} table). Nothing was changed. Copy into a new, empty"
                " database instead."
            )
        await _ensure_progress_table(target)
    order = parents_first(shapes, await foreign_parents(source, shapes))
    for name in order:
        await copy_table(source, target, shapes[name], batch=batch, progress=progress)
    if target.dialect.name == "postgresql":
        async with target.transaction() as connection:
            await resync_identities(connection)
    return [shapes[name] for name in order]


# ---------------------------------------------------------------------------- verifying


# Values json writes exactly as the checksum wants them: ints as digits, floats as their repr.
_PLAIN = frozenset({int, float, str, type(None)})
_json = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode


def _canonical(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if value is None or isinstance(value, str | int | float):
        return value  # json writes a float as its repr, an int as its digits
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def row_checksum(values: Sequence[Any]) -> int:
    """A row's hash as an integer, the same whichever engine the values came from."""
    if _PLAIN.issuperset(map(type, values)):  # nearly every row: skip the per-value calls
        text = _json(values)
    else:
        text = _json([_canonical(value) for value in values])
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest(), "big")


async def table_checksum(db: Database, shape: TableShape, *, batch: int) -> tuple[int, int]:
    """(rows, checksum): the sum of the rows' hashes mod 2**256, so row order does not matter."""
    count = total = 0
    async for rows in stream_rows(db, shape, batch):
        count += len(rows)
        total = (total + sum(row_checksum(row) for row in rows)) % CHECKSUM_MODULUS
    return count, total


async def verify_copy(
    source: Database, target: Database, shapes: Iterable[TableShape], *, batch: int = DEFAULT_BATCH
) -> list[TableCheck]:
    """Count and checksum every table on both sides; each side is read in full."""
    checks = []
    for shape in shapes:
        (source_rows, source_sum), (target_rows, target_sum) = await asyncio.gather(
            table_checksum(source, shape, batch=batch), table_checksum(target, shape, batch=batch)
        )
        checks.append(TableCheck(shape.name, source_rows, target_rows, source_sum, target_sum))
    return checks


def short_checksum(checksum: int) -> str:
    return f"{checksum:064x}"[:16]

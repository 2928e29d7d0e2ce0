"""The database on both engines: migrations, the all-or-nothing transaction, SQLite's pragmas."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest

from storage.database import Database, migrations


async def test_database_uses_wal_and_foreign_keys(database_path):
    db = await Database.open(database_path)
    try:
        assert (await db.scalar("PRAGMA journal_mode")) == "wal"
        assert (await db.scalar("PRAGMA foreign_keys")) == 1
    finally:
        await db.close()


async def test_migrations_are_numbered_and_applied_once(empty_database_target):
    latest = max(version for version, _, _ in migrations())
    db = await Database.open(empty_database_target)
    await db.close()
    db = await Database.open(empty_database_target)  # reopening applies nothing twice
    try:
        assert await db.schema_version() == latest
        assert await db.scalar("SELECT COUNT(*) FROM schema_version") == len(list(migrations()))
    finally:
        await db.close()


async def test_transaction_rolls_back_everything_on_error(database_target):
    db = await Database.open(database_target)
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as connection:
                await connection.execute("INSERT INTO sources (name) VALUES ('a')")
                raise RuntimeError("halfway")
        assert await db.scalar("SELECT COUNT(*) FROM sources") == 0
    finally:
        await db.close()


async def test_foreign_keys_are_enforced(database_target):
    db = await Database.open(database_target)
    try:
        with pytest.raises((sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)):
            async with db.transaction() as connection:
                await connection.execute(
                    "INSERT INTO observations (service, region, at, count, source_id)"
                    " VALUES ('x', 'PK', 0, 1, 999)"
                )
    finally:
        await db.close()


async def test_another_process_sees_committed_data_while_the_bot_holds_the_file(database_path):
    db = await Database.open(database_path)
    try:
        async with db.transaction() as connection:
            await connection.execute("INSERT INTO sources (name) VALUES ('cron import')")
        other = sqlite3.connect(database_path)
        try:
            assert other.execute("SELECT name FROM sources").fetchall() == [("cron import",)]
        finally:
            other.close()
    finally:
        await db.close()


INSERT_OBSERVATION = (
    "INSERT INTO observations (service, region, at, count, source_id) VALUES (?, ?, ?, ?, ?)"
    " ON CONFLICT (service, region, at, source_id) DO NOTHING"
)


async def test_thousands_of_rows_land_as_row_by_row_would(db):
    """Many rows go as multi-row statements; the rows, their order, which of two rows with the
    same key is kept (the first) and the count of changes are those of one row at a time."""
    rows = [("x", "PK", at, at % 7, 1) for at in range(2_345)]
    rows[1_000] = ("x", "PK", 999, 50, 1)  # the key of the row before it, across a batch edge
    rows[1_700] = ("x", "PK", 5, 60, 1)  # the key of a row stored by the first statement
    rows[2_300] = ("x", "PK", -1, 70, 1)  # the key of a row already in the table
    async with db.transaction() as connection:
        await connection.execute("INSERT INTO sources (id, name) VALUES (1, 'Monitor')")
        await connection.execute(INSERT_OBSERVATION, ("x", "PK", -1, 0, 1))
        before = connection.total_changes
        await connection.executemany(INSERT_OBSERVATION, rows)
        changes = connection.total_changes - before
    kept: dict[int, int] = {}
    for _, _, at, count, _ in rows:
        kept.setdefault(at, count)
    del kept[-1]
    assert changes == len(kept) == 2_342
    stored = await db.fetchall("SELECT at, count FROM observations ORDER BY id")
    assert [(row["at"], row["count"]) for row in stored] == [(-1, 0), *kept.items()]


async def test_one_bad_row_among_thousands_lands_none_of_them(db):
    rows = [("x", "PK", at, 1, 1) for at in range(2_500)]
    rows[1_800] = ("x", "PK", 1_800, -1, 1)  # CHECK (count >= 0)
    async with db.transaction() as connection:
        await connection.execute("INSERT INTO sources (id, name) VALUES (1, 'Monitor')")
    with pytest.raises((sqlite3.IntegrityError, asyncpg.CheckViolationError)):
        async with db.transaction() as connection:
            await connection.executemany(INSERT_OBSERVATION, rows)
    assert await db.scalar("SELECT COUNT(*) FROM observations") == 0


async def test_a_row_of_the_wrong_width_is_refused_by_sqlite_as_before(database_path):
    rows: list[tuple[object, ...]] = [("x", "PK", at, 1, 1) for at in range(1_500)]
    rows[1_200] = ("x", "PK", 1_200, 1)
    db = await Database.open(database_path)
    try:
        with pytest.raises(sqlite3.ProgrammingError, match="bindings"):
            async with db.transaction() as connection:
                await connection.execute("INSERT INTO sources (id, name) VALUES (1, 'Monitor')")
                await connection.executemany(INSERT_OBSERVATION, rows)
        assert await db.scalar("SELECT COUNT(*) FROM observations") == 0
    finally:
        await db.close()


def test_migration_statements_split_only_where_statements_end():
    from storage.database import split_statements

    sql = (
        "-- a comment; with a semicolon\n"
        "CREATE TABLE a (x TEXT, -- inline; comment\n y TEXT DEFAULT 'a;b');\n"
        "CREATE INDEX a_x ON a (x);\n"
    )
    assert [s.splitlines()[-1] for s in split_statements(sql)] == [
        " y TEXT DEFAULT 'a;b');",
        "CREATE INDEX a_x ON a (x);",
    ]


async def test_a_migration_numbered_below_the_latest_still_runs(
    empty_database_target, tmp_path, monkeypatch
):
    """Two branches may add 0005 and 0006; whichever lands last must still be applied."""
    from storage.database import schema as database  # where Database.migrate looks them up

    real = list(database.migrations())
    late = (real[-1][0] - 1, "late.sql", "CREATE TABLE late_arrival (x INTEGER);")
    skipped = [m for m in real if m[0] != late[0]]
    monkeypatch.setattr(database, "migrations", lambda: skipped)
    db = await Database.open(empty_database_target)
    await db.close()
    monkeypatch.setattr(database, "migrations", lambda: sorted([*skipped, late]))
    db = await Database.open(empty_database_target)
    try:
        assert await db.scalar("SELECT COUNT(*) FROM late_arrival") == 0
    finally:
        await db.close()


async def test_rebuilding_restrictions_keeps_every_record_step_and_source(
    empty_database_target, monkeypatch
):
    """Migration 0008 rebuilds three tables; what was there before must all be there after."""
    from storage.database import schema as database  # where Database.migrate looks them up

    real = list(database.migrations())
    monkeypatch.setattr(database, "migrations", lambda: [m for m in real if m[0] < 8])
    db = await Database.open(empty_database_target)
    async with db.transaction() as c:  # rows as the schema before 0008 held them
        await c.execute("INSERT INTO sources (id, name) VALUES (1, 'Dawn'), (2, 'BBC')")
        await c.execute(
            "INSERT INTO restrictions (id, service, region, kind, status, start, authority,"
            " grounds) VALUES (7, 'x', 'PK', 'block', 'active', '2024-02', 'Govt', 'Security')"
        )
        await c.execute(
            'INSERT INTO restriction_steps (restriction_id, position, "on", text, source_id)'
            " VALUES (7, 0, '2024-03', 'Sindh High Court', 1), (7, 1, '2024-04', 'IHC', 1)"
        )
        await c.execute(
            "INSERT INTO restriction_sources (restriction_id, source_id) VALUES (7, 2), (7, 1)"
        )
    await db.close()
    monkeypatch.setattr(database, "migrations", lambda: real)
    db = await Database.open(empty_database_target)
    try:
        rows = await db.fetchall("SELECT id, origin FROM restrictions")
        assert [tuple(r) for r in rows] == [(7, "BBC")]
        assert await db.scalar("SELECT COUNT(*) FROM restriction_steps") == 2
        assert await db.scalar("SELECT COUNT(*) FROM restriction_sources") == 2
        if db.dialect.name == "sqlite":
            assert await db.fetchall("PRAGMA foreign_key_check") == []
        async with db.transaction() as c:  # ids copied in: the next one must not collide
            await c.execute(
                "INSERT INTO restrictions (service, region, kind, status, start, authority,"
                " grounds, origin) VALUES ('x', 'PK', 'block', 'active', '2025', 'G', 'S', 'B')"
            )
        async with db.transaction() as c:  # the children still cascade from the new table
            await c.execute("DELETE FROM restrictions WHERE id = 7")
        assert await db.scalar("SELECT COUNT(*) FROM restriction_steps") == 0
    finally:
        await db.close()


async def test_two_sources_recording_the_same_block_keep_their_own_wording(database_target):
    from storage.imports import import_dataset
    from storage.records import Dataset, PartialDate, Restriction
    from storage.restrictions import restrictions_for

    def record(source: str, authority: str) -> Restriction:
        return Restriction(
            "internet",
            "PK",
            "shutdown",
            "lifted",
            PartialDate(2024, 2, 8),
            PartialDate(2024, 2, 9),
            authority,
            "Not stated",
            sources=(source,),
        )

    db = await Database.open(database_target)
    try:
        await import_dataset(db, Dataset(restrictions=(record("Access Now STOP", "PTA"),)))
        await import_dataset(db, Dataset(restrictions=(record("Cloudflare Radar", "Not stated"),)))
        found = await restrictions_for(db, "PK", ["internet"])
        assert sorted((r.sources, r.authority) for r in found) == [
            (("Access Now STOP",), "PTA"),
            (("Cloudflare Radar",), "Not stated"),
        ]
    finally:
        await db.close()

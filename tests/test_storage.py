"""The SQLite file: pragmas, migrations, and the all-or-nothing transaction."""

from __future__ import annotations

import sqlite3

import pytest

from storage.database import Database, migrations


async def test_database_uses_wal_and_foreign_keys(database_path):
    db = await Database.open(database_path)
    try:
        assert (await db.scalar("PRAGMA journal_mode")) == "wal"
        assert (await db.scalar("PRAGMA foreign_keys")) == 1
    finally:
        await db.close()


async def test_migrations_are_numbered_and_applied_once(database_path):
    latest = max(version for version, _, _ in migrations())
    db = await Database.open(database_path)
    await db.close()
    db = await Database.open(database_path)  # reopening applies nothing twice
    try:
        assert await db.schema_version() == latest
        assert await db.scalar("SELECT COUNT(*) FROM schema_version") == len(list(migrations()))
    finally:
        await db.close()


async def test_transaction_rolls_back_everything_on_error(database_path):
    db = await Database.open(database_path)
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as connection:
                await connection.execute("INSERT INTO sources (name) VALUES ('a')")
                raise RuntimeError("halfway")
        assert await db.scalar("SELECT COUNT(*) FROM sources") == 0
    finally:
        await db.close()


async def test_foreign_keys_are_enforced(database_path):
    db = await Database.open(database_path)
    try:
        with pytest.raises(sqlite3.IntegrityError):
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
    database_path, tmp_path, monkeypatch
):
    """Two branches may add 0005 and 0006; whichever lands last must still be applied."""
    import storage.database as database

    real = list(database.migrations())
    late = (real[-1][0] - 1, "late.sql", "CREATE TABLE late_arrival (x INTEGER);")
    skipped = [m for m in real if m[0] != late[0]]
    monkeypatch.setattr(database, "migrations", lambda: skipped)
    db = await Database.open(database_path)
    await db.close()
    monkeypatch.setattr(database, "migrations", lambda: sorted([*skipped, late]))
    db = await Database.open(database_path)
    try:
        assert await db.scalar("SELECT COUNT(*) FROM late_arrival") == 0
    finally:
        await db.close()

"""`outagebot migrate-data`: everything arrives, a cut-short copy resumes, a live target is spared.

The source is filled the way a running bot fills it (the bundled dataset, refreshed summaries,
subscriptions, the outbox, a crowd report, a language, a source's readings), so nearly every
table has rows, with emoji, NULLs and floats among them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import storage.transfer as transfer
from bot.cli.main import main
from bot.core.catalog import default_catalog
from bot.engine.refresh import Summaries
from bot.imports.dataset import embedded_dataset_path, load_dataset
from storage.crowd import Reporter, record_report
from storage.database import Database
from storage.imports import import_dataset
from storage.languages import choose_language
from storage.outbox import NewMessage, claim_due, enqueue, mark_sent
from storage.records import Dataset, Observation
from storage.source_health import record_success
from storage.source_readings import BlockingReading, ConnectivityReading
from storage.subscriptions import subscribe
from storage.transfer import (
    PROGRESS_TABLE,
    TargetInUse,
    copy_database,
    foreign_parents,
    parents_first,
    row_checksum,
    table_shapes,
    verify_copy,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
# Tables a bot's first weeks may well leave empty; every other one is filled below. meta has
# held nothing since the reporter key left the database (migration 0013).
MAY_BE_EMPTY = {"dirty_pairs", "meta"}


@pytest.fixture
def pg_url(postgres_databases: Callable[..., str]) -> str:
    """A new PostgreSQL database with nothing in it, not even the schema."""
    return postgres_databases()


@pytest.fixture
def other_pg_url(postgres_databases: Callable[..., str]) -> str:
    return postgres_databases()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """A SQLite file holding what a bot that ran for a while holds."""
    path = tmp_path / "source.sqlite3"
    asyncio.run(_fill(path))
    return path


@pytest.fixture(autouse=True)
def no_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`main()` reads settings; keep the developer's .env and OUTAGEBOT_ variables out."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("OUTAGEBOT_")]:
        if name != "OUTAGEBOT_TEST_POSTGRES":
            monkeypatch.delenv(name)


async def _fill(path: Path) -> None:
    db = await Database.open(path)
    try:
        catalog = default_catalog()
        await import_dataset(db, load_dataset(embedded_dataset_path(), catalog))
        extra = tuple(
            Observation(
                "x",
                "PK",
                NOW - timedelta(minutes=15 * n),
                n * 3,
                "Downdetector via Dawn",
                note=None if n % 3 else f"reading {n} 📉 «Lahore»",
                baseline=None if n % 2 else 4.2 + n / 7,
            )
            for n in range(1, 61)
        )
        await import_dataset(db, Dataset(observations=extra))
        await Summaries(db, catalog).refresh(NOW)
        for chat_id, kind, title in [
            (1001, "private", None),
            (-100_222_333_444, "supergroup", "Outage watch 🚨 Pakistan"),
            (2002, "private", "Ayesha"),
        ]:
            for service, region in [("x", "PK"), ("*", "PK"), ("x", "*")]:
                await subscribe(
                    db,
                    chat_id,
                    kind=kind,
                    title=title,
                    service=service,
                    region=region,
                    min_level="elevated",
                    at=NOW,
                    limit=20,
                )
        async with db.transaction() as connection:
            await enqueue(
                connection,
                [
                    NewMessage(1001, "alert", "alert:x:PK:1001", "<b>X</b> is down in Pakistan 🔴"),
                    NewMessage(2002, "digest", "digest:2002", "Nothing new today", silent=True),
                    NewMessage(-100_5, "post", "post:x:PK:1", "X outage 🇵🇰", post_key="x:PK:1"),
                ],
                NOW,
            )
        for row in await claim_due(db, "test:1", NOW):
            if row.kind == "post":
                await mark_sent(db, row, 77, NOW)
        await record_report(
            db,
            service="x",
            region="PK",
            reporter=Reporter("5e7a1c0ffee", ("5e7a1c0ffee",), lock=7),
            problem="app",
            at=NOW,
            bucket_minutes=15,
            per_hour=20,
        )
        await choose_language(db, 1001, "ur")
        await record_success(
            db,
            "ioda",
            "ioda",
            NOW,
            items=2,
            targets=[("*", "PK")],
            connectivity=[
                ConnectivityReading(
                    "ioda", "PK", "bgp", NOW, 0.1 + 0.2, 1 / 3, 12.5, region_name="Pākistān"
                )
            ],
            blocking=[BlockingReading("ioda", "x", "PK", "x.com", 41, 43, 7, NOW, NOW)],
        )
    finally:
        await db.close()


def migrate(*args: str) -> int:
    return main(["migrate-data", *args])


async def _counts(target: str | Path) -> dict[str, int]:
    db = await Database.open(target)
    try:
        return {
            name: int(await db.scalar(f'SELECT COUNT(*) FROM "{name}"'))
            for name in await db.tables()
            if name != PROGRESS_TABLE
        }
    finally:
        await db.close()


async def _checks(source: str | Path, target: str | Path, batch: int = 1000) -> list[Any]:
    first, second = await Database.open(source), await Database.open(target)
    try:
        shapes = (await table_shapes(first)).values()
        return await verify_copy(first, second, shapes, batch=batch)
    finally:
        await second.close()
        await first.close()


async def _copy(source: str | Path, target: str | Path, batch: int) -> None:
    first, second = await Database.open(source), await Database.open(target)
    try:
        await copy_database(first, second, batch=batch)
    finally:
        await second.close()
        await first.close()


async def _checkpoint_of(target: str, table: str) -> tuple[int, int] | None:
    db = await Database.open(target)
    try:
        row = await db.fetchone(
            f"SELECT copied, done FROM {PROGRESS_TABLE} WHERE table_name = ?", (table,)
        )
        return None if row is None else (int(row[0]), int(row[1]))
    finally:
        await db.close()


async def _execute(target: str | Path, sql: str) -> None:
    """One statement, committed, on a database no copy has open."""
    db = await Database.open(target)
    try:
        async with db.transaction() as connection:
            await connection.execute(sql)
    finally:
        await db.close()


async def _ids(target: str | Path, table: str) -> list[int]:
    db = await Database.open(target)
    try:
        return [row[0] for row in await db.fetchall(f"SELECT id FROM {table} ORDER BY id")]
    finally:
        await db.close()


# ------------------------------------------------------------------------------ the whole way


def test_sqlite_database_arrives_whole_in_postgresql(source, pg_url, capsys):
    counts = asyncio.run(_counts(source))
    assert {name for name, count in counts.items() if count == 0} <= MAY_BE_EMPTY

    assert migrate(str(source), pg_url, "--batch", "7") == 0

    printed = capsys.readouterr()
    out = printed.out
    assert f"  observations: {counts['observations']:,} rows" in printed.err  # progress
    for name, count in counts.items():
        line = next(line for line in out.splitlines() if line.startswith(f"{name} "))
        assert line.split()[1:3] == [f"{count:,}", f"{count:,}"], line
        assert line.endswith("ok"), line
    assert f"{len(counts)} tables, {sum(counts.values()):,} rows" in out
    assert "every count and checksum matches" in out
    assert "MISMATCH" not in out
    assert asyncio.run(_counts(pg_url)) == counts


def test_new_rows_on_postgresql_get_ids_past_the_copied_ones(source, pg_url):
    assert migrate(str(source), pg_url) == 0

    async def subscribe_anew() -> tuple[int, int]:
        db = await Database.open(pg_url)
        try:
            highest = await db.scalar("SELECT MAX(id) FROM subscriptions")
            outcome = await subscribe(
                db,
                3003,
                kind="private",
                title=None,
                service="x",
                region="PK",
                min_level="outage",
                at=NOW,
                limit=20,
            )
            assert outcome.subscription is not None
            return highest, outcome.subscription.id
        finally:
            await db.close()

    highest, new_id = asyncio.run(subscribe_anew())
    assert new_id > highest


def test_postgresql_password_never_printed(source, pg_url, capsys):
    # The test cluster trusts local connections, so any password is accepted and ignored.
    with_password = pg_url.replace("postgres@", "postgres:hunter2-secret@")

    assert migrate(str(source), with_password) == 0

    printed = capsys.readouterr()
    assert "hunter2-secret" not in printed.out + printed.err
    assert "postgres:***@" in printed.err


def test_sqlite_to_sqlite_copies_too(source, tmp_path, capsys):
    target = tmp_path / "copy.sqlite3"

    assert migrate(str(source), f"sqlite:///{target}", "--batch", "4") == 0

    assert "every count and checksum matches" in capsys.readouterr().out
    assert asyncio.run(_counts(target)) == asyncio.run(_counts(source))


def test_postgresql_copies_back_to_sqlite_with_the_same_checksums(source, pg_url, tmp_path):
    back = tmp_path / "back.sqlite3"
    assert migrate(str(source), pg_url) == 0

    assert migrate(pg_url, str(back), "--batch", "5") == 0

    there = {check.table: check.source_checksum for check in asyncio.run(_checks(source, pg_url))}
    again = {check.table: check.target_checksum for check in asyncio.run(_checks(pg_url, back))}
    assert there == again


# ------------------------------------------------------------------------------ resuming


def test_copy_cut_short_keeps_whole_batches_and_resumes(source, pg_url, monkeypatch):
    checkpoint = transfer._checkpoint
    calls = {"observations": 0}

    async def crash_on_fourth_observations_batch(connection, table, *rest):
        if table == "observations":
            calls[table] += 1
            if calls[table] == 4:  # the batch's rows are already inserted, not committed
                raise ConnectionResetError("network gone")
        await checkpoint(connection, table, *rest)

    monkeypatch.setattr(transfer, "_checkpoint", crash_on_fourth_observations_batch)
    with pytest.raises(ConnectionResetError):
        asyncio.run(_copy(source, pg_url, batch=7))

    wanted = asyncio.run(_ids(source, "observations"))
    assert asyncio.run(_ids(pg_url, "observations")) == wanted[:21]  # three whole batches of 7
    assert asyncio.run(_checkpoint_of(pg_url, "observations")) == (21, 0)

    monkeypatch.setattr(transfer, "_checkpoint", checkpoint)
    assert migrate(str(source), pg_url, "--batch", "7") == 0

    assert asyncio.run(_counts(pg_url)) == asyncio.run(_counts(source))
    assert all(check.ok for check in asyncio.run(_checks(source, pg_url)))


# SQLite keeps text, or a fraction, in an INTEGER column; PostgreSQL takes neither (asyncpg
# alone would round the fraction off without a word).
@pytest.mark.parametrize("bad_value", ["lots", 5.5])
def test_refused_row_stops_the_copy_naming_it_and_rerun_resumes(source, pg_url, capsys, bad_value):
    async def spoil(value: object) -> int:
        db = await Database.open(source)
        try:
            async with db.transaction() as connection:
                row = await connection.fetchone(
                    "SELECT id FROM observations ORDER BY id LIMIT 1 OFFSET 12"
                )
                await connection.execute(
                    "UPDATE observations SET count = ? WHERE id = ?", (value, row[0])
                )
            return int(row[0])
        finally:
            await db.close()

    bad_id = asyncio.run(spoil(bad_value))

    assert migrate(str(source), pg_url, "--batch", "5") == 1

    err = capsys.readouterr().err
    assert f"observations: the target refused the row id={bad_id}" in err
    assert "run the same command to resume" in err
    assert asyncio.run(_counts(pg_url))["observations"] == 10  # two whole batches before it
    assert asyncio.run(_checkpoint_of(pg_url, "observations")) == (10, 0)

    asyncio.run(spoil(12))
    assert migrate(str(source), pg_url, "--batch", "5") == 0
    assert asyncio.run(_counts(pg_url)) == asyncio.run(_counts(source))


# ---------------------------------------------------------------------------- safety, checking


def test_live_target_is_refused_and_left_unchanged(source, other_pg_url, capsys):
    async def make_live() -> None:
        db = await Database.open(other_pg_url)
        try:
            await import_dataset(db, load_dataset(embedded_dataset_path(), default_catalog()))
        finally:
            await db.close()

    asyncio.run(make_live())
    before = asyncio.run(_checks(other_pg_url, other_pg_url))

    assert migrate(str(source), other_pg_url) == 2

    assert "already holds rows" in capsys.readouterr().err
    assert asyncio.run(_checks(other_pg_url, other_pg_url)) == before

    async def has_progress_table() -> bool:
        db = await Database.open(other_pg_url)
        try:
            return PROGRESS_TABLE in await db.tables()
        finally:
            await db.close()

    assert not asyncio.run(has_progress_table())


async def test_live_target_refusal_names_the_reason(tmp_path):
    first, second = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    await _fill(first)
    live = await Database.open(second)
    await choose_language(live, 5, "en")
    origin = await Database.open(first)
    try:
        with pytest.raises(TargetInUse, match="not an interrupted copy"):
            await copy_database(origin, live)
        assert await live.scalar("SELECT COUNT(*) FROM languages") == 1
    finally:
        await origin.close()
        await live.close()


def test_row_deleted_from_the_target_shows_as_mismatch(source, pg_url, capsys):
    assert migrate(str(source), pg_url) == 0
    capsys.readouterr()

    asyncio.run(_execute(pg_url, "DELETE FROM outbox WHERE kind = 'digest'"))

    assert migrate(str(source), pg_url) == 1  # finished tables are not copied again: only checked

    out = capsys.readouterr().out
    outbox = next(line for line in out.splitlines() if line.startswith("outbox "))
    assert outbox.split()[1:3] == ["3", "2"]
    assert "MISMATCH" in outbox
    assert "MISMATCH in 1 of" in out
    sources = next(line for line in out.splitlines() if line.startswith("sources "))
    assert sources.endswith("ok")


def test_changed_value_shows_as_checksum_mismatch(source, tmp_path, capsys):
    target = tmp_path / "copy.sqlite3"
    assert migrate(str(source), str(target)) == 0

    asyncio.run(_execute(target, "UPDATE chats SET title = 'Outage watch 🚨' WHERE chat_id < 0"))
    capsys.readouterr()

    assert migrate(str(source), str(target)) == 1

    chats = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("chats "))
    assert chats.split()[1:3] == ["3", "3"]
    assert "MISMATCH (target checksum" in chats


def test_schema_versions_that_differ_stop_before_anything_is_copied(source, tmp_path, capsys):
    target = tmp_path / "newer.sqlite3"

    future = "INSERT INTO schema_version (version, name) VALUES (9999, '9999_future.sql')"
    asyncio.run(_execute(target, future))

    assert migrate(str(source), str(target)) == 2

    assert "the target at 9999" in capsys.readouterr().err
    assert sum(asyncio.run(_counts(target)).values()) == 0


def test_missing_sqlite_source_is_not_created(tmp_path, capsys):
    assert migrate(str(tmp_path / "typo.sqlite3"), str(tmp_path / "copy.sqlite3")) == 2

    assert "no database at" in capsys.readouterr().err
    assert not (tmp_path / "typo.sqlite3").exists()


# ------------------------------------------------------------------------------ the pieces


async def test_parents_are_copied_before_the_tables_that_reference_them(tmp_path):
    db = await Database.open(tmp_path / "schema.sqlite3")
    try:
        shapes = await table_shapes(db)
        order = parents_first(shapes, await foreign_parents(db, shapes))
    finally:
        await db.close()
    assert sorted(order) == sorted(shapes)
    assert order.index("sources") < order.index("observations")
    assert order.index("restrictions") < order.index("restriction_steps")
    assert order.index("restrictions") < order.index("restriction_sources")
    assert shapes["restriction_sources"].key == ("restriction_id", "source_id")
    assert '"end"' in transfer._columns(shapes["restrictions"].columns)


def test_checksum_sees_types_as_both_engines_return_them():
    assert row_checksum([1, "x", None]) == row_checksum([1, "x", None])
    assert row_checksum([True]) == row_checksum([1])
    assert row_checksum([b"\x01\xff"]) == row_checksum([bytearray(b"\x01\xff")])
    assert row_checksum([3]) != row_checksum([3.0])
    assert row_checksum([0.1 + 0.2]) != row_checksum([0.3])
    assert row_checksum([None]) != row_checksum(["null"])

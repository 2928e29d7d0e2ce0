"""What a /report costs in storage since reporters are forgotten after an hour (issue 15).

Each report now also erases the hashes that have left the rolling hour, and on PostgreSQL takes
the person's advisory lock. Measured as a ratio to an empty write transaction timed in the same
run on the same database (its round trips and commit are the floor any report pays), on SQLite
and on a throwaway PostgreSQL cluster on 127.0.0.1 (fsync off):

(a) steady state: 2,000 reports by 500 people over 50 pairs across four hours, over a table
    already holding 50,000 older reports whose hashes are erased;
(b) the erasing job, after an hour in which 5,000 reports were made: all their hashes go at once;
(c) (a)'s reports again with the report's own erasing left out, as its reference.

    python bench/report_cost.py
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common  # noqa: F401  (puts the checkout on sys.path)
from common import header, note

from bot.crowd.reports import reporter
from storage import crowd
from storage.crowd import record_report
from storage.database import Database
from tests.postgres import PostgresUnavailable, throwaway_cluster

START = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
KEY = b"k" * 32
PAIRS = [(f"svc{index:02d}", "PK") for index in range(50)]
HISTORY, REPORTS, PEOPLE, BURST = 50_000, 2_000, 500, 5_000


async def empty_transaction(db: Database) -> float:
    started = time.perf_counter()
    async with db.transaction() as connection:
        await connection.execute("SELECT 1")
    return time.perf_counter() - started


async def one_report(db: Database, person: int, pair: int, at: datetime) -> float:
    service, region = PAIRS[pair % len(PAIRS)]
    started = time.perf_counter()
    await record_report(
        db,
        service=service,
        region=region,
        reporter=reporter(KEY, person, at),
        problem="app",
        at=at,
        bucket_minutes=15,
        per_hour=20,
    )
    return time.perf_counter() - started


async def old_history(db: Database) -> None:
    """Reports from a day earlier, hashes already erased, as a bot's table holds them."""
    rows = [
        (PAIRS[i % len(PAIRS)][0], "PK", int(START.timestamp()) - 86_400 - i * 60, "app", i)
        for i in range(HISTORY)
    ]
    async with db.transaction() as connection:
        await connection.executemany(
            "INSERT INTO crowd_reports (service, region, bucket_at, reporter, problem, at)"
            " VALUES (?, ?, ?, NULL, ?, ?)",
            [(s, r, at - at % 900, p, at + i % 60) for s, r, at, p, i in rows],
        )


async def _no_erasing(*args: object) -> int:
    return 0


async def measure(target: str, label: str) -> None:
    db = await Database.open(target)
    try:
        await old_history(db)
        floor = [await empty_transaction(db) for _ in range(REPORTS)]
        steady = [
            await one_report(db, i % PEOPLE, i, START + timedelta(seconds=i * 7))
            for i in range(REPORTS)
        ]
        # (c) the same reports three hours on, with the report's own erasing left out
        erasing, crowd._forget_own = crowd._forget_own, _no_erasing
        try:
            unerased = [
                await one_report(db, i % PEOPLE, i, START + timedelta(hours=3, seconds=i * 7))
                for i in range(REPORTS)
            ]
        finally:
            crowd._forget_own = erasing
        burst_at = START + timedelta(hours=12)
        for i in range(BURST):
            await one_report(db, 10_000 + i, i, burst_at + timedelta(milliseconds=i))
        started = time.perf_counter()
        erased = await crowd.forget_reporters(db, burst_at + timedelta(hours=1, seconds=10))
        job = time.perf_counter() - started
        named = await db.scalar("SELECT COUNT(*) FROM crowd_reports WHERE reporter IS NOT NULL")
    finally:
        await db.close()
    base, cost, without = (statistics.median(x) for x in (floor, steady, unerased))
    print(f"{label}:")
    print(f"    (a) empty write transaction  {base * 1000:6.2f} ms (median of {REPORTS:,})")
    print(f"        /report in storage       {cost * 1000:6.2f} ms = {cost / base:.1f}× that")
    print(
        f"    (c) without its own erasing  {without * 1000:6.2f} ms:"
        f" the erasing costs {cost / without:.2f}×"
    )
    print(
        f"    (b) the job erasing {erased:,} hashes  {job * 1000:6.1f} ms = {job / base:.0f}×"
        f" an empty transaction (hashes left: {named})"
    )


async def main() -> None:
    header("report_cost", "python bench/report_cost.py")
    with tempfile.TemporaryDirectory() as folder:
        await measure(str(Path(folder) / "reports.sqlite3"), "SQLite")
    try:
        with throwaway_cluster() as admin_url:
            await measure(admin_url, "PostgreSQL")
    except PostgresUnavailable as why:
        note(f"PostgreSQL skipped: {why}")


if __name__ == "__main__":
    asyncio.run(main())

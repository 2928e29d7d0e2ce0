"""Crowd reports: one person's /report, counted Downdetector-style and folded into observations.

A report counts once per person per pair per time bucket, and a person is held to a number of
reports per rolling hour, so one keen (or hostile) reporter cannot make an outage on their own.
Reporters are stored only as a keyed hash of their Telegram user id.
"""

from __future__ import annotations

import secrets
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from storage.citations import source_ids
from storage.database import Connection, Database
from storage.dirty import mark_dirty
from storage.records import Source
from storage.timecodec import from_epoch, to_epoch

CROWD_SOURCE = Source(
    "Crowd reports (outagebot)",
    description="People telling this bot with /report that a service is down where they are; "
    "each person counts once per pair per time bucket.",
)
SALT_KEY = "reporter_salt"
ROLLING_WINDOW = timedelta(hours=1)

OutcomeKind = Literal["counted", "duplicate", "rate_limited"]

# Per open Database, the generated salt: it never changes once stored, so it is read once.
_salts: weakref.WeakKeyDictionary[Database, bytes] = weakref.WeakKeyDictionary()


@dataclass(frozen=True, slots=True)
class ReportOutcome:
    """What became of one report, and the pair's count for its bucket afterwards.

    `retry_at` is set only when rate-limited: the first instant another report will be taken.
    """

    kind: OutcomeKind
    bucket_at: datetime
    count: int
    retry_at: datetime | None = None


def bucket_start(at: datetime, bucket_minutes: int) -> int:
    """The bucket holding `at`, as Unix seconds; buckets are aligned to UTC clock time."""
    seconds = to_epoch(at)
    return seconds - seconds % (bucket_minutes * 60)


async def reporter_salt(db: Database, configured: str | None) -> bytes:
    """The key for hashing reporters: the configured one, else one generated once and stored.

    Stored rather than kept in memory so a reporter's hash is the same after a restart; the
    insert-if-absent runs in a transaction so two processes opening one file agree on it.
    """
    if configured:
        return configured.encode("utf-8")
    if (cached := _salts.get(db)) is not None:
        return cached
    async with db.transaction() as connection:
        await connection.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (SALT_KEY, secrets.token_bytes(32).hex()),
        )
        async with connection.execute("SELECT value FROM meta WHERE key = ?", (SALT_KEY,)) as cur:
            row = await cur.fetchone()
    assert row is not None
    salt = bytes.fromhex(row[0])
    _salts[db] = salt
    return salt


async def record_report(
    db: Database,
    *,
    service: str,
    region: str,
    reporter: str,
    problem: str,
    at: datetime,
    bucket_minutes: int,
    per_hour: int,
) -> ReportOutcome:
    """Count one person's report, unless already counted in this bucket or over the hourly limit.

    Everything happens in one transaction: the report, the pair's crowd observation for the
    bucket (its count is the number of distinct reporters) and the mark that the pair needs a
    refresh, so a reader never sees a report without its count.
    """
    bucket_at = bucket_start(at, bucket_minutes)
    now = to_epoch(at)
    async with db.transaction() as connection:
        # Read committed lets two reports read the same counts and both act on them: the
        # person's limit would let extras through, and the pair's count would lose one.
        # Pair before person, always, so two reports never wait on each other in a circle.
        if db.dialect.key_lock:
            for key in (f"crowd-pair:{service}:{region}", f"crowd-reporter:{reporter}"):
                await connection.execute(db.dialect.key_lock, (key,))
        if await _already_reported(connection, service, region, bucket_at, reporter):
            count = await _bucket_count(connection, service, region, bucket_at)
            return ReportOutcome("duplicate", from_epoch(bucket_at), count)
        retry_at = await _retry_at(connection, reporter, now, per_hour)
        if retry_at is not None:
            count = await _bucket_count(connection, service, region, bucket_at)
            return ReportOutcome("rate_limited", from_epoch(bucket_at), count, retry_at)
        await connection.execute(
            "INSERT INTO crowd_reports (service, region, bucket_at, reporter, problem, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (service, region, bucket_at, reporter, problem, now),
        )
        count = await _bucket_count(connection, service, region, bucket_at)
        ids, _ = await source_ids(connection, [CROWD_SOURCE.name], [CROWD_SOURCE])
        await connection.execute(
            "INSERT INTO observations (service, region, at, count, source_id)"
            " VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (service, region, at, source_id) DO UPDATE SET count = excluded.count",
            (service, region, bucket_at, count, ids[CROWD_SOURCE.name]),
        )
        await mark_dirty(connection, [(service, region)])
    return ReportOutcome("counted", from_epoch(bucket_at), count)


async def problem_shares(
    db: Database, service: str, region: str, start: datetime, end: datetime
) -> list[tuple[str, int, float]]:
    """(problem, reports, share of all reports) for a pair in [start, end), biggest share first.

    Downdetector shows the same breakdown ("app 52%, website 31%…") under its chart.
    """
    rows = await db.fetchall(
        "SELECT problem, COUNT(*) AS reports FROM crowd_reports"
        " WHERE service = ? AND region = ? AND at >= ? AND at < ?"
        " GROUP BY problem",
        (service, region, to_epoch(start), to_epoch(end)),
    )
    total = sum(row["reports"] for row in rows)
    shares = [(row["problem"], row["reports"], row["reports"] / total) for row in rows]
    return sorted(shares, key=lambda share: (-share[1], share[0]))


async def _already_reported(
    connection: Connection, service: str, region: str, bucket_at: int, reporter: str
) -> bool:
    async with connection.execute(
        "SELECT 1 FROM crowd_reports"
        " WHERE service = ? AND region = ? AND bucket_at = ? AND reporter = ?",
        (service, region, bucket_at, reporter),
    ) as cursor:
        return await cursor.fetchone() is not None


async def _bucket_count(connection: Connection, service: str, region: str, bucket_at: int) -> int:
    async with connection.execute(
        "SELECT COUNT(DISTINCT reporter) FROM crowd_reports"
        " WHERE service = ? AND region = ? AND bucket_at = ?",
        (service, region, bucket_at),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _retry_at(
    connection: Connection, reporter: str, now: int, per_hour: int
) -> datetime | None:
    """None while the reporter is under the limit for the hour ending now; else when they will be.

    That is when the per_hour-th most recent report leaves the window: from then on at most
    per_hour - 1 remain in it. Refused reports are not stored, so asking again does not push
    the time back.
    """
    window = int(ROLLING_WINDOW.total_seconds())
    async with connection.execute(
        "SELECT at FROM crowd_reports WHERE reporter = ? AND at > ? AND at <= ?"
        " ORDER BY at DESC LIMIT 1 OFFSET ?",
        (reporter, now - window, now, per_hour - 1),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else from_epoch(row[0] + window)

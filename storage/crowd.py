"""Crowd reports: one person's /report, counted Downdetector-style and folded into observations.

A report counts once per person per pair per time bucket, and a person is held to a number of
reports per rolling hour, so one keen (or hostile) reporter cannot make an outage on their own.

A reporter is stored only as a keyed hash of their Telegram user id and the hour, and only while
the limit needs it: once a report leaves the rolling hour its hash is erased (`forget_reporters`)
and the report stays without it. The key never enters the database (see bot/crowd/keys.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from storage.citations import source_ids
from storage.database import POSTGRESQL, Connection, Database
from storage.dirty import mark_dirty
from storage.records import Source
from storage.timecodec import from_epoch, to_epoch

CROWD_SOURCE = Source(
    "Crowd reports (outagebot)",
    description="People telling this bot with /report that a service is down where they are; "
    "each person counts once per pair per time bucket.",
)
ROLLING_WINDOW = timedelta(hours=1)
# The first key of PostgreSQL's two-key advisory locks taken per reporter (the second is the
# reporter's lock number); any fixed number apart from the bot's other locks.
REPORTER_LOCKS = 0x6372_6F77  # "crow"

OutcomeKind = Literal["counted", "duplicate", "rate_limited"]


@dataclass(frozen=True, slots=True)
class Reporter:
    """One person as the rate limit sees them, with nothing that names them.

    `stored` goes into the report; `known_as` are every hash this person can have within the
    rolling hour (the hash changes as the hour does), `stored` among them; `lock` is a number
    that serialises one person's reports across replicas.
    """

    stored: str
    known_as: Sequence[str]
    lock: int


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


async def record_report(
    db: Database,
    *,
    service: str,
    region: str,
    reporter: Reporter,
    problem: str,
    at: datetime,
    bucket_minutes: int,
    per_hour: int,
) -> ReportOutcome:
    """Count one person's report, unless already counted in this bucket or over the hourly limit.

    Everything happens in one transaction: the report, the pair's crowd observation for the
    bucket (one more person in it) and the mark that the pair needs a refresh, so
    a reader never sees a report without its count. On PostgreSQL, replicas check and insert at
    READ COMMITTED side by side, so the person's advisory lock makes check-then-insert one step;
    SQLite's BEGIN IMMEDIATE already lets one writer in at a time.
    """
    bucket_at = bucket_start(at, bucket_minutes)
    now = to_epoch(at)
    async with db.transaction() as connection:
        # Read committed lets two reports read the same counts and both act on them: the
        # person's limit would let extras through. Pair before person, always, so two reports
        # never wait on each other in a circle.
        if db.dialect.key_lock:
            await connection.execute(db.dialect.key_lock, (f"crowd-pair:{service}:{region}",))
        if db.dialect is POSTGRESQL:
            await connection.execute(
                "SELECT pg_advisory_xact_lock(?, ?)", (REPORTER_LOCKS, reporter.lock)
            )
        await _forget_own(connection, reporter, now)
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
            (service, region, bucket_at, reporter.stored, problem, now),
        )
        ids, _ = await source_ids(connection, [CROWD_SOURCE.name], [CROWD_SOURCE])
        # One more person: added under the observation's row lock, not counted beforehand, since
        # at READ COMMITTED two replicas' counts would each miss the other's uncommitted report
        # and the last writer's would win.
        count = await connection.scalar(
            "INSERT INTO observations (service, region, at, count, source_id)"
            " VALUES (?, ?, ?, 1, ?)"
            " ON CONFLICT (service, region, at, source_id)"
            " DO UPDATE SET count = observations.count + 1 RETURNING count",
            (service, region, bucket_at, ids[CROWD_SOURCE.name]),
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


async def forget_reporters(db: Database, now: datetime) -> int:
    """Erase the reporter hashes of reports that have left the rolling hour; return how many.

    A report erases its reporter's own old hashes; everyone else's are this job's, which a
    quiet hour needs anyway.
    """
    async with db.transaction() as connection:
        return await _forget(connection, db, to_epoch(now))


async def _forget(connection: Connection, db: Database, now: int) -> int:
    """Rows another transaction is erasing are skipped, not waited for: two replicas erasing
    the same rows in different orders would otherwise deadlock, and either one's work will do."""
    window = int(ROLLING_WINDOW.total_seconds())
    cursor = await connection.execute(
        "UPDATE crowd_reports SET reporter = NULL WHERE id IN (SELECT id FROM crowd_reports"
        f" WHERE reporter IS NOT NULL AND at <= ?{db.dialect.skip_locked})",
        (now - window,),
    )
    return max(cursor.rowcount, 0)


async def _forget_own(connection: Connection, reporter: Reporter, now: int) -> None:
    """The reporter's own hashes that left the window, under their lock: one index lookup,
    and no waiting on other people's rows (the job erases theirs)."""
    marks, hashes = _one_of(reporter)
    await connection.execute(
        f"UPDATE crowd_reports SET reporter = NULL WHERE reporter IN ({marks}) AND at <= ?",
        (*hashes, now - int(ROLLING_WINDOW.total_seconds())),
    )


def _one_of(reporter: Reporter) -> tuple[str, list[str]]:
    """`reporter IN (?, …)` over every hash the person can have in the window."""
    return ", ".join("?" for _ in reporter.known_as), list(reporter.known_as)


async def _already_reported(
    connection: Connection, service: str, region: str, bucket_at: int, reporter: Reporter
) -> bool:
    marks, hashes = _one_of(reporter)
    async with connection.execute(
        "SELECT 1 FROM crowd_reports"
        f" WHERE service = ? AND region = ? AND bucket_at = ? AND reporter IN ({marks})",
        (service, region, bucket_at, *hashes),
    ) as cursor:
        return await cursor.fetchone() is not None


async def _bucket_count(connection: Connection, service: str, region: str, bucket_at: int) -> int:
    """Reports in the bucket: one per person, so a count of rows, even once hashes are erased."""
    async with connection.execute(
        "SELECT COUNT(*) FROM crowd_reports WHERE service = ? AND region = ? AND bucket_at = ?",
        (service, region, bucket_at),
    ) as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _retry_at(
    connection: Connection, reporter: Reporter, now: int, per_hour: int
) -> datetime | None:
    """None while the reporter is under the limit for the hour ending now; else when they will be.

    That is when the per_hour-th most recent report leaves the window: from then on at most
    per_hour - 1 remain in it. Refused reports are not stored, so asking again does not push
    the time back.
    """
    window = int(ROLLING_WINDOW.total_seconds())
    marks, hashes = _one_of(reporter)
    async with connection.execute(
        f"SELECT at FROM crowd_reports WHERE reporter IN ({marks}) AND at > ? AND at <= ?"
        " ORDER BY at DESC LIMIT 1 OFFSET ?",
        (*hashes, now - window, now, per_hour - 1),
    ) as cursor:
        row = await cursor.fetchone()
    return None if row is None else from_epoch(row[0] + window)

"""What is kept about people who /report, and for how long: only what the hourly limit needs.

A stolen copy of the database must not say who reported: the key of the hashes lives outside
it, a person's hashes in different hours cannot be linked, and no hash outlives the hour.
Also: the limit holds when replicas on one PostgreSQL database take reports at the same moment.
"""

from __future__ import annotations

import asyncio
import stat
from datetime import UTC, datetime, timedelta

import pytest

from bot.runtime.jobs import FORGET_JOB
from storage.crowd import CROWD_SOURCE, problem_shares
from storage.database import Database, schema

TODAY = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


async def reports(harness) -> list[tuple[str | None, str, str, int]]:
    rows = await harness.services.db.fetchall(
        "SELECT reporter, service, problem, at FROM crowd_reports ORDER BY id"
    )
    return [(row["reporter"], row["service"], row["problem"], row["at"]) for row in rows]


async def crowd_count(harness, service: str, at: datetime) -> int | None:
    return await harness.services.db.scalar(
        "SELECT o.count FROM observations o JOIN sources s ON s.id = o.source_id"
        " WHERE s.name = ? AND o.service = ? AND o.region = 'PK' AND o.at = ?",
        (CROWD_SOURCE.name, service, int(at.timestamp())),
    )


async def run_job(harness, name: str) -> None:
    (job,) = harness.application.job_queue.get_jobs_by_name(name)
    await job.run(harness.application)


async def test_the_key_lives_in_a_0600_file_outside_the_database(make_harness, tmp_path):
    async for harness in make_harness():
        await harness.send("/report X Pakistan app")
        key_file = harness.services.settings.report_key_file
        key = key_file.read_text().strip()
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert len(bytes.fromhex(key)) == 32
        assert await harness.services.db.scalar("SELECT COUNT(*) FROM meta") == 0
        for table in await harness.services.db.tables():
            for row in await harness.services.db.fetchall(f"SELECT * FROM {table}"):
                assert key not in " ".join(str(value) for value in tuple(row)), table


async def test_the_same_key_file_keeps_a_report_counted_across_a_restart(make_harness):
    async for harness in make_harness():
        await harness.send("/report X Pakistan")
    async for harness in make_harness():
        assert "already counted" in (await harness.send("/report X Pakistan")).plain


async def test_a_reporter_hash_is_erased_once_its_hour_is_over_and_the_count_stays(
    make_harness,
):
    async for harness in make_harness():
        await harness.send("/report X Pakistan app")
        harness.clock.advance(minutes=59)
        await run_job(harness, FORGET_JOB)
        [(reporter, *_)] = await reports(harness)
        assert reporter is not None  # still in the rolling hour: the limit needs it

        harness.clock.advance(minutes=1)
        await run_job(harness, FORGET_JOB)
        assert await reports(harness) == [(None, "x", "app", int(TODAY.timestamp()))]
        assert await crowd_count(harness, "x", TODAY) == 1  # the count stays
        shares = await problem_shares(
            harness.services.db, "x", "PK", TODAY, TODAY + timedelta(hours=2)
        )
        assert shares == [("app", 1, 1.0)]  # and so does the problem breakdown


async def test_one_persons_hashes_in_different_hours_cannot_be_linked(make_harness):
    async for harness in make_harness(at=TODAY + timedelta(minutes=50)):
        await harness.send("/report X Pakistan")
        harness.clock.advance(minutes=20)  # 13:10, the next hour
        await harness.send("/report YouTube Pakistan")
        first, second = await reports(harness)
        assert first[0] != second[0]


async def test_the_hourly_limit_holds_across_the_turn_of_the_hour(make_harness):
    async for harness in make_harness(at=TODAY + timedelta(minutes=40), reports_per_hour=2):
        assert "Counted" in (await harness.send("/report X Pakistan")).plain
        assert "Counted" in (await harness.send("/report YouTube Pakistan")).plain
        harness.clock.advance(minutes=30)  # 13:10: a new hash, the same person
        assert "most reports" in (await harness.send("/report Facebook Pakistan")).plain
        harness.clock.advance(minutes=31)  # 13:41: the 12:40 reports have left the window
        assert "Counted" in (await harness.send("/report Facebook Pakistan")).plain


async def test_a_person_is_counted_once_in_a_bucket_that_spans_the_turn_of_the_hour(
    make_harness,
):
    """Buckets of 7 minutes do not line up with hours: 12:57-13:04 holds both hours' hashes."""
    bucket = datetime(2026, 11, 22, 12, 59, tzinfo=UTC)
    async for harness in make_harness(at=bucket, bucket_minutes=7):
        assert "Counted" in (await harness.send("/report X Pakistan")).plain
        harness.clock.advance(minutes=2)  # 13:01, same bucket, next hour
        assert "already counted" in (await harness.send("/report X Pakistan")).plain


async def test_upgrading_erases_the_hashes_and_the_key_kept_in_the_database(
    empty_database_target, monkeypatch
):
    """Hashes made with a key stored beside them can be reversed from a copy: 0013 drops both."""
    real = list(schema.migrations())
    monkeypatch.setattr(schema, "migrations", lambda: [m for m in real if m[0] < 13])
    db = await Database.open(empty_database_target)
    async with db.transaction() as connection:
        await connection.execute("INSERT INTO meta (key, value) VALUES ('reporter_salt', 'ab')")
        await connection.execute(
            "INSERT INTO crowd_reports (service, region, bucket_at, reporter, problem, at)"
            " VALUES ('x', 'PK', 900, 'hash-a', 'app', 901),"
            " ('x', 'PK', 900, 'hash-b', 'feed', 902)"
        )
    await db.close()
    monkeypatch.setattr(schema, "migrations", lambda: real)
    db = await Database.open(empty_database_target)
    try:
        rows = await db.fetchall("SELECT reporter, problem, at FROM crowd_reports ORDER BY at")
        assert [tuple(row) for row in rows] == [(None, "app", 901), (None, "feed", 902)]
        assert await db.scalar("SELECT COUNT(*) FROM meta") == 0
        async with db.transaction() as connection:  # new reports still get ids past the old
            await connection.execute(
                "INSERT INTO crowd_reports (service, region, bucket_at, reporter, problem, at)"
                " VALUES ('x', 'PK', 900, 'hash-c', 'app', 903)"
            )
        assert await db.scalar("SELECT COUNT(*) FROM crowd_reports") == 3
    finally:
        await db.close()


async def test_simultaneous_reports_through_two_replicas_stay_within_the_limit(make_harness):
    """Replicas check and insert at the same moment; the limit must still be exact."""
    limit, sent = 5, 24
    services = ["x", "youtube", "facebook", "instagram", "whatsapp", "telegram"]
    regions = ["Pakistan", "India", "Iran", "Turkey"]
    messages = [f"/report {service} {region}" for service in services for region in regions]
    assert len(messages) == sent
    replicas = [make_harness(reports_per_hour=limit) for _ in range(2)]
    first, second = [await replica.__anext__() for replica in replicas]
    try:
        people = [first.chat(user_id=4242), second.chat(user_id=4242)]
        await asyncio.gather(*(people[i % 2].send(text) for i, text in enumerate(messages)))
        # concurrent sends share each replica's outbox, so the replies are read from both at once
        replies = [reply.plain for harness in (first, second) for reply in harness.api.sent]
        assert len(replies) == sent
        counted = [reply for reply in replies if "Counted" in reply]
        refused = [reply for reply in replies if "most reports" in reply]
        assert (len(counted), len(refused)) == (limit, sent - limit)
        assert await first.services.db.scalar("SELECT COUNT(*) FROM crowd_reports") == limit
    finally:
        for replica in replicas:
            with pytest.raises(StopAsyncIteration):
                await replica.__anext__()


async def test_simultaneous_reports_of_many_people_through_two_replicas_all_count(make_harness):
    """Each replica counted the bucket without the other's uncommitted report, and the last
    one to write the observation won: twenty people could show as a handful."""
    people = 20
    replicas = [make_harness() for _ in range(2)]
    first, second = [await replica.__anext__() for replica in replicas]
    try:
        chats = [(first, second)[i % 2].chat(user_id=5000 + i) for i in range(people)]
        await asyncio.gather(*(chat.send("/report X Pakistan") for chat in chats))
        assert await crowd_count(first, "x", TODAY) == people
    finally:
        for replica in replicas:
            with pytest.raises(StopAsyncIteration):
                await replica.__anext__()

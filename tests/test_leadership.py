"""Leadership and outbox claims, one process at a time: the parts the replica test relies on."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.runtime.leadership import Leadership
from storage.database import Database
from storage.leases import AdvisoryLock, FileLock, SoleLock, leader_backend, lock_for
from storage.outbox import NewMessage, claim_due, enqueue, release_claims

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def pg_url(postgres_databases):
    """Leadership is shared only on PostgreSQL."""
    return postgres_databases(migrated=True)


async def queue(db: Database, count: int) -> None:
    async with db.transaction() as connection:
        await enqueue(
            connection,
            [
                NewMessage(chat_id=100 + n, kind="alert", dedup_key=f"k{n}", text="hi")
                for n in range(count)
            ],
            NOW,
        )


async def campaign_until_elected(leadership: Leadership, *, within: float) -> bool:
    """What the watch loop does: look again until the old session is gone (or give up)."""
    deadline = asyncio.get_running_loop().time() + within
    while not await leadership.campaign():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_an_in_memory_database_always_leads():
    db = await Database.open(":memory:")
    try:
        assert isinstance(lock_for(db), SoleLock)
        leadership = Leadership(lock_for(db))
        assert await leadership.campaign() is True
        await leadership.stop()
    finally:
        await db.close()


async def test_two_runs_on_one_sqlite_file_share_the_work_and_hand_it_over(database_path):
    first_db, second_db = await Database.open(database_path), await Database.open(database_path)
    first, second = Leadership(lock_for(first_db)), Leadership(lock_for(second_db))
    try:
        assert isinstance(first.lock, FileLock)
        assert await first.campaign() is True
        assert await second.campaign() is False  # the first one does the scheduled work
        assert await first.campaign() is True  # and keeps it
        await first.stop()  # a stop (or death: the kernel drops its locks) frees it at once
        assert await second.campaign() is True
    finally:
        await second.stop()
        await first_db.close()
        await second_db.close()


@pytest.mark.process
def test_a_killed_sqlite_leader_is_replaced_at_once(database_path, tmp_path):
    """The lock is the kernel's: a process killed with SIGKILL holds nothing."""
    ready = tmp_path / "ready"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, pathlib, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "pathlib.Path(sys.argv[2]).touch()\n"
            "time.sleep(60)\n",
            f"{database_path}.leader",
            str(ready),
        ]
    )
    try:
        while not ready.exists():
            assert holder.poll() is None
            time.sleep(0.01)

        async def campaign() -> bool:
            db = await Database.open(database_path)
            leadership = Leadership(lock_for(db))
            try:
                return await leadership.campaign()
            finally:
                await leadership.stop()
                await db.close()

        assert asyncio.run(campaign()) is False
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert asyncio.run(campaign()) is True
    finally:
        holder.kill()
        holder.wait()


async def test_one_of_two_replicas_leads_and_the_other_takes_over_when_it_dies(pg_url):
    db = await Database.open(pg_url)
    first, second = Leadership(AdvisoryLock(pg_url)), Leadership(AdvisoryLock(pg_url))
    events: list[str] = []

    async def elected() -> None:
        events.append("second elected")

    async def deposed() -> None:
        events.append("first deposed")

    second.elected.append(elected)
    first.deposed.append(deposed)
    try:
        assert await first.campaign() is True
        assert await second.campaign() is False
        assert await leader_backend(db) is not None

        # The leader's connection dies the way a SIGKILL ends it: the server drops the session.
        pid = await leader_backend(db)
        await db.scalar("SELECT pg_terminate_backend(?)", (pid,))
        assert await campaign_until_elected(second, within=5.0)
        assert await first.campaign() is False  # it notices and steps down
        assert first.is_leader is False
        assert events == ["second elected", "first deposed"]
        assert await leader_backend(db) != pid
    finally:
        await first.stop()
        await second.stop()
        await db.close()


async def test_a_graceful_stop_hands_leadership_over_at_once(pg_url):
    first = Leadership(AdvisoryLock(pg_url))
    second = Leadership(AdvisoryLock(pg_url))
    try:
        assert await first.campaign() is True
        await first.stop()
        assert await second.campaign() is True
    finally:
        await second.stop()


async def test_the_server_gives_up_on_a_vanished_leader_within_seconds(pg_url):
    """Keepalives for an idle connection, a user timeout for one with an answer unacknowledged."""
    lock = AdvisoryLock(pg_url)
    try:
        assert await lock.try_acquire() is True
        session = lock._connection  # the lock's own session: its settings are what the server uses
        assert [
            await session.fetchval(f"SHOW {name}")
            for name in ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count")
        ] == ["4", "2", "3"]
        assert await session.fetchval("SHOW tcp_user_timeout") == "10000"  # ms
    finally:
        await lock.release()


async def test_claimed_rows_are_never_handed_to_a_second_deliverer(db):
    await queue(db, 10)
    mine = await claim_due(db, "replica-a", NOW, limit=6)
    theirs = await claim_due(db, "replica-b", NOW, limit=10)
    assert [row.chat_id for row in mine] == list(range(100, 106))
    assert [row.chat_id for row in theirs] == list(range(106, 110))
    assert await claim_due(db, "replica-c", NOW) == []
    # The holder itself sees its rows again (a retry of its own batch).
    assert len(await claim_due(db, "replica-a", NOW)) == 6


async def test_concurrent_claims_split_the_outbox_without_overlap(db):
    await queue(db, 200)
    batches = await asyncio.gather(
        *(claim_due(db, f"replica-{n}", NOW, limit=30) for n in range(8))
    )
    ids = [row.id for batch in batches for row in batch]
    assert len(ids) == len(set(ids)) == 200


async def test_a_claim_lapses_and_a_new_leader_releases_the_old_ones(db):
    await queue(db, 3)
    assert len(await claim_due(db, "dead-leader", NOW)) == 3
    assert await claim_due(db, "new-leader", NOW) == []
    later = NOW + timedelta(minutes=3)  # past the claim's hold
    assert len(await claim_due(db, "someone", later)) == 3
    assert await release_claims(db, keep="new-leader") == 3
    assert len(await claim_due(db, "new-leader", NOW)) == 3


async def test_a_follower_takes_in_the_summaries_the_leader_refreshed(database_target):
    from bot.core.catalog import default_catalog
    from bot.engine.refresh import Summaries

    leader_db, follower_db = await Database.open(database_target), None
    try:
        from bot.imports.dataset import embedded_dataset_path, load_dataset
        from storage.imports import import_dataset

        catalog = default_catalog()
        await import_dataset(leader_db, load_dataset(embedded_dataset_path(), catalog))
        follower_db = await Database.open(database_target)
        leader, follower = Summaries(leader_db, catalog), Summaries(follower_db, catalog)
        assert await follower.follow() == 0
        report = await leader.refresh(NOW)
        assert report.pairs > 0
        assert await follower.follow() == report.pairs
        assert follower.prepared == leader.prepared
        assert await follower.follow() == 0  # nothing new since
    finally:
        await leader_db.close()
        if follower_db is not None:
            await follower_db.close()


async def test_scheduled_refresh_is_skipped_on_a_replica_that_does_not_lead(bot_harness):
    from bot.runtime.jobs import REFRESH_JOB
    from storage.dirty import dirty_pairs

    services = bot_harness.services
    [job] = bot_harness.application.job_queue.get_jobs_by_name(REFRESH_JOB)
    services.leadership.is_leader = False
    await bot_harness.send("/report x pk")
    await job.run(bot_harness.application)
    assert ("x", "PK") in {(s, r) for s, r, _ in await dirty_pairs(services.db)}
    services.leadership.is_leader = True
    await job.run(bot_harness.application)
    assert ("x", "PK") not in {(s, r) for s, r, _ in await dirty_pairs(services.db)}

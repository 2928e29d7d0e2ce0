"""The background refresh: the real JobQueue job, prepared summaries, staleness, incidents."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from bot.imports.dataset import parse_dataset
from bot.render.card import CARD_FORMAT
from bot.runtime.jobs import REFRESH_JOB
from storage.imports import import_dataset
from storage.incidents import recent_incidents

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


async def run_refresh_job(harness) -> None:
    """Run the scheduled job itself, as the JobQueue would."""
    [job] = harness.application.job_queue.get_jobs_by_name(REFRESH_JOB)
    await job.run(harness.application)


async def add(harness, data: dict) -> None:
    services = harness.services
    await import_dataset(services.db, parse_dataset(json.dumps(data), services.catalog))


def readings(service: str, region: str, start: datetime, counts: list[int], step: int = 15):
    return {
        "observations": [
            {
                "service": service,
                "region": region,
                "count": count,
                "source": "Test feed",
                "at": (start + timedelta(minutes=step * i)).isoformat(),
            }
            for i, count in enumerate(counts)
        ]
    }


async def test_status_reads_the_prepared_card_and_says_how_fresh_it_is(bot_harness):
    await run_refresh_job(bot_harness)
    bot_harness.clock.advance(seconds=40)
    text = (await bot_harness.send("/status X Pakistan")).plain
    assert "Updated 40 s ago" in text
    assert "23:06 PKT (18:06 UTC) · 136 reports" in text


async def test_prepared_overviews_list_regions_busiest_first(bot_harness):
    await run_refresh_job(bot_harness)
    lines = (await bot_harness.send("/status x")).plain.splitlines()[2:5]
    assert ["United States" in lines[0], "United Kingdom" in lines[1], "Pakistan" in lines[2]] == [
        True,
        True,
        True,
    ]


async def test_refresh_recomputes_only_pairs_with_new_data(bot_harness):
    summaries = bot_harness.services.summaries
    first = await summaries.refresh(NOW)
    assert first.pairs >= 7  # first run on this database: everything on record
    assert (await summaries.refresh(NOW)).pairs == 0
    await add(bot_harness, readings("signal", "Iran", NOW - timedelta(hours=1), [3, 4]))
    assert (await summaries.refresh(NOW)).pairs == 1


async def test_a_worldwide_statement_refreshes_every_region_of_that_service(bot_harness):
    summaries = bot_harness.services.summaries
    await summaries.refresh(NOW)
    await add(
        bot_harness,
        {
            "events": [
                {
                    "service": "x",
                    "region": "global",
                    "at": "2026-11-22T11:00:00Z",
                    "kind": "statement",
                    "text": "Test statement",
                    "source": "Test",
                }
            ]
        },
    )
    report = await summaries.refresh(NOW)
    # global + Pakistan, United States, United Kingdom (counts), France, India (reports)
    assert report.pairs == 6


@pytest.mark.process
async def test_an_import_from_another_process_reaches_the_next_refresh(bot_harness, tmp_path):
    await run_refresh_job(bot_harness)
    data = tmp_path / "cron.json"
    data.write_text(json.dumps(readings("x", "pk", NOW - timedelta(minutes=30), [80, 95])))
    database = str(bot_harness.services.settings.database)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "--database", database, "import", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    before = (await bot_harness.send("/status x pk")).plain
    assert "Outage now" not in before  # the prepared card does not know yet
    await run_refresh_job(bot_harness)
    after = (await bot_harness.send("/status x pk")).plain
    assert "🔴 Outage now" in after
    assert "95 reports — Test feed" in after


async def test_a_failing_refresh_keeps_the_last_card_marked_stale_then_recovers(
    bot_harness, monkeypatch, caplog
):
    summaries = bot_harness.services.summaries
    await run_refresh_job(bot_harness)
    good = (await bot_harness.send("/status x pk")).plain

    async def broken(*args, **kwargs):
        raise OSError("disk I/O error")

    await add(bot_harness, readings("x", "pk", NOW - timedelta(minutes=30), [80]))
    with monkeypatch.context() as patch:
        patch.setattr(summaries, "_summary", broken)
        bot_harness.clock.advance(minutes=1)
        await run_refresh_job(bot_harness)
    stale = (await bot_harness.send("/status x pk")).plain
    assert "May be out of date: refreshing has failed since" in stale
    assert stale.split("Updated")[0] == good.split("Updated")[0]  # the last good card
    assert "refresh failed" in caplog.text and "disk I/O error" in caplog.text

    bot_harness.clock.advance(minutes=1)
    await run_refresh_job(bot_harness)
    fresh = (await bot_harness.send("/status x pk")).plain
    assert "May be out of date" not in fresh
    assert "80 reports — Test feed" in fresh


async def test_incidents_are_stored_with_peak_and_resolution(bot_harness):
    summaries = bot_harness.services.summaries
    db = bot_harness.services.db
    start = NOW - timedelta(hours=2)
    await add(bot_harness, readings("discord", "de", start, [5, 70, 240, 90, 5, 5, 5, 5]))
    report = await summaries.refresh(NOW)
    [incident] = await recent_incidents(db, service="discord", region="DE", until=NOW)
    assert incident.peak_count == 240
    assert incident.opened_at == start + timedelta(minutes=15)
    assert incident.resolved_at == start + timedelta(minutes=60)
    assert [t.kind for t in report.transitions] == []  # it began and ended before we looked


async def test_refresh_reports_open_escalate_and_resolve(bot_harness):
    summaries = bot_harness.services.summaries
    start = NOW - timedelta(minutes=105)
    await add(bot_harness, readings("discord", "de", start, [30]))
    unsure = await summaries.refresh(NOW)
    assert unsure.transitions == ()  # one elevated reading is not yet sure
    await add(bot_harness, readings("discord", "de", start + timedelta(minutes=15), [30]))
    opened = await summaries.refresh(NOW)
    assert [(t.kind, t.incident.level) for t in opened.transitions] == [("opened", "elevated")]
    await add(bot_harness, readings("discord", "de", start + timedelta(minutes=30), [300]))
    worse = await summaries.refresh(NOW)
    assert [(t.kind, t.previous_level) for t in worse.transitions] == [("escalated", "elevated")]
    await add(bot_harness, readings("discord", "de", start + timedelta(minutes=45), [2, 2, 2]))
    assert (await summaries.refresh(NOW)).transitions == ()
    await add(bot_harness, readings("discord", "de", start + timedelta(minutes=90), [2]))
    ended = await summaries.refresh(NOW)
    assert [t.kind for t in ended.transitions] == ["resolved"]


async def test_a_new_surge_after_the_cooldown_is_a_new_incident_with_its_own_id(bot_harness):
    summaries = bot_harness.services.summaries
    start = NOW - timedelta(hours=14)
    await add(bot_harness, readings("discord", "de", start, [60]))
    first = await summaries.refresh(start + timedelta(minutes=1))
    await add(bot_harness, readings("discord", "de", NOW - timedelta(minutes=15), [70]))
    later = await summaries.refresh(NOW)
    [opened] = first.transitions
    assert [t.kind for t in later.transitions] == ["resolved", "opened"]
    resolved, new = later.transitions
    assert resolved.incident.id == opened.incident.id
    assert new.incident.id != opened.incident.id


async def test_a_restart_starts_with_the_stored_summaries(make_harness):
    async for harness in make_harness():
        await run_refresh_job(harness)
    async for harness in make_harness():
        assert ("x", "PK") in harness.services.summaries.prepared
        harness.clock.advance(seconds=5)
        assert "Updated 5 s ago" in (await harness.send("/status x pk")).plain


async def test_a_card_stored_in_an_older_layout_is_never_served_and_is_prepared_again(
    make_harness,
):
    async for harness in make_harness():
        await run_refresh_job(harness)
        # What a version before the short card left behind.
        async with harness.services.db.transaction() as connection:
            await connection.execute(
                "UPDATE summaries SET card = ?, card_format = 1", ("THE OLD LONG CARD",)
            )
    async for harness in make_harness():
        summaries = harness.services.summaries
        assert ("x", "PK") in summaries.prepared  # its overview lines still serve
        first = (await harness.send("/status x pk")).plain
        assert "THE OLD LONG CARD" not in first
        assert "As of" in first and "X in Pakistan" in first  # made on demand, in the new layout
        assert "Pakistan" in (await harness.send("/status x")).plain
        await run_refresh_job(harness)
        assert not summaries.outdated
        harness.clock.advance(seconds=5)
        assert "Updated 5 s ago" in (await harness.send("/status x pk")).plain
        formats = await harness.services.db.fetchall("SELECT DISTINCT card_format FROM summaries")
        assert [tuple(row) for row in formats] == [(CARD_FORMAT,)]


async def test_asking_about_the_past_computes_instead_of_using_todays_card(make_harness):
    async for harness in make_harness():
        await run_refresh_job(harness)
        harness.clock.set(datetime(2025, 3, 10, 18, 30, tzinfo=UTC))
        text = (await harness.send("/status x pk")).plain
        assert "🔴 Outage now" in text
        assert "As of Mon 10 Mar 2025" in text


async def test_incidents_lists_recent_incidents_with_duration_and_peak(bot_harness):
    await run_refresh_job(bot_harness)
    text = (await bot_harness.send("/incidents x pakistan")).plain
    assert "Recent incidents for X in Pakistan" in text
    assert (
        "X in Pakistan: Mon 10 Mar 2025, 15:02 PKT (10:02 UTC) → Tue 11 Mar 2025, "
        "00:06 PKT (19:06 UTC 10 Mar), 9 h 4 min, peak 136 at 23:06 PKT (18:06 UTC)"
    ) in text
    everything = (await bot_harness.send("/incidents")).plain
    assert "X in United Kingdom" in everything and "a single reading" in everything


async def test_incidents_as_of_the_outage_shows_it_ongoing(bot_harness):
    await run_refresh_job(bot_harness)
    bot_harness.clock.set(datetime(2025, 3, 10, 18, 30, tzinfo=UTC))
    text = (await bot_harness.send("/incidents pk")).plain
    assert "🔴 🇵🇰 X in Pakistan: since Mon 10 Mar 2025, 15:02 PKT (10:02 UTC), ongoing" in text


async def test_incidents_for_an_unknown_name_suggests(bot_harness):
    text = (await bot_harness.send("/incidents pakistn")).plain
    assert "Did you mean" in text and "Pakistan" in text


async def test_replay_prints_the_outage_unfolding(tmp_path):
    from bot.core.catalog import default_catalog
    from bot.engine.replay import replay
    from bot.imports.dataset import embedded_dataset_path

    said: list[str] = []
    waits: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    changes = await replay(
        embedded_dataset_path(),
        tmp_path / "r.sqlite3",
        default_catalog(),
        speed=600,
        say=said.append,
        sleep=no_sleep,
    )
    text = "\n".join(said)
    assert "X in Pakistan: incident opened, level outage" in text
    assert "X in Pakistan: new peak 136" in text
    assert "X in Pakistan: level outage → elevated" in text
    assert "X in Pakistan: incident resolved, peak 136 at 23:06 PKT (18:06 UTC)" in text
    assert changes >= 6
    assert max(waits) == 5.0  # a 6-hour gap at 600× is 38 s, capped at --max-wait
    assert round(waits[1], 1) == 0.6  # 15:02 → 15:08 is 360 s, at 600× 0.6 s


async def test_a_starting_bot_prepares_cards_at_once_not_one_interval_later(bot_harness):
    """The leader's first refresh runs as the JobQueue starts (the interval is a minute)."""
    application = bot_harness.application
    refreshed = asyncio.Event()

    async def note_refresh(connection, batch) -> int:
        refreshed.set()
        return 0

    bot_harness.services.summaries.listeners.append(note_refresh)
    await application.post_init(application)  # as `outagebot run` does: this replica leads
    await application.start()
    try:
        await asyncio.wait_for(refreshed.wait(), timeout=10)
    finally:
        await application.stop()
    assert "Updated" in (await bot_harness.send("/status X Pakistan")).plain

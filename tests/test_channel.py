"""The channel through the real stack: a live post per incident, its edits, the daily digest and
/broadcast."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import pytest

from bot.delivery.outbox import Delivery
from bot.engine.channel_posts import queue_digest
from bot.imports.dataset import parse_dataset
from bot.offline.botapi import InProcessBotAPI
from bot.render import i18n
from bot.runtime.jobs import DIGEST_JOB
from storage.imports import import_dataset
from storage.outbox import rows_by_key

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # 17:00 in Pakistan
CHANNEL = -100123
ADMIN = 1001  # the default driver's user id


class FakeTime:
    """Physical time for the rate limiter: sleeping advances it instantly."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


async def with_channel(make_harness, **settings):
    settings = {"channel_id": CHANNEL, "admin_ids": frozenset({ADMIN}), **settings}
    async for harness in make_harness(at=NOW, **settings):
        fake = FakeTime()
        services = harness.services
        services.delivery = Delivery(
            harness.application.bot,
            services.db,
            services.clock,
            monotonic=fake.monotonic,
            sleep=fake.sleep,
        )
        yield harness


@pytest.fixture
async def harness(make_harness):
    async for harness in with_channel(make_harness):
        yield harness


async def readings(harness, counts: dict[str, int], service: str = "x", region: str = "pk"):
    """Readings at UTC clock times of the test day, e.g. {"11:00": 90}."""
    data = {
        "observations": [
            {
                "service": service,
                "region": region,
                "count": count,
                "source": "Test monitor",
                "at": f"2026-11-22T{clock}:00+00:00",
            }
            for clock, count in counts.items()
        ]
    }
    services = harness.services
    await import_dataset(services.db, parse_dataset(json.dumps(data), services.catalog))


async def refresh(harness) -> int:
    return (await harness.services.summaries.refresh(harness.clock.now())).queued


async def drain(harness) -> int:
    return await harness.services.delivery.drain()


def in_channel(harness, method: str = "sendMessage") -> list:
    return [m for m in harness.api.messages_for(CHANNEL) if m.method == method]


# ---------------------------------------------------------------- live posts


async def test_the_channel_gets_a_post_when_an_incident_opens(harness):
    await readings(harness, {"11:00": 90})
    assert await refresh(harness) == 1
    assert await drain(harness) == 1
    [post] = in_channel(harness)
    lines = post.plain.splitlines()
    assert lines[:2] == ["🔴 X is down in Pakistan only", "🔴 🇵🇰 X in Pakistan: outage"]
    assert "Latest: 90 reports at 16:00 PKT (11:00 UTC), typical not known — Test monitor" in lines
    assert "Since Sun 22 Nov 2026, 16:00 PKT (11:00 UTC)" in lines
    assert "⛔ X is blocked in Pakistan." in lines
    # A command is not tappable in a channel: the post links to the bot, opened on this card.
    assert lines[-1] == "More: /status x pk (https://t.me/outage_test_bot?start=status-x-pk)"
    [row] = await rows_by_key(harness.services.db, "post:incident:x:PK:")
    assert row.status == "sent" and row.message_id == post.message_id


async def test_a_quiet_refresh_queues_nothing_for_the_channel(harness):
    await readings(harness, {"11:00": 90})
    await refresh(harness)
    await drain(harness)
    harness.clock.advance(minutes=5)
    assert await refresh(harness) == 0  # the pair is live and refreshed, but nothing changed
    assert await drain(harness) == 0
    assert in_channel(harness, "editMessageText") == []


async def test_a_worse_reading_edits_the_same_post_at_most_once_a_minute(harness):
    await readings(harness, {"11:00": 90})
    await refresh(harness)
    await drain(harness)
    [post] = in_channel(harness)

    await readings(harness, {"11:15": 200})
    assert await refresh(harness) == 1
    assert await drain(harness) == 0  # the post went out this minute: the edit waits
    await readings(harness, {"11:30": 300})
    assert await refresh(harness) == 1  # replaces the waiting edit instead of queueing behind it
    harness.clock.advance(seconds=30)
    assert await drain(harness) == 0

    harness.clock.advance(seconds=30)
    assert await drain(harness) == 1
    [edit] = in_channel(harness, "editMessageText")
    assert edit.message_id == post.message_id
    assert "Latest: 300 reports at 16:30 PKT (11:30 UTC)" in edit.plain
    assert "Peak: 300 reports at 16:30 PKT (11:30 UTC)" in edit.plain
    edits = await rows_by_key(harness.services.db, "edit:")
    assert [row.status for row in edits] == ["dropped", "sent"]

    await readings(harness, {"11:45": 400})
    await refresh(harness)
    assert await drain(harness) == 0
    harness.clock.advance(minutes=1)
    assert await drain(harness) == 1
    assert [m.message_id for m in in_channel(harness, "editMessageText")] == [post.message_id] * 2
    assert len(in_channel(harness)) == 1  # one post, never a second message


async def test_resolution_edits_the_post_to_resolved_with_duration_and_peak(harness):
    await readings(harness, {"11:00": 90, "11:15": 400})
    await refresh(harness)
    await drain(harness)
    [post] = in_channel(harness)
    await readings(harness, {"12:00": 3, "12:15": 3, "12:30": 3, "12:45": 3})  # an hour quiet
    harness.clock.advance(minutes=45)
    assert await refresh(harness) == 1
    harness.clock.advance(minutes=1)
    assert await drain(harness) == 1
    [final] = in_channel(harness, "editMessageText")
    assert final.message_id == post.message_id
    lines = final.plain.splitlines()
    assert lines[0] == "✅ 🇵🇰 X in Pakistan: resolved"
    assert (
        "Outage from Sun 22 Nov 2026, 16:00 PKT (11:00 UTC) to 17:00 PKT (12:00 UTC), lasted 1 h"
        in lines
    )
    assert "Peak: 400 reports at 16:15 PKT (11:15 UTC)" in lines
    harness.clock.advance(minutes=5)
    assert await refresh(harness) == 0 and await drain(harness) == 0


async def test_incidents_below_the_channel_level_get_no_post_until_they_reach_it(harness):
    await readings(harness, {"11:00": 30})  # elevated; the channel's default is outage
    await refresh(harness)
    await drain(harness)
    assert in_channel(harness) == []
    await readings(harness, {"11:15": 200})
    assert await refresh(harness) == 1
    await drain(harness)
    [post] = in_channel(harness)
    assert post.plain.splitlines()[1] == "🔴 🇵🇰 X in Pakistan: outage"
    assert "Since Sun 22 Nov 2026, 16:00 PKT (11:00 UTC)" in post.plain


async def test_a_post_that_eases_says_how_bad_it_was(harness):
    await readings(harness, {"11:00": 90})
    await refresh(harness)
    await drain(harness)
    await readings(harness, {"11:15": 30})
    await refresh(harness)
    harness.clock.advance(minutes=1)
    await drain(harness)
    [edit] = in_channel(harness, "editMessageText")
    assert edit.plain.splitlines()[:2] == [
        "🔴 X is down in Pakistan only",  # the incident was an outage: the verdict stands
        "🟠 🇵🇰 X in Pakistan: elevated reports (down from outage)",
    ]
    assert "Peak: 90 reports at 16:00 PKT (11:00 UTC)" in edit.plain


async def test_the_channel_level_can_be_lowered_to_elevated(make_harness):
    async for harness in with_channel(make_harness, channel_min_level="elevated"):
        await readings(harness, {"11:00": 30, "11:15": 30})  # two running: the bot is sure
        await refresh(harness)
        await drain(harness)
        [post] = in_channel(harness)
        assert post.plain.splitlines()[:2] == [
            "🟠 Reports of X problems in Pakistan are up, not confirmed",
            "🟠 🇵🇰 X in Pakistan: elevated reports",
        ]


async def test_without_a_channel_nothing_is_posted(make_harness):
    async for harness in make_harness(at=NOW):
        await readings(harness, {"11:00": 90})
        assert await refresh(harness) == 0
        assert harness.application.bot_data.channel_id is None
        assert harness.application.job_queue.get_jobs_by_name(DIGEST_JOB) == ()


async def test_a_channel_username_is_looked_up_once_at_start(make_harness):
    api = InProcessBotAPI(clock=lambda: NOW.timestamp())
    api.register_chat({"id": -100777, "type": "channel", "title": "Outages", "username": "outs"})
    async for harness in make_harness(at=NOW, api=api, channel_id="@outs"):
        assert harness.application.bot_data.channel_id == -100777
        harness.services.delivery = Delivery(
            harness.application.bot, harness.services.db, harness.services.clock
        )
        await readings(harness, {"11:00": 90})
        await refresh(harness)
        await drain(harness)
        assert [m.method for m in api.messages_for(-100777)] == ["sendMessage"]


async def test_an_unknown_channel_username_turns_the_channel_off_with_a_warning(
    make_harness, caplog
):
    with caplog.at_level(logging.WARNING):
        async for harness in make_harness(at=NOW, channel_id="@nowhere", admin_ids="1001"):
            assert harness.application.bot_data.channel_id is None
            assert "no channel to post to" in (await harness.send("/broadcast hi")).plain
    assert "channel @nowhere could not be looked up" in caplog.text


# ---------------------------------------------------------------- the daily digest


async def test_the_digest_at_its_local_time_lists_the_days_incidents(make_harness):
    zone = {"digest_time": "20:00", "digest_timezone": "Asia/Karachi"}
    async for harness in with_channel(make_harness, **zone):
        quiet = {"11:30": 3, "11:45": 3, "12:00": 3, "12:15": 3}
        await readings(harness, {"11:00": 90, "11:15": 400, **quiet})
        await readings(harness, {"10:00": 120}, service="youtube", region="us")
        harness.clock.advance(minutes=15)
        await refresh(harness)
        [job] = harness.application.job_queue.get_jobs_by_name(DIGEST_JOB)
        trigger = job.job.trigger
        assert str(trigger.timezone) == "Asia/Karachi"
        assert "hour='20', minute='0'" in str(trigger)

        harness.clock.set(datetime(2026, 11, 22, 15, 0, tzinfo=UTC))  # 20:00 in Karachi
        services = harness.services
        assert await queue_digest(services, harness.clock.now(), channel_id=CHANNEL) == 1
        await drain(harness)
        digest = in_channel(harness)[-1]
        lines = digest.plain.splitlines()
        assert lines[0] == "📋 Daily digest · Sun 22 Nov 2026"
        assert "Incidents in the past 24 hours (2), newest first:" in lines
        assert any("X in Pakistan: Sun 22 Nov 2026, 16:00 PKT (11:00 UTC) →" in li for li in lines)
        assert any("YouTube in United States" in line for line in lines)

        harness.clock.advance(hours=3)  # 23:00 in Karachi: the same local day
        assert await queue_digest(services, harness.clock.now(), channel_id=CHANNEL) == 0
        assert len(await rows_by_key(services.db, "digest:")) == 1
        harness.clock.advance(hours=1, minutes=1)  # 00:01 the next day in Karachi
        assert await queue_digest(services, harness.clock.now(), channel_id=CHANNEL) == 1
        assert [row.dedup_key for row in await rows_by_key(services.db, "digest:")] == [
            "digest:2026-11-22",
            "digest:2026-11-23",
        ]


async def test_a_day_without_incidents_gets_a_digest_saying_so(harness):
    await readings(harness, {"11:00": 90, "11:15": 2, "11:30": 2, "11:45": 2, "12:00": 2})
    await refresh(harness)
    harness.clock.advance(days=2)
    assert await queue_digest(harness.services, harness.clock.now(), channel_id=CHANNEL) == 1
    await drain(harness)
    digest = in_channel(harness)[-1]
    assert digest.plain == "📋 Daily digest · Tue 24 Nov 2026\n\nNo incidents in the past 24 hours."


async def test_the_digest_is_in_english_whatever_language_was_in_use(harness):
    with i18n.use_language("ur"):
        assert await queue_digest(harness.services, harness.clock.now(), channel_id=CHANNEL) == 1
    await drain(harness)
    assert in_channel(harness)[-1].plain.startswith("📋 Daily digest · Sun 22 Nov 2026")


# ---------------------------------------------------------------- /broadcast


async def test_an_admins_broadcast_reaches_the_channel_escaped_and_formatted(harness):
    reply = await harness.send("/broadcast Maintenance at 22:00 <UTC> & after")
    assert reply.plain.startswith("Queued")
    assert await drain(harness) == 1
    [post] = in_channel(harness)
    assert post.plain == "Maintenance at 22:00 <UTC> & after"
    [row] = await rows_by_key(harness.services.db, "broadcast:")
    assert row.kind == "broadcast" and row.status == "sent"


async def test_a_non_admin_is_refused_and_nothing_is_queued(harness):
    someone = harness.chat(user_id=2002, first_name="Bilal")
    [reply] = await someone.send("/broadcast hello everyone")
    assert "Only the bot's admins can post to its channel" in reply.plain
    assert await rows_by_key(harness.services.db, "broadcast:") == []


async def test_broadcast_without_text_shows_usage(harness):
    reply = await harness.send("/broadcast")
    assert "Write the message after the command" in reply.plain
    assert await rows_by_key(harness.services.db, "broadcast:") == []


async def test_an_over_long_broadcast_is_refused_before_it_is_queued(harness):
    reply = await harness.send("/broadcast " + "x" * 5000)
    assert "Telegram allows 4,096" in reply.plain
    assert await rows_by_key(harness.services.db, "broadcast:") == []


async def test_broadcast_without_a_channel_says_how_to_set_one(make_harness):
    async for harness in make_harness(at=NOW, admin_ids=frozenset({ADMIN})):
        reply = await harness.send("/broadcast hello")
        assert "OUTAGEBOT_CHANNEL_ID" in reply.plain


async def test_broadcast_is_in_help_for_admins_but_not_in_the_command_menu(harness):
    assert "/broadcast <text> — for the bot's admins" in (await harness.send("/help")).plain
    assert "broadcast" not in [command["command"] for command in harness.api.commands]

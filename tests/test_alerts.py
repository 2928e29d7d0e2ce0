"""Alerts and the outbox through the real stack: fan-out, dedup, quiet hours, Telegram errors."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.delivery.outbox import Delivery
from bot.delivery.ratelimit import SendLimits
from bot.imports.dataset import parse_dataset
from storage.imports import import_dataset
from storage.outbox import release_claims, rows_by_key, status_counts
from storage.subscriptions import subscribe, subscriptions_of

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class FakeTime:
    """Physical time for the rate limiter: sleeping advances it instantly."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def delivery(bot_harness, fake_time) -> Delivery:
    services = bot_harness.services
    services.delivery = Delivery(
        bot_harness.application.bot,
        services.db,
        services.clock,
        monotonic=fake_time.monotonic,
        sleep=fake_time.sleep,
    )
    return services.delivery


async def follow(
    harness,
    chat_id: int,
    service: str = "*",
    region: str = "*",
    *,
    level: str = "elevated",
    kind: str = "private",
) -> None:
    await subscribe(
        harness.services.db,
        chat_id,
        kind=kind,
        title=None,
        service=service,
        region=region,
        min_level=level,
        at=NOW,
        limit=50,
    )


async def reports(
    harness,
    counts: list[int],
    *,
    start: datetime | None = None,
    service: str = "x",
    region: str = "pk",
) -> None:
    start = start or NOW - timedelta(minutes=15 * len(counts))
    data = {
        "observations": [
            {
                "service": service,
                "region": region,
                "count": c,
                "source": "Test monitor",
                "at": (start + timedelta(minutes=15 * i)).isoformat(),
            }
            for i, c in enumerate(counts)
        ]
    }
    services = harness.services
    await import_dataset(services.db, parse_dataset(json.dumps(data), services.catalog))


async def refresh(harness) -> int:
    report = await harness.services.summaries.refresh(harness.clock.now())
    return report.queued


def alerts_to(harness, chat_id: int) -> list:
    """Messages to the chat that are not replies to something the person typed."""
    return [
        m
        for m in harness.api.sent
        if m.chat_id == chat_id
        and m.method == "sendMessage"
        and ("X in " in m.plain or "YouTube in " in m.plain)
        and "/subscribe" not in m.text
        and "You'll" not in m.plain
    ]


async def test_a_subscriber_is_alerted_when_an_incident_opens(bot_harness, delivery):
    reply = await bot_harness.send("/subscribe X Pakistan")
    assert "X" in reply.plain and "Pakistan" in reply.plain
    await reports(bot_harness, [90])
    assert await refresh(bot_harness) == 1
    assert await delivery.drain() == 1
    [alert] = alerts_to(bot_harness, bot_harness.driver.chat_id)
    assert "X in Pakistan: outage" in alert.plain
    assert "90 reports at 16:45 PKT (11:45 UTC), typical not known — Test monitor" in alert.plain
    assert "⛔ X is blocked in Pakistan." in alert.plain
    assert "/status x pk" in alert.plain
    assert alert.disable_notification is False


async def test_overlapping_subscriptions_get_one_alert_per_transition(bot_harness, delivery):
    chat = 4242
    await follow(bot_harness, chat, "x", "*")
    await follow(bot_harness, chat, "*", "PK")
    await follow(bot_harness, chat, "x", "PK")
    await reports(bot_harness, [90])
    assert await refresh(bot_harness) == 1
    await delivery.drain()
    assert len(alerts_to(bot_harness, chat)) == 1


async def test_escalation_and_resolution_are_alerted_and_levels_respected(bot_harness, delivery):
    everything, outages_only = 5001, 5002
    await follow(bot_harness, everything, "x", "PK")
    await follow(bot_harness, outages_only, "x", "PK", level="outage")
    # Two elevated readings running make the bot sure; four quiet ones end it.
    start = NOW - timedelta(minutes=105)
    await reports(bot_harness, [30, 30], start=start)
    await refresh(bot_harness)
    await reports(bot_harness, [200], start=start + timedelta(minutes=30))
    await refresh(bot_harness)
    await reports(bot_harness, [3, 3, 3, 3], start=start + timedelta(minutes=45))
    await refresh(bot_harness)
    await delivery.drain()
    # The verdict heads an alert about a live incident, the transition follows it.
    seen = [m.plain.splitlines()[:2] for m in alerts_to(bot_harness, everything)]
    assert [lines[0] for lines in seen] == [
        "🟠 Reports of X problems in Pakistan are up, not confirmed",
        "🔴 X is down in Pakistan only",
        "✅ 🇵🇰 X in Pakistan: back to normal",
    ]
    assert [lines[1] for lines in seen[:2]] == [
        "🟠 🇵🇰 X in Pakistan: elevated reports",
        "🔴 🇵🇰 X in Pakistan: now outage (was elevated reports)",
    ]
    heard = [m.plain.splitlines()[:2] for m in alerts_to(bot_harness, outages_only)]
    assert [lines[0] for lines in heard] == [
        "🔴 X is down in Pakistan only",
        "✅ 🇵🇰 X in Pakistan: back to normal",
    ]
    assert "peak 200" in alerts_to(bot_harness, everything)[-1].plain


async def test_a_surge_soon_after_back_to_normal_is_told_as_up_again_then_ended_again(
    bot_harness, delivery
):
    """Told "back to normal", a subscriber must hear when reports rise again, even within the
    cooldown that keeps it one incident; and its new end is told too."""
    chat = 5101
    await follow(bot_harness, chat, "x", "PK")
    start = NOW - timedelta(minutes=15 * 16)
    waves = [[3, 3], [30, 30], [3, 3, 3, 3], [40, 40], [3, 3, 3, 3]]
    for wave in waves:
        await reports(bot_harness, wave, start=start)
        await refresh(bot_harness)
        start += timedelta(minutes=15 * len(wave))
    await delivery.drain()
    heads = [m.plain.splitlines()[1] for m in alerts_to(bot_harness, chat)[:1]] + [
        m.plain.splitlines()[0] if "back to normal" in m.plain else m.plain.splitlines()[1]
        for m in alerts_to(bot_harness, chat)[1:]
    ]
    assert heads == [
        "🟠 🇵🇰 X in Pakistan: elevated reports",
        "✅ 🇵🇰 X in Pakistan: back to normal",
        "🟠 🇵🇰 X in Pakistan: reports up again (the same incident)",
        "✅ 🇵🇰 X in Pakistan: back to normal",
    ]
    assert await refresh(bot_harness) == 0  # and nothing is told twice


async def test_refreshing_again_queues_nothing_new_and_sent_rows_are_never_resent(
    bot_harness, delivery
):
    await follow(bot_harness, 6001, "x", "PK")
    await reports(bot_harness, [90])
    await refresh(bot_harness)
    await delivery.drain()
    bot_harness.services.summaries.live.add(("x", "PK"))
    assert await refresh(bot_harness) == 0
    assert await delivery.drain() == 0
    assert len(alerts_to(bot_harness, 6001)) == 1


async def test_alerts_in_quiet_hours_arrive_silently(bot_harness, delivery):
    await follow(bot_harness, bot_harness.driver.chat_id, "x", "PK")
    reply = await bot_harness.send("/quiet 16:00-18:00 pakistan")  # 12:00 UTC is 17:00 PKT
    assert "16:00" in reply.plain
    await reports(bot_harness, [90])
    await refresh(bot_harness)
    await delivery.drain()
    [alert] = alerts_to(bot_harness, bot_harness.driver.chat_id)
    assert alert.disable_notification is True


async def test_retry_after_waits_what_telegram_says_then_sends(bot_harness, delivery, fake_time):
    await follow(bot_harness, 7001, "x", "PK")
    await reports(bot_harness, [90])
    await refresh(bot_harness)
    bot_harness.api.fail_next("sendMessage", error_code=429, retry_after=7)
    assert await delivery.drain() == 0
    [row] = await rows_by_key(bot_harness.services.db, "alert:")
    assert row.status == "pending" and row.not_before == NOW + timedelta(seconds=7)
    bot_harness.clock.advance(seconds=7)
    assert await delivery.drain() == 1
    assert fake_time.now >= 1007.0  # nothing went out before Telegram's wait was over
    assert len(alerts_to(bot_harness, 7001)) == 1


async def test_forbidden_drops_that_chats_subscriptions(bot_harness, delivery):
    await follow(bot_harness, 7002, "x", "PK")
    await follow(bot_harness, 7002, "*", "US")
    await reports(bot_harness, [90])
    await refresh(bot_harness)
    bot_harness.api.fail_next(
        "sendMessage", error_code=403, description="Forbidden: bot was blocked by the user"
    )
    assert await delivery.drain() == 0
    assert await subscriptions_of(bot_harness.services.db, 7002) == []
    assert (await status_counts(bot_harness.services.db)) == {"dropped": 1}


async def test_chat_migrated_moves_subscriptions_and_resends_there(bot_harness, delivery):
    old, new = -4001, -1_000_000_004_001
    await follow(bot_harness, old, "x", "PK", kind="group")
    await reports(bot_harness, [90])
    await refresh(bot_harness)
    bot_harness.api.fail_next(
        "sendMessage",
        error_code=400,
        migrate_to_chat_id=new,
        description="Bad Request: group chat was upgraded to a supergroup chat",
    )
    assert await delivery.drain() == 1
    assert len(alerts_to(bot_harness, new)) == 1 and alerts_to(bot_harness, old) == []
    [moved] = await subscriptions_of(bot_harness.services.db, new)
    assert (moved.service, moved.region) == ("x", "PK")


async def test_bad_request_marks_the_row_failed_with_the_reason(bot_harness, delivery):
    await follow(bot_harness, 7003, "x", "PK")
    await reports(bot_harness, [90])
    await refresh(bot_harness)
    bot_harness.api.fail_next(
        "sendMessage", error_code=400, description="Bad Request: chat not found"
    )
    assert await delivery.drain() == 0
    [row] = await rows_by_key(bot_harness.services.db, "alert:")
    assert row.status == "failed" and "chat not found" in (row.error or "").lower()


async def test_network_errors_retry_with_backoff_then_give_up(bot_harness, delivery):
    await follow(bot_harness, 7004, "x", "PK")
    await reports(bot_harness, [90])
    await refresh(bot_harness)
    bot_harness.api.fail_network_next("sendMessage", times=2)
    assert await delivery.drain() == 0
    [row] = await rows_by_key(bot_harness.services.db, "alert:")
    assert row.attempts == 1 and row.not_before > NOW
    bot_harness.clock.advance(minutes=1)
    assert await delivery.drain() == 0
    bot_harness.clock.advance(minutes=1)
    assert await delivery.drain() == 1  # the third try got through

    bot_harness.api.fail_network_next("sendMessage", times=100)
    await follow(bot_harness, 7005, "youtube", "PK")
    await reports(bot_harness, [90], service="youtube")
    await refresh(bot_harness)
    for _ in range(delivery.max_attempts):
        bot_harness.clock.advance(minutes=10)
        await delivery.drain()
    opened = await rows_by_key(bot_harness.services.db, "alert:opened:")
    [failed] = [row for row in opened if row.chat_id == 7005]
    assert failed.status == "failed" and failed.attempts == delivery.max_attempts


def test_limits_keep_one_message_a_second_per_chat_and_twenty_a_minute_per_group():
    limits = SendLimits()
    limits.record(1, 100.0)
    assert limits.delay(1, 100.2) == pytest.approx(0.8)
    assert limits.delay(2, 100.2) == 0
    for i in range(20):
        limits.record(-5, 200.0 + i * 1.0)
    assert limits.delay(-5, 220.0) == pytest.approx(40.0)


def test_limits_keep_thirty_a_second_overall():
    limits = SendLimits()
    for chat in range(30):
        limits.record(chat + 1, 300.0 + chat * 0.01)
    assert limits.delay(999, 300.5) == pytest.approx(0.5)
    assert limits.delay(999, 301.0) == 0


async def test_fan_out_to_many_chats_keeps_within_thirty_a_second(bot_harness, delivery, fake_time):
    for chat in range(1, 91):
        await follow(bot_harness, chat, "x", "PK")
    await reports(bot_harness, [90])
    assert await refresh(bot_harness) == 90
    start = fake_time.now
    assert await delivery.drain() == 90
    assert fake_time.now - start >= 2.0  # 90 messages need at least three one-second windows


class HeldBot:
    """The real bot, but the first sendMessage waits on the wire until the test lets it go."""

    def __init__(self, bot) -> None:
        self.bot = bot
        self.on_the_wire = asyncio.Event()
        self.let_go = asyncio.Event()

    async def send_message(self, *args, **kwargs):
        if not self.on_the_wire.is_set():
            self.on_the_wire.set()
            await self.let_go.wait()
        return await self.bot.send_message(*args, **kwargs)


async def test_a_planned_stop_finishes_the_alert_in_flight_and_starts_no_other(bot_harness):
    """Cancelled mid-send, the row would stay unsent and the next leader would send it again."""
    services = bot_harness.services
    for chat in (1, 2):
        await follow(bot_harness, chat, "x", "PK")
    await reports(bot_harness, [90])
    assert await refresh(bot_harness) == 2
    held = HeldBot(bot_harness.application.bot)
    leaving = Delivery(held, services.db, services.clock, holder="leaving")  # type: ignore[arg-type]
    leaving.start()
    await held.on_the_wire.wait()
    stopping = asyncio.create_task(leaving.stop())
    await asyncio.sleep(0)  # let stop() begin: it must wait for the send, not cancel it
    assert not stopping.done()
    held.let_go.set()
    await stopping
    assert [len(alerts_to(bot_harness, chat)) for chat in (1, 2)] == [1, 0]
    assert await status_counts(services.db) == {"sent": 1, "pending": 1}

    next_leader = Delivery(bot_harness.application.bot, services.db, services.clock, holder="next")
    await release_claims(services.db, keep="next")
    assert await next_leader.drain() == 1
    assert [len(alerts_to(bot_harness, chat)) for chat in (1, 2)] == [1, 1]

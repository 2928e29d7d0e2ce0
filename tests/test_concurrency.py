"""A crowd at once: updates of different chats run side by side, one chat's in order, nothing lost.

The stack tests poll for real: the updates wait at the in-process Bot API, the Application's
Updater fetches them with getUpdates and its update processor runs them, as in production.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from conftest import BotHarness, offline_settings
from pydantic import ValidationError
from telegram import Update

from bot.offline.botapi import ChatDriver, SentMessage
from bot.runtime.ordering import ChatOrderedProcessor, ordering_key

# Fifty different pairs, so every report is new for its bucket and only the hourly limit refuses.
SERVICES = ("x", "facebook", "instagram", "youtube", "tiktok", "whatsapp", "telegram", "google")
REGIONS = ("pk", "uk", "us", "india", "germany", "france", "brazil")
PAIRS = [f"{service} {region}" for service in SERVICES for region in REGIONS][:50]
COUNTED = "Counted"
REFUSED = "most reports I count from one person in an hour"


def message(harness: BotHarness, driver: ChatDriver, text: str) -> dict:
    """A raw message update from `driver`'s person in `driver`'s chat, as Telegram sends it."""
    entity = {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
    incoming = harness.api.incoming_message(driver.chat, driver.user, text=text, entities=[entity])
    return {"update_id": harness.api.new_update_id(), "message": incoming}


async def poll_until_answered(harness: BotHarness, updates: list[dict]) -> list[SentMessage]:
    """Queue every update at once, let the real Updater poll them, return the replies.

    Each of these commands is answered with exactly one message.
    """
    first = len(harness.api.sent)
    for update in updates:
        harness.api.push_update(update)
    application = harness.application
    await application.start()
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        async with asyncio.timeout(30):
            while len(harness.api.sent) - first < len(updates):
                await asyncio.sleep(0.01)  # waiting on the bot's own tasks; no clock involved
    finally:
        await application.updater.stop()
        await application.stop()
    return harness.api.sent[first:]


@pytest.fixture
async def polling_harness(
    make_harness: Callable[..., AsyncIterator[BotHarness]],
) -> AsyncIterator[BotHarness]:
    async for harness in make_harness(concurrent_updates=64):
        yield harness


async def test_fifty_reports_at_once_from_one_person_in_fifty_chats_count_exactly_the_limit(
    polling_harness: BotHarness,
) -> None:
    """Different chats run concurrently, so only the database transaction can hold the limit."""
    harness = polling_harness
    groups = [
        harness.chat(user_id=4242, chat_id=-(5000 + index), chat_type="group")
        for index in range(50)
    ]
    updates = [
        message(harness, group, f"/report {pair}")
        for group, pair in zip(groups, PAIRS, strict=True)
    ]

    replies = await poll_until_answered(harness, updates)

    texts = [reply.plain for reply in replies]
    assert sum(COUNTED in text for text in texts) == 20
    assert sum(REFUSED in text for text in texts) == 30
    db = harness.services.db
    assert await db.scalar("SELECT COUNT(*) FROM crowd_reports") == 20
    assert await db.scalar("SELECT COUNT(DISTINCT reporter) FROM crowd_reports") == 1
    # every counted report's pair has its crowd observation, with the right count
    assert await db.scalar("SELECT COUNT(*) FROM observations WHERE count = 1") >= 20


async def test_fifty_reports_at_once_in_one_chat_are_answered_in_the_order_sent(
    polling_harness: BotHarness,
) -> None:
    harness = polling_harness
    person = harness.chat(user_id=4343)
    updates = [message(harness, person, f"/report {pair}") for pair in PAIRS]

    replies = await poll_until_answered(harness, updates)

    texts = [reply.plain for reply in replies]
    assert [COUNTED in text for text in texts] == [True] * 20 + [False] * 30
    assert all(REFUSED in text for text in texts[20:])
    rows = await harness.services.db.fetchall(
        "SELECT service, region FROM crowd_reports ORDER BY id"
    )
    counted = [(row["service"], row["region"]) for row in rows]
    catalog = harness.application.bot_data.catalog
    sent_first = [pair.split() for pair in PAIRS[:20]]
    assert counted == [
        (catalog.resolve_service(service).key, catalog.resolve_region(region).code)
        for service, region in sent_first
    ]


async def test_a_crowd_of_people_asking_for_status_each_get_the_card(
    polling_harness: BotHarness,
) -> None:
    harness = polling_harness
    people = [harness.chat(user_id=7000 + index) for index in range(40)]
    updates = [message(harness, person, "/status X Pakistan") for person in people]

    replies = await poll_until_answered(harness, updates)

    assert sorted(reply.chat_id for reply in replies) == [7000 + index for index in range(40)]
    assert all("since February 2024" in reply.plain for reply in replies)


def test_the_concurrency_setting_reaches_the_application(tmp_path) -> None:
    from bot.app.application import build_application

    application = build_application(offline_settings(tmp_path / "db.sqlite3", concurrent_updates=7))
    assert isinstance(application.update_processor, ChatOrderedProcessor)
    assert application.concurrent_updates == 7


@pytest.mark.parametrize("value", [0, -1, 5000])
def test_a_concurrency_outside_its_range_is_refused_with_its_name(tmp_path, value: int) -> None:
    with pytest.raises(ValidationError, match="concurrent_updates"):
        offline_settings(tmp_path / "db.sqlite3", concurrent_updates=value)


# ------------------------------------------------------------------ the processor on its own


def update_in(chat_id: int, update_id: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": chat_id, "type": "private", "first_name": "P"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "P"},
                "text": "hi",
            },
        },
        None,
    )


class Step:
    """A handler that starts, then waits to be let go: the order things happen is recorded."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.go = asyncio.Event()

    async def run(self) -> None:
        self.log.append(f"{self.name} started")
        await self.go.wait()
        self.log.append(f"{self.name} done")


async def settle() -> None:
    for _ in range(5):  # a few loop turns: every runnable task gets to its next wait
        await asyncio.sleep(0)


async def test_another_chat_runs_while_a_chat_waits_on_its_answer() -> None:
    processor = ChatOrderedProcessor(8)
    log: list[str] = []
    a1, a2, b1 = Step("a1", log), Step("a2", log), Step("b1", log)
    tasks = [
        asyncio.create_task(processor.process_update(update_in(1, 1), a1.run())),
        asyncio.create_task(processor.process_update(update_in(1, 2), a2.run())),
        asyncio.create_task(processor.process_update(update_in(2, 3), b1.run())),
    ]
    await settle()
    assert log == ["a1 started", "b1 started"]  # a2 waits for a1; chat 2 does not

    b1.go.set()
    await settle()
    assert log[-1] == "b1 done" and "a2 started" not in log

    a2.go.set()  # let go early: it still may not start before a1 is done
    await settle()
    assert "a2 started" not in log
    a1.go.set()
    await asyncio.gather(*tasks)
    assert log[-3:] == ["a1 done", "a2 started", "a2 done"]
    assert processor.chats_in_flight == 0  # nothing kept per chat once it is quiet


async def test_the_bound_holds_however_many_chats_arrive() -> None:
    processor = ChatOrderedProcessor(3)
    log: list[str] = []
    steps = [Step(f"c{chat}", log) for chat in range(6)]
    tasks = [
        asyncio.create_task(processor.process_update(update_in(chat, chat + 1), step.run()))
        for chat, step in enumerate(steps)
    ]
    await settle()
    assert len(log) == 3
    assert processor.current_concurrent_updates == 3
    for step in steps:
        step.go.set()
    await asyncio.gather(*tasks)
    assert sum(entry.endswith("done") for entry in log) == 6


def test_updates_of_a_chat_wait_behind_the_chat_and_inline_queries_behind_the_person() -> None:
    assert ordering_key(update_in(77, 1)) == ("chat", 77)
    inline = Update.de_json(
        {
            "update_id": 2,
            "inline_query": {
                "id": "q",
                "from": {"id": 77, "is_bot": False, "first_name": "P"},
                "query": "x",
                "offset": "",
            },
        },
        None,
    )
    assert ordering_key(inline) == ("user", 77)
    assert ordering_key(object()) is None


def is_urdu(text: str) -> bool:
    return any("\u0600" <= char <= "\u06ff" for char in text)


async def test_each_person_in_a_crowd_is_answered_in_their_own_language(
    polling_harness: BotHarness,
) -> None:
    """The reply language is set per update; concurrent updates must not take each other's."""
    harness = polling_harness
    people = [
        harness.chat(user_id=8000 + index, language_code="ur" if index % 2 else "en")
        for index in range(30)
    ]
    updates = [message(harness, person, "/status X Pakistan") for person in people]

    replies = await poll_until_answered(harness, updates)

    by_chat = {reply.chat_id: reply.plain for reply in replies}
    assert len(by_chat) == 30
    for index in range(30):
        assert is_urdu(by_chat[8000 + index]) == bool(index % 2), by_chat[8000 + index]

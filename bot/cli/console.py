"""`outagebot console` and `ask`: the real Application over the in-process Bot API.

Replies are printed as a person reads them in Telegram (HTML rendered to text), so what you see
here is what the bot would say there. A reply's buttons are listed by number; in the console,
typing the number presses the button, and `ask --full` presses every view of a card (timeline,
what was said, ban record, sources) and prints each, so the whole text is one command away.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram.ext import Application

from bot.app.application import build_application, close_services, open_services
from bot.config.settings import Settings
from bot.core.clock import Clock, FixedClock, SystemClock
from bot.offline.botapi import ChatDriver, InProcessBotAPI, SentMessage
from bot.render.timefmt import clock_pair
from bot.runtime.cards import BANS, CARD, CARD_PREFIX, SAID, SOURCES, TIMELINE
from storage.database import redacted


@asynccontextmanager
async def offline_bot(
    settings: Settings, clock: Clock
) -> AsyncIterator[tuple[Application, InProcessBotAPI]]:
    api = InProcessBotAPI(clock=lambda: clock.now().timestamp())
    application = build_application(settings, request=api, clock=clock)
    await application.initialize()
    try:
        services = await open_services(application)
        if services.leadership is not None:
            # No scheduled work runs here: a console beside `outagebot run` must not hold the
            # lead and leave that bot's alerts and refreshes waiting until the console exits.
            await services.leadership.stop()
        # No JobQueue runs here: one refresh at the real present prepares cards and incidents.
        await services.summaries.refresh_safely(SystemClock().now())
        yield application, api
    finally:
        await close_services(application)
        await application.shutdown()


# The card's views that edit it in place, in the order its buttons show them.
FULL_VIEWS = (TIMELINE, SAID, BANS, SOURCES)


def button_list(message: SentMessage) -> str:
    """`[1] 🕒 Timeline  [2] 💬 What was said …`: a reply's buttons, numbered for the console."""
    labels = [button["text"] for row in message.buttons for button in row]
    return "  ".join(f"[{number}] {label}" for number, label in enumerate(labels, start=1))


async def full_text(driver: ChatDriver, card: SentMessage) -> list[str]:
    """Every view of a card, pressed in turn and brought back, as a person would read them."""
    texts: list[str] = []
    for action in FULL_VIEWS:
        data = next(
            (d for d in card.callback_data if d.startswith(f"{CARD_PREFIX}|{action}|")), None
        )
        if data is None:
            continue
        [view] = [m for m in await driver.press(card, data) if m.message_id == card.message_id]
        texts.append(view.plain)
        back = next(d for d in view.callback_data if d.startswith(f"{CARD_PREFIX}|{CARD}|"))
        [card] = [m for m in await driver.press(view, back) if m.message_id == card.message_id]
    return texts


async def ask(settings: Settings, message: str, clock: Clock, *, full: bool = False) -> int:
    async with offline_bot(settings, clock) as (application, api):
        driver = ChatDriver(application, api)
        replies = await driver.send(message)
        for reply in replies:
            print(reply.plain)
            if full:
                for view in await full_text(driver, reply):
                    print("\n" + "─" * 40 + "\n" + view)
    return 0 if replies else 1


async def console(settings: Settings, clock: Clock) -> int:
    async with offline_bot(settings, clock) as (application, api):
        driver = ChatDriver(application, api)
        print(
            "outagebot console — type a message as in Telegram (/help, /status X Pakistan);"
            " Ctrl-D or /quit to leave."
        )
        print(f"database: {redacted(settings.database)}")
        if isinstance(clock, FixedClock):
            print(f"answering as of {clock_pair(clock.now(), 'UTC', with_day=True)}")
        last: SentMessage | None = None  # the newest reply with buttons: numbers press them
        while True:
            try:
                line = await asyncio.to_thread(input, "you> ")
            except (EOFError, KeyboardInterrupt):
                print()
                break
            line = line.strip()
            if not line:
                continue
            if line in {"/quit", "/exit"}:
                break
            if line.isdigit() and last is not None:
                keys = last.callback_data
                if not 1 <= int(line) <= len(keys):
                    print(f"bot> (no button {line}: {button_list(last)})")
                    continue
                replies = await driver.press(last, keys[int(line) - 1])
            else:
                replies = await driver.send(line)
            for reply in replies:
                print("bot> " + reply.plain.replace("\n", "\n     "))
                if reply.callback_data:
                    print("     " + button_list(reply) + "  (type a number to press)")
                    last = reply
            sys.stdout.flush()
    return 0

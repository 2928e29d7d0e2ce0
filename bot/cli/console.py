"""`outagebot console` and `ask`: the real Application over the in-process Bot API.

Replies are printed as a person reads them in Telegram (HTML rendered to text), so what you see
here is what the bot would say there.
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
from bot.offline.botapi import ChatDriver, InProcessBotAPI
from bot.render.timefmt import clock_pair
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


async def ask(settings: Settings, message: str, clock: Clock) -> int:
    async with offline_bot(settings, clock) as (application, api):
        replies = await ChatDriver(application, api).send(message)
    for reply in replies:
        print(reply.plain)
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
            for reply in await driver.send(line):
                print("bot> " + reply.plain.replace("\n", "\n     "))
            sys.stdout.flush()
    return 0

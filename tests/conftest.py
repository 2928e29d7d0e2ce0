"""The bot harness: the real Application over the in-process Bot API and a temporary SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram.ext import Application

from bot.app import build_application, close_services, open_services
from bot.botapi import ChatDriver, InProcessBotAPI, SentMessage
from bot.clock import FixedClock
from bot.services import Services
from bot.settings import Settings
from handlers.common import SERVICES_KEY

# The day the tests live in: long after the March 2025 X outage, X still blocked in Pakistan.
TODAY = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def offline_settings(database: Path, **values: object) -> Settings:
    """Settings that ignore the developer's environment and .env file."""
    return Settings(_env_file=None, database=database, **values)  # type: ignore[call-arg]


@dataclass
class BotHarness:
    application: Application
    api: InProcessBotAPI
    clock: FixedClock
    driver: ChatDriver

    @property
    def services(self) -> Services:
        return self.application.bot_data[SERVICES_KEY]

    async def send(self, text: str) -> SentMessage:
        """What the bot answered to one message: exactly one reply is expected."""
        replies = await self.driver.send(text)
        assert len(replies) == 1, [reply.plain for reply in replies]
        return replies[0]

    def chat(self, **person: object) -> ChatDriver:
        return ChatDriver(self.application, self.api, **person)  # type: ignore[arg-type]


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "outagebot.sqlite3"


@pytest.fixture
def make_harness(
    database_path: Path,
) -> Callable[..., AsyncIterator[BotHarness]]:
    async def make(
        *, at: datetime = TODAY, api: InProcessBotAPI | None = None, **settings: object
    ) -> AsyncIterator[BotHarness]:
        clock = FixedClock(at)
        api = api or InProcessBotAPI(clock=lambda: clock.now().timestamp())
        application = build_application(
            offline_settings(database_path, **settings), request=api, clock=clock
        )
        await application.initialize()
        await open_services(application)
        try:
            yield BotHarness(application, api, clock, ChatDriver(application, api))
        finally:
            await close_services(application)
            await application.shutdown()

    return make


@pytest.fixture
async def bot_harness(make_harness: Callable[..., AsyncIterator[BotHarness]]):
    async for harness in make_harness():
        yield harness

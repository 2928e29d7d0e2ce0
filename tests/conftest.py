"""The bot harness: the real Application over the in-process Bot API and a temporary SQLite file."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from postgres import ENV_REQUIRE, PostgresServer, PostgresUnavailable, postgres_server
from processes import FakeTelegram
from telegram.ext import Application

from bot.app.application import build_application, close_services, open_services
from bot.config.settings import Settings
from bot.core.clock import FixedClock
from bot.offline.botapi import ChatDriver, InProcessBotAPI, SentMessage
from bot.runtime.state import BotState
from storage.database import Database
from tests.faulty_botapi import FaultyBotAPI

# The day the tests live in: long after the March 2025 X outage, X still blocked in Pakistan.
TODAY = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def offline_settings(database: Path | str, **values: object) -> Settings:
    """Settings that ignore the developer's environment and .env file."""
    return Settings(_env_file=None, database=database, **values)  # type: ignore[call-arg]


@dataclass
class BotHarness:
    application: Application
    api: InProcessBotAPI
    clock: FixedClock
    driver: ChatDriver

    @property
    def services(self) -> BotState:
        return self.application.bot_data.state

    async def send(self, text: str) -> SentMessage:
        """What the bot answered to one message: exactly one reply is expected."""
        replies = await self.driver.send(text)
        assert len(replies) == 1, [reply.plain for reply in replies]
        return replies[0]

    def chat(self, **person: object) -> ChatDriver:
        return ChatDriver(self.application, self.api, **person)  # type: ignore[arg-type]


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    """A Bot API on 127.0.0.1 for a real `outagebot` process to talk to."""
    fake = FakeTelegram()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "outagebot.sqlite3"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer | None]:
    """The PostgreSQL server of this run, or None where there is none to be had."""
    try:
        with postgres_server() as server:
            yield server
    except PostgresUnavailable as why:
        if os.environ.get(ENV_REQUIRE) == "1":
            pytest.fail(f"PostgreSQL is required here but unavailable: {why}")
        yield None


def _target(
    engine: str, database_path: Path, postgres: PostgresServer | None, *, migrated: bool
) -> Iterator[str]:
    if engine == "sqlite":
        yield str(database_path)
        return
    if postgres is None:
        pytest.skip("no PostgreSQL server (set OUTAGEBOT_TEST_POSTGRES or install postgresql)")
    url = postgres.fresh(migrated=migrated)
    try:
        yield url
    finally:
        postgres.drop(url)


@pytest.fixture
async def db(database_target: str) -> AsyncIterator[Database]:
    """The test's database, opened (and migrated) on each engine in turn."""
    database = await Database.open(database_target)
    yield database
    await database.close()


@pytest.fixture
def postgres_databases(postgres: PostgresServer | None) -> Iterator[Callable[..., str]]:
    """Make fresh PostgreSQL databases (empty unless migrated=True), all dropped afterwards."""
    if postgres is None:
        pytest.skip("no PostgreSQL server (set OUTAGEBOT_TEST_POSTGRES or install postgresql)")
    made: list[str] = []

    def make(*, migrated: bool = False) -> str:
        made.append(postgres.fresh(migrated=migrated))
        return made[-1]

    yield make
    for url in made:
        postgres.drop(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_target(
    request: pytest.FixtureRequest, database_path: Path, postgres: PostgresServer | None
) -> Iterator[str]:
    """Where the test's database lives: a SQLite file, or a fresh PostgreSQL database.

    Every test that takes it (and every bot harness) runs once on each engine.
    """
    yield from _target(request.param, database_path, postgres, migrated=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_target(
    request: pytest.FixtureRequest, database_path: Path, postgres: PostgresServer | None
) -> Iterator[str]:
    """Like database_target, but nothing migrated yet: for tests of the migrations."""
    yield from _target(request.param, database_path, postgres, migrated=False)


@pytest.fixture
def make_harness(database_target: str, tmp_path: Path) -> Callable[..., AsyncIterator[BotHarness]]:
    async def make(
        *, at: datetime = TODAY, api: InProcessBotAPI | None = None, **settings: object
    ) -> AsyncIterator[BotHarness]:
        # the reporter key file goes where the test can see it, never in the developer's home
        settings.setdefault("report_key_file", tmp_path / "config" / "reporter.key")
        clock = FixedClock(at)
        api = api or FaultyBotAPI(clock=lambda: clock.now().timestamp())
        application = build_application(
            offline_settings(database_target, **settings), request=api, clock=clock
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


# What a test needs decides its kind, so `pytest -m unit` (pure functions, no database),
# `-m storage` (real SQLite/PostgreSQL or a local HTTP server, no bot), `-m bot` (the whole PTB
# Application in this process) and `-m process` (real `outagebot` processes, marked by hand)
# can be run apart. Nothing is skipped by default.
_BOT_FIXTURES = frozenset({"bot_harness", "make_harness"})
_STORAGE_FIXTURES = frozenset(
    {
        "db",
        "database_path",
        "database_target",
        "empty_database_target",
        "postgres",
        "postgres_databases",
        "fake_telegram",
        "tmp_path",
        "tmp_path_factory",
    }
)


def _serves_http(item: pytest.Item) -> bool:
    """Source tests talk to recorded responses served on 127.0.0.1 (tests/source_server.py)."""
    module = getattr(item, "module", None)
    return module is not None and "FakeAPI" in vars(module)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("process"):
            continue
        used = set(getattr(item, "fixturenames", ()))
        if used & _BOT_FIXTURES:
            item.add_marker(pytest.mark.bot)
        elif used & _STORAGE_FIXTURES or _serves_http(item):
            item.add_marker(pytest.mark.storage)
        else:
            item.add_marker(pytest.mark.unit)

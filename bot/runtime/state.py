"""What handlers and jobs share, typed: the bot's state and PTB's `bot_data`.

`BotState` is what opens with the database (storage, summaries, delivery, leadership);
`BotData` is the object PTB hands every callback as `context.bot_data`, made before the state
opens and holding it once it has. Attributes instead of string keys, so a typo is a type error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from bot.config.settings import Settings
from bot.core.catalog import Catalog, default_catalog
from bot.core.clock import Clock, SystemClock
from bot.core.detection import Thresholds
from bot.delivery.outbox import Delivery
from bot.engine.refresh import Summaries
from bot.imports.files import fill_when_empty
from bot.render.chart import ChartCache
from bot.runtime.leadership import Leadership
from bot.sources.adapter import Adapter
from bot.sources.config import SourcesFile, SourcesFileError
from storage.database import Database

log = logging.getLogger(__name__)


def thresholds(settings: Settings) -> Thresholds:
    """The deployment's detection rules: every knob is an `OUTAGEBOT_*` setting."""
    return Thresholds(
        z_elevated=settings.z_elevated,
        z_outage=settings.z_outage,
        outage_ratio=settings.outage_ratio,
        elevated_floor=settings.elevated_floor,
        outage_floor=settings.outage_floor,
        bare_elevated=settings.bare_elevated,
        bare_outage=settings.bare_outage,
        enter_after=settings.enter_after,
        z_stay=settings.z_stay,
        leave_after=settings.leave_after,
        cooldown=timedelta(hours=settings.cooldown_hours),
        routine_after=settings.routine_after,
        routine_window=timedelta(days=settings.routine_days),
        quiet_after=timedelta(hours=settings.quiet_after_hours),
        bucket=timedelta(minutes=settings.bucket_minutes),
        weeks=settings.baseline_weeks,
    )


@dataclass
class BotState:
    settings: Settings
    db: Database
    catalog: Catalog
    clock: Clock
    summaries: Summaries
    delivery: Delivery | None = None
    leadership: Leadership | None = None

    @classmethod
    async def open(cls, settings: Settings, catalog: Catalog, clock: Clock) -> BotState:
        db = await Database.open(settings.database, pool_size=settings.database_pool_size)
        try:
            return await cls._prepare(settings, catalog, clock, db)
        except BaseException:
            await db.close()
            raise

    @classmethod
    async def _prepare(
        cls, settings: Settings, catalog: Catalog, clock: Clock, db: Database
    ) -> BotState:
        if settings.bundled_dataset and (counts := await fill_when_empty(db, catalog)):
            log.info("filled an empty database from the embedded dataset: %s", counts)
        rules = thresholds(settings)
        summaries = Summaries(
            db,
            catalog,
            rules,
            baseline_weeks=settings.baseline_weeks,
            bucket=timedelta(minutes=settings.bucket_minutes),
        )
        await summaries.load()
        return cls(settings, db, catalog, clock, summaries)

    async def close(self) -> None:
        if self.leadership is not None:
            await self.leadership.stop()
        if self.delivery is not None:
            await self.delivery.stop()
        await self.db.close()


@dataclass
class SourcesSetup:
    """What the sources file gave this bot: the adapters to run, or why there are none."""

    file: SourcesFile | None = None
    error: SourcesFileError | None = None
    adapters: dict[str, Adapter] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return self.file is not None or self.error is not None


class BotData:
    """`context.bot_data`: PTB makes it with no arguments, build_application fills it."""

    def __init__(self) -> None:
        self.settings: Settings | None = None
        self.clock: Clock = SystemClock()
        self.catalog: Catalog = default_catalog()
        self.state: BotState | None = None
        self.sources: SourcesSetup | None = None
        # The channel's numeric id, or None when there is no (reachable) channel.
        self.channel_id: int | None = None
        # /language choices read once per person, emptied at each follow tick (another replica
        # may have changed one).
        self.chosen_languages: dict[int, str | None] = {}
        self.charts = ChartCache()

    def ready(self) -> BotState:
        """The open state; handlers only run after post_init opened it."""
        if self.state is None:
            raise RuntimeError("the bot's state is not open (post_init has not run)")
        return self.state

    def take_state(self) -> BotState | None:
        """The state, handed over for closing: afterwards nothing can reach it any more."""
        state, self.state = self.state, None
        return state

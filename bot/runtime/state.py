"""What handlers and jobs share, created once per application and reached via bot_data."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from bot.config.settings import Settings
from bot.core.catalog import Catalog
from bot.core.clock import Clock
from bot.core.detection import Thresholds
from bot.delivery.outbox import Delivery
from bot.engine.refresh import Summaries
from bot.imports.dataset import embedded_dataset_path, load_dataset
from bot.runtime.leadership import Leadership
from storage.database import Database
from storage.imports import import_dataset, is_empty

log = logging.getLogger(__name__)

SERVICES_KEY = "services"


@dataclass
class Services:
    settings: Settings
    db: Database
    catalog: Catalog
    clock: Clock
    summaries: Summaries
    delivery: Delivery | None = None
    leadership: Leadership | None = None

    @classmethod
    async def open(cls, settings: Settings, catalog: Catalog, clock: Clock) -> Services:
        db = await Database.open(settings.database, pool_size=settings.database_pool_size)
        try:
            return await cls._prepare(settings, catalog, clock, db)
        except BaseException:
            await db.close()
            raise

    @classmethod
    async def _prepare(
        cls, settings: Settings, catalog: Catalog, clock: Clock, db: Database
    ) -> Services:
        if await is_empty(db):
            counts = await import_dataset(db, load_dataset(embedded_dataset_path(), catalog))
            log.info("filled an empty database from the embedded dataset: %s", counts)
        rules = Thresholds(enter_after=settings.enter_after, leave_after=settings.leave_after)
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

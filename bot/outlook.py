"""Reads what a summary needs from storage and hands it to the pure core.

The one place that turns a question ("X in Pakistan, now") into queries; handlers never see SQL.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from bot.catalog import Catalog, Region, Service
from bot.detection import Thresholds
from bot.summaries import PairSummary, focus_window, incidents_for, summarize
from storage.database import Database
from storage.events import events_between
from storage.observations import observations_between, observations_for, pairs_with_observations
from storage.records import Observation
from storage.restrictions import regions_restricting, restrictions_for, restrictions_in

# Date-only records are stored at 00:00 UTC of their day; widen reads so they are not missed.
DAY = timedelta(days=1)


class Summaries:
    def __init__(self, db: Database, catalog: Catalog, rules: Thresholds | None = None) -> None:
        self.db = db
        self.catalog = catalog
        self.rules = rules or Thresholds()

    async def pair(self, service: Service, region: Region, now: datetime) -> PairSummary:
        observations = await observations_for(self.db, service.key, region.code, until=now)
        incidents = incidents_for(observations, self.rules, now)
        window = focus_window(observations, incidents, now)
        events = []
        elsewhere: dict[str, list[Observation]] = defaultdict(list)
        if window:
            events = await events_between(
                self.db, service.key, [region.code, "global"], window.start - DAY, window.end
            )
            others = await observations_between(
                self.db, service.key, window.start - DAY, window.end, exclude_region=region.code
            )
            for row in others:
                if window.holds(row.at, row.precision):
                    elsewhere[row.region].append(row)
        restrictions = await restrictions_for(self.db, region.code, [service.key, "internet"])
        return summarize(
            service=service,
            region=region,
            observations=observations,
            incidents=incidents,
            window=window,
            events=events,
            restrictions=restrictions,
            elsewhere=[(self.catalog.region(code), rows) for code, rows in elsewhere.items()],
            typical=None,
            now=now,
        )

    async def for_service(self, service: Service, now: datetime) -> list[PairSummary]:
        """Every region with data or a restriction for this service, busiest first."""
        codes = {
            region
            for _, region in await pairs_with_observations(self.db, service=service.key, until=now)
        }
        codes |= await regions_restricting(self.db, service.key)
        summaries = [await self.pair(service, self.catalog.region(code), now) for code in codes]
        return sorted(summaries, key=lambda s: (tuple(-v for v in s.busyness()), s.region.name))

    async def for_region(self, region: Region, now: datetime) -> list[PairSummary]:
        """Every service with data or a restriction in this region, busiest first."""
        keys = {
            service
            for service, _ in await pairs_with_observations(self.db, region=region.code, until=now)
        }
        keys |= {r.service for r in await restrictions_in(self.db, region.code)}
        summaries = [await self.pair(self.catalog.service(key), region, now) for key in keys]
        return sorted(summaries, key=lambda s: (tuple(-v for v in s.busyness()), s.service.name))

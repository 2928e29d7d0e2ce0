"""What a subscription watches: a service and a region, either of which may be "every"."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.catalog import Region, Service
from storage.subscriptions import EVERY


@dataclass(frozen=True, slots=True)
class Topic:
    """What a subscription watches; None stands for every service or every region."""

    service: Service | None
    region: Region | None

    @property
    def service_key(self) -> str:
        return self.service.key if self.service else EVERY

    @property
    def region_key(self) -> str:
        return self.region.code if self.region else EVERY

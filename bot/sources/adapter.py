"""The one shape every outside source has: its config, what a run brings, and the protocol.

An adapter turns HTTP responses into a `SourceResult`: a `Dataset` (events, observations,
restrictions) that lands through the same import path as files, plus the latest structured
readings the card needs. Fetching is the only I/O; each adapter's parsing is pure (bytes or
JSON and `now` in, records out), so it is tested on recorded responses without a network.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from bot.core.catalog import Catalog
from bot.sources.fetching import Fetcher, FetchPolicy
from storage.records import Dataset
from storage.source_health import Pair, Watched
from storage.source_readings import BlockingReading, ConnectivityReading


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one run brought: records for the import path and the latest readings for the card."""

    dataset: Dataset = field(default_factory=Dataset)
    connectivity: tuple[ConnectivityReading, ...] = ()
    blocking: tuple[BlockingReading, ...] = ()

    @property
    def items(self) -> int:
        data = self.dataset
        return (
            len(data.observations)
            + len(data.events)
            + len(data.restrictions)
            + len(self.connectivity)
            + len(self.blocking)
        )

    def summary(self) -> str:
        """`14 events, 3 readings` for the check table and the logs."""
        data = self.dataset
        parts = [
            (len(data.observations), "observation"),
            (len(data.events), "event"),
            (len(data.restrictions), "restriction"),
            (len(self.connectivity) + len(self.blocking), "reading"),
        ]
        said = [f"{count} {noun}{'s' if count != 1 else ''}" for count, noun in parts if count]
        return ", ".join(said) or "nothing new to say"


class ConfigProblem(ValueError):
    """A sources-file entry that cannot work, phrased for the person who wrote it."""


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One `[[sources]]` entry, with the defaults filled in and names resolved to ids."""

    name: str
    kind: str
    url: str
    interval: float
    policy: FetchPolicy
    max_targets: int
    services: tuple[str, ...] | None = None  # service keys; None = what the bot watches
    regions: tuple[str, ...] | None = None  # region codes; None = what the bot watches
    options: Mapping[str, Any] = field(default_factory=dict)  # the kind's own settings


class Adapter(Protocol):
    """A kind of source. New kinds (Cloudflare Radar, RSS feeds) implement this and register."""

    kind: ClassVar[str]
    default_url: ClassVar[str | None]
    option_names: ClassVar[frozenset[str]]

    config: SourceConfig

    def targets(self, watched: Watched) -> list[Pair]:
        """The (service, region) pairs this run covers; '*' where it covers all of one side."""
        ...

    async def collect(
        self, fetcher: Fetcher, targets: Sequence[Pair], now: datetime
    ) -> SourceResult:
        """Fetch and parse everything for `targets`; raise SourceError if any part fails."""
        ...


AdapterFactory = Callable[[SourceConfig, Catalog], Adapter]

"""What `/status` shows for a pair, prepared from records and `now`: pure, no I/O, no clock.

The async loader (bot/engine/refresh.py) fetches the records; everything here is a function of
them, so the same summary can be made on demand today and by a background refresh later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.core.catalog import Region, Service
from bot.core.detection import LEVEL_RANK, Incident, Level, current_level
from storage.records import Event, Observation, Restriction

if TYPE_CHECKING:
    from bot.core.findings import SourceFindings

# Events this long before an incident's first report belong to its story (a DoS wave that
# starts before people notice), and so do those this long after it ends.
CONTEXT = timedelta(hours=6)
# With no incident, the card shows the latest day of data.
QUIET_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime

    def holds(self, at: datetime, precision: str) -> bool:
        if precision == "day":
            return at < self.end and at + timedelta(days=1) > self.start
        return self.start <= at <= self.end


@dataclass(frozen=True, slots=True)
class RegionFigures:
    """A service's counts in another region during the same incident, for scale."""

    region: Region
    observations: tuple[Observation, ...]

    @property
    def peak(self) -> Observation:
        return max(self.observations, key=lambda row: row.count)


@dataclass(frozen=True, slots=True)
class PairSummary:
    service: Service
    region: Region
    made_at: datetime
    level: Level
    latest: Observation | None
    incident: Incident | None
    typical: float | None
    counts: tuple[Observation, ...]
    events: tuple[Event, ...]
    restrictions: tuple[Restriction, ...]
    elsewhere: tuple[RegionFigures, ...]
    # From /report: (problem, reports, share), biggest share first.
    problems: tuple[tuple[str, int, float], ...] = ()
    # What was typical at each timed reading shown, for the chart's second line.
    typical_series: tuple[tuple[datetime, float], ...] = ()
    # Observatories' word on the pair (IODA connectivity, OONI blocking, failing sources).
    findings: SourceFindings | None = None
    # The stretch the card is about, so its Timeline button opens the same one.
    window: Window | None = None
    # Reports are up, but no higher than this many of the pair's surges within `routine_window`:
    # routine for it, so no incident (0: no such surge running). The card says why nothing opened.
    routine: int = 0
    routine_window: timedelta = timedelta(days=7)

    @property
    def active(self) -> bool:
        return self.incident is not None and self.incident.ongoing

    @property
    def claims(self) -> tuple[Event, ...]:
        return tuple(event for event in self.events if event.kind == "claim")

    @property
    def active_block(self) -> Restriction | None:
        """The active restriction of this service to feature: the one with the fullest record.

        Two sources may record the same block (a tracker's row and a court record); both are
        shown, side by side, and the one with the longer legal timeline leads.
        """
        active = [
            r for r in self.restrictions if r.status == "active" and r.service == self.service.key
        ]
        return max(active, key=lambda r: len(r.timeline), default=None)

    @property
    def sources(self) -> tuple[str, ...]:
        names: list[str] = []
        names.extend(row.source for row in self.counts)
        names.extend(row.source for row in self.events)
        for figures in self.elsewhere:
            names.extend(row.source for row in figures.observations)
        for restriction in self.restrictions:
            names.extend(restriction.sources)
            names.extend(step.source for step in restriction.timeline)
        return tuple(dict.fromkeys(names))

    def busyness(self) -> tuple[int, int, int]:
        """Sort key for "busiest first": live level, then live count, then the latest peak."""
        live = self.latest.count if self.active and self.latest else 0
        recent_peak = max((row.count for row in self.counts), default=0)
        return (LEVEL_RANK[self.level], live, recent_peak)


def focus_window(
    observations: Sequence[Observation], incidents: Sequence[Incident], now: datetime
) -> Window | None:
    """The stretch a card talks about: the live or latest incident, else the latest day of data."""
    if incidents:
        last = incidents[-1]
        end = now if last.ongoing else (last.end or last.last_seen)
        return Window(last.start - CONTEXT, min(end + CONTEXT, now))
    dated = [row.at for row in observations if row.at <= now]
    if not dated:
        return None
    latest = max(dated)
    return Window(latest - QUIET_WINDOW, latest + timedelta(days=1))


def latest_observation(observations: Sequence[Observation], now: datetime) -> Observation | None:
    """The most recent reading; a timed one wins over a date-only one from the same day."""
    seen = [(index, row) for index, row in enumerate(observations) if row.at <= now]
    if not seen:
        return None
    # A date-only reading sorts after the timed ones of its day; among equals, record order.
    return max(
        seen,
        key=lambda item: (
            item[1].at + (timedelta(days=1) if item[1].precision == "day" else timedelta()),
            item[1].precision == "minute",
            item[0],
        ),
    )[1]


def summarize(
    *,
    service: Service,
    region: Region,
    observations: Sequence[Observation],
    incidents: Sequence[Incident],
    window: Window | None,
    events: Sequence[Event],
    restrictions: Sequence[Restriction],
    elsewhere: Sequence[tuple[Region, Sequence[Observation]]],
    typical: float | None,
    now: datetime,
    problems: Sequence[tuple[str, int, float]] = (),
) -> PairSummary:
    incident = incidents[-1] if incidents else None
    in_window = (
        tuple(row for row in observations if window.holds(row.at, row.precision)) if window else ()
    )
    shown_events = (
        tuple(
            sorted(
                (event for event in events if window.holds(event.at, event.precision)),
                key=lambda event: (event.at, event.precision != "day"),
            )
        )
        if window
        else ()
    )
    figures = tuple(
        sorted(
            (
                RegionFigures(other, tuple(rows))
                for other, rows in elsewhere
                if rows and other.code != region.code
            ),
            key=lambda figures: -figures.peak.count,
        )
    )
    return PairSummary(
        service=service,
        region=region,
        made_at=now,
        level=current_level(incidents),
        latest=latest_observation(observations, now),
        incident=incident,
        typical=typical,
        counts=tuple(sorted(in_window, key=lambda row: row.at)),
        events=shown_events,
        restrictions=tuple(relevant_restrictions(restrictions, service.key)),
        elsewhere=figures,
        problems=tuple(problems),
        window=window,
    )


def relevant_restrictions(restrictions: Sequence[Restriction], service: str) -> list[Restriction]:
    """This service's restrictions and whole-internet shutdowns; active ones first."""
    chosen = [r for r in restrictions if r.service in (service, "internet")]
    return sorted(chosen, key=lambda r: (r.status != "active", r.service != service, -_order(r)))


def _order(restriction: Restriction) -> int:
    start = restriction.start
    return start.year * 10000 + (start.month or 0) * 100 + (start.day or 0)

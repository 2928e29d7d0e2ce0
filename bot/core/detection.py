"""Levels and incidents from report counts: pure functions of the data and `now`.

Downdetector-style: a count means little alone, so it is compared with what is typical for the
pair. Where nothing is typical yet (a new pair, or a service blocked in the country so there is
no normal traffic) documented floors stand in. Hysteresis keeps one choppy outage one incident.
See docs/detection.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from storage.records import Observation

Level = Literal["normal", "elevated", "outage"]
LEVEL_RANK: dict[Level, int] = {"normal": 0, "elevated": 1, "outage": 2}
BUCKET = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Thresholds:
    elevated_ratio: float = 2.0
    outage_ratio: float = 4.0
    elevated_floor: int = 20
    outage_floor: int = 50
    enter_after: int = 1
    leave_after: int = 1
    # An open incident only counts a reading as "below" under this share of the entry bar, so
    # a series hovering at the threshold stays one incident instead of flapping.
    exit_ratio: float = 0.75
    # Press figures arrive hours apart; a gap shorter than this keeps one incident open.
    quiet_after: timedelta = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class Incident:
    service: str
    region: str
    start: datetime
    last_seen: datetime
    end: datetime | None
    peak: Observation
    level: Level
    latest_level: Level
    levels: tuple[tuple[datetime, Level], ...]
    observations: tuple[Observation, ...] = field(default=())

    @property
    def ongoing(self) -> bool:
        return self.end is None


def level_for(count: int, typical: float | None, rules: Thresholds) -> Level:
    """Compare a bucket's count with what is typical for this hour of the week."""
    base = typical or 0.0
    if count >= max(rules.outage_floor, base * rules.outage_ratio):
        return "outage"
    if count >= max(rules.elevated_floor, base * rules.elevated_ratio):
        return "elevated"
    return "normal"


def still_raised(count: int, typical: float | None, rules: Thresholds) -> bool:
    """Inside an incident: is this reading too high to count towards leaving it?"""
    entry = max(rules.elevated_floor, (typical or 0.0) * rules.elevated_ratio)
    return count >= entry * rules.exit_ratio


def bucket_start(at: datetime) -> datetime:
    minutes = at.minute - at.minute % int(BUCKET.total_seconds() // 60)
    return at.replace(minute=minutes, second=0, microsecond=0)


def timed(observations: Iterable[Observation]) -> list[Observation]:
    """Observations with a stated time, one per instant (the largest), oldest first.

    Two sources quoting the same reading are the same crowd, not twice as many people.
    Readings are not merged into buckets here: imported press figures minutes apart (15:02 and
    15:08) each mark when something was seen; crowd reports arrive already bucketed.
    """
    best: dict[datetime, Observation] = {}
    for row in observations:
        if row.precision != "minute":
            continue
        if row.at not in best or row.count > best[row.at].count:
            best[row.at] = row
    return [best[key] for key in sorted(best)]


class _Open:
    """An incident being built while the series is walked."""

    def __init__(self, first: Sequence[tuple[Observation, Level]]) -> None:
        self.rows: list[Observation] = []
        self.above: list[Observation] = []
        self.levels: list[tuple[datetime, Level]] = []
        for row, level in first:
            self.note(row, level)

    @property
    def last_above(self) -> datetime:
        return self.above[-1].at

    def note(self, row: Observation, level: Level) -> None:
        self.rows.append(row)
        if level == "normal":
            return
        self.above.append(row)
        if not self.levels or self.levels[-1][1] != level:
            self.levels.append((row.at, level))

    def closed(self, end: datetime | None) -> Incident:
        peak = max(self.above, key=lambda row: (row.count, -row.at.timestamp()))
        return Incident(
            service=peak.service,
            region=peak.region,
            start=self.above[0].at,
            last_seen=self.last_above,
            end=end,
            peak=peak,
            level=max((level for _, level in self.levels), key=LEVEL_RANK.__getitem__),
            latest_level=self.levels[-1][1],
            levels=tuple(self.levels),
            observations=tuple(self.rows),
        )


def incidents_in(
    observations: Iterable[Observation],
    typical_for: Callable[[datetime], float | None],
    rules: Thresholds,
    now: datetime,
) -> list[Incident]:
    """Every incident in the series, oldest first; the last may still be ongoing at `now`."""
    found: list[Incident] = []
    current: _Open | None = None
    pending: list[tuple[Observation, Level]] = []
    below = 0
    for row in timed(observations):
        if row.at > now:
            break
        if current is not None and row.at - current.last_above > rules.quiet_after:
            found.append(current.closed(end=current.last_above))
            current, below = None, 0
        typical = typical_for(row.at)
        level = level_for(row.count, typical, rules)
        if current is not None and level == "normal" and still_raised(row.count, typical, rules):
            level = "elevated"  # within the hysteresis band: the incident goes on
        if level != "normal":
            below = 0
            if current is None:
                pending.append((row, level))
                if len(pending) >= rules.enter_after:
                    current = _Open(pending)
                    pending = []
            else:
                current.note(row, level)
        else:
            pending = []
            if current is not None:
                below += 1
                current.note(row, level)
                if below >= rules.leave_after:
                    found.append(current.closed(end=row.at))
                    current, below = None, 0
    if current is not None:
        quiet = now - current.last_above > rules.quiet_after
        found.append(current.closed(end=current.last_above if quiet else None))
    return found


def current_level(incidents: Sequence[Incident]) -> Level:
    if incidents and incidents[-1].ongoing:
        return incidents[-1].latest_level
    return "normal"

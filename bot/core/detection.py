"""Levels and incidents from report counts: pure, incremental, judged one reading at a time.

A count means little alone, so each reading is judged by how unlikely it is for this pair: a
robust z-score on the Anscombe scale against the baseline of earlier readings (see
`bot.core.baseline`). Absolute floors only say "too few reports to matter", and decide alone
where nothing is typical yet (a new pair, sparse press figures, a service blocked in the
country). The bot speaks only when it is sure (two elevated readings running, or one outage
reading) and hysteresis keeps one surge one incident. `Detector` keeps the state between
readings, so a refresh judges only what is new and never rewrites what it already said.
See docs/detection.md.
"""

from __future__ import annotations

import json
import operator
import sys
import zlib
from array import array
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any, Literal

from bot.core.baseline import (
    EPOCH,
    MICROSECOND,
    Baseline,
    Expected,
    anscombe,
    from_micros,
    micros,
    micros_or_none,
)
from bot.core.rules import Thresholds
from storage.records import Observation

Level = Literal["normal", "elevated", "outage"]
LEVEL_RANK: dict[Level, int] = {"normal": 0, "elevated": 1, "outage": 2}
DAY = timedelta(days=1)
# A rebuilt Detector judges its last readings in full, to know a run of readings in progress.
WARM_STEPS = 16
# Bumped when `Detector.state` changes shape: an older state is then ignored and rebuilt.
STATE_FORMAT = 2


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
    id: int | None = None  # the stored identity, once saved

    @property
    def ongoing(self) -> bool:
        return self.end is None


Kind = Literal["opened", "escalated", "resolved", "reopened"]


@dataclass(frozen=True, slots=True)
class Change:
    """What one reading (or time passing) did to an incident, for alerts to tell."""

    kind: Kind
    at: datetime
    incident: Incident
    previous_level: Level | None = None


def zscore(count: float, expected: Expected) -> float:
    return (anscombe(count) - expected.centre) / expected.spread


def level_for(count: float, expected: Expected | None, rules: Thresholds) -> Level:
    """How unlikely this count is for the pair; with nothing typical, the floors decide."""
    if expected is None:
        if count >= rules.bare_outage:
            return "outage"
        if count >= rules.bare_elevated:
            return "elevated"
        return "normal"
    z = zscore(count, expected)
    if (
        z >= rules.z_outage
        and count >= rules.outage_floor
        and count >= rules.outage_ratio * expected.typical
    ):
        return "outage"
    if z >= rules.z_elevated and count >= rules.elevated_floor:
        return "elevated"
    return "normal"


def still_raised(count: float, expected: Expected | None, rules: Thresholds) -> bool:
    """Inside an incident: is this reading too high to count towards resolving it?

    A looser bar than the one that opened it, so a series hovering at the threshold stays one
    incident instead of flapping.
    """
    if expected is None:
        return count >= rules.bare_elevated * 0.75
    return zscore(count, expected) >= rules.z_stay and count >= rules.elevated_floor * 0.5


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
    """An incident being built while the series is walked (open, or resolved and cooling)."""

    def __init__(self, id: int | None = None) -> None:
        self.id = id
        self.rows: list[Observation] = []
        self.levels: list[tuple[datetime, Level]] = []
        self.start: datetime | None = None
        self.last_above: datetime | None = None
        self.peak: Observation | None = None
        self.end: datetime | None = None
        self.level: Level = "normal"

    @classmethod
    def resumed(cls, incident: Incident) -> _Open:
        made = cls(incident.id)
        made.rows = list(incident.observations)
        made.levels = list(incident.levels)
        made.start, made.last_above = incident.start, incident.last_seen
        made.peak, made.level, made.end = incident.peak, incident.level, incident.end
        return made

    def note(self, row: Observation, level: Level) -> None:
        self.rows.append(row)
        if level == "normal":
            return
        self.start = self.start or row.at
        self.last_above = row.at
        if self.peak is None or row.count > self.peak.count:
            self.peak = row
        if LEVEL_RANK[level] > LEVEL_RANK[self.level]:
            self.level = level
        if not self.levels or self.levels[-1][1] != level:
            self.levels.append((row.at, level))

    def snapshot(self) -> Incident:
        assert self.peak is not None and self.start is not None and self.last_above is not None
        return Incident(
            service=self.peak.service,
            region=self.peak.region,
            start=self.start,
            last_seen=self.last_above,
            end=self.end,
            peak=self.peak,
            level=self.level,
            latest_level=self.levels[-1][1] if self.levels else self.level,
            levels=tuple(self.levels),
            observations=tuple(self.rows),
            id=self.id,
        )


class Surges:
    """How often, and how high, a pair surged lately: runs of readings judged above normal.

    Judged on the reading's own level (before any incident's hysteresis), so a surge is the
    same whether it opened an incident, continued one, or was passed over as routine. Kept for
    `routine_window`, at most the `spread_days` a rebuilt Detector (`warm`) judges again, so
    a rebuild sees them too.
    """

    __slots__ = ("closed", "peak", "quiet", "rules", "start")

    def __init__(self, rules: Thresholds) -> None:
        self.rules = rules
        self.closed: deque[tuple[datetime, float]] = deque()  # (start, peak count), oldest first
        self.start: datetime | None = None  # the surge running, if any
        self.peak = 0.0
        self.quiet = 0  # normal readings since its last raised one

    def note(self, at: datetime, count: float, level: Level) -> None:
        if level != "normal":
            if self.start is None:
                self.start, self.peak = at, count
            self.peak, self.quiet = max(self.peak, count), 0
        elif self.start is not None:
            self.quiet += 1
            if self.quiet >= self.rules.leave_after:  # over as an incident would be
                self.closed.append((self.start, self.peak))
                self.start, self.peak, self.quiet = None, 0.0, 0
        horizon = at - self.rules.routine_window
        while self.closed and self.closed[0][0] < horizon:
            self.closed.popleft()

    def as_high(self, count: float) -> int:
        """Earlier surges (the running one aside) that reached at least `count`."""
        return sum(1 for _, peak in self.closed if peak >= count)

    def state(self) -> dict[str, Any]:
        return {
            "closed": [[micros(start), peak] for start, peak in self.closed],
            "running": None if self.start is None else [micros(self.start), self.peak, self.quiet],
        }

    @classmethod
    def restored(cls, rules: Thresholds, state: dict[str, Any]) -> Surges:
        made = cls(rules)
        for at, peak in state["closed"]:
            made.closed.append((EPOCH + timedelta(microseconds=at), peak))
        if state["running"] is not None:
            at, made.peak, made.quiet = state["running"]
            made.start = from_micros(at)
        return made


class Detector:
    """The incident walker for one pair: feed `step` its readings in time order.

    Each reading is judged against the baseline of the readings before it, so the same
    readings always give the same decisions, and a refresh that keeps a Detector pays only for
    the new ones. `resume` takes over an incident already stored (and alerted on): later
    readings can extend, escalate or resolve it, never move its start or open it twice.
    """

    def __init__(self, rules: Thresholds | None = None, *, remember: int | None = None) -> None:
        """`remember`: how many finished incidents to keep (None: all, for a whole walk; the
        refresh keeps none, since what it finished is stored)."""
        self.rules = rules or Thresholds()
        self.baseline = Baseline(self.rules)
        self.finished: deque[Incident] = deque(maxlen=remember)
        self.current: _Open | None = None
        self.pending: list[tuple[Observation, Level]] = []
        self.below = 0
        self.quiet_since: datetime | None = None  # the first of the quiet readings running
        self.typical: dict[datetime, float] = {}
        self.decided: datetime | None = None  # the newest reading judged
        self.surges = Surges(self.rules)

    @property
    def open(self) -> bool:
        return self.current is not None and self.current.end is None

    def resume(self, incident: Incident | None) -> None:
        """Continue from a stored incident instead of whatever this walk found: what was
        alerted on is the truth, a rebuilt baseline only judges what comes next."""
        walked_open = self.open
        self.current = _Open.resumed(incident) if incident is not None else None
        if self.open:
            self.pending = []
        if not (self.open and walked_open):  # quiet readings count only inside an incident
            self.below, self.quiet_since = 0, None

    def warm(
        self,
        readings: Sequence[Observation],
        told: Sequence[tuple[datetime, datetime | None]],
    ) -> None:
        """Rebuild the state from readings judged before, far cheaper than judging them again.

        Only the baseline matters (what was decided is stored, and `resume` takes it over):
        every reading feeds the centres, a reading inside a stored incident (`told`: start and
        end) stays out of the cold centres and the spread, and only the last `spread_days`
        are judged, to measure the spread. The last few are stepped in full, so a run of
        elevated or quiet readings in progress is known.
        """
        if not readings:
            return
        spans = sorted(
            (start, end or datetime.max.replace(tzinfo=start.tzinfo)) for start, end in told
        )
        starts = [start for start, _ in spans]
        judged_from = readings[-1].at - timedelta(days=self.rules.spread_days)
        stepped_from = max(0, len(readings) - WARM_STEPS)
        for index, row in enumerate(readings):
            if index >= stepped_from:
                self.step(row)
                continue
            k = bisect_right(starts, row.at) - 1
            inside = k >= 0 and row.at <= spans[k][1]
            expected = None
            level: Level = "normal"
            if row.at >= judged_from:
                expected = self.baseline.expected(row.at, row.baseline)
                level = level_for(row.count, expected, self.rules)
                self.surges.note(row.at, row.count, level)
                if expected is not None:
                    self.typical[row.at] = expected.typical
            self.baseline.add(row.at, row.count, expected, level == "normal" and not inside)
            self.decided = row.at

    def state(self) -> bytes:
        """All a later refresh needs to go on judging exactly as this Detector would, packed.

        Stored beside the pair's watermark, so a refresh that did not keep this Detector in
        memory restores it from a few kilobytes instead of reading and re-walking six weeks of
        readings (`warm`): a surge of a thousand dirty pairs then costs what their new readings
        cost, whatever their history. Left out: finished incidents (stored) and the current
        one, which the refresh takes over from the store as a rebuild does (`resume`); what is
        typical is kept for the last `spread_days`, as far as `warm` knows it.
        """
        small, arrays = self.baseline.state()
        typical_from = (
            self.decided - timedelta(days=self.rules.spread_days) if self.decided else None
        )
        typical = _packed_times(self.typical, typical_from)
        header = {
            "format": STATE_FORMAT,
            "rules": repr(self.rules),
            "baseline": small,
            "open": self.open,
            "pending": [[_reading(row), level] for row, level in self.pending],
            "below": self.below,
            "quiet_since": micros_or_none(self.quiet_since),
            "decided": micros_or_none(self.decided),
            "surges": self.surges.state(),
            "sizes": [len(part) for part in [*arrays, *typical]],
        }
        parts = [*arrays, *typical]
        if sys.byteorder != "little":
            for part in parts:
                part.byteswap()
        text = json.dumps(header, separators=(",", ":")).encode()
        body = b"".join(part.tobytes() for part in parts)
        return zlib.compress(len(text).to_bytes(4, "little") + text + body, 1)

    @classmethod
    def restored(cls, state: bytes, rules: Thresholds) -> Detector | None:
        """The Detector a `state` describes, or None if it was made under other rules or by
        another format (the caller then rebuilds it from readings).

        Its current incident is a placeholder saying only whether one was open: the caller
        must `resume` the stored one before stepping, as after `warm`.
        """
        raw = zlib.decompress(state)
        length = int.from_bytes(raw[:4], "little")
        header = json.loads(raw[4 : 4 + length])
        if header["format"] != STATE_FORMAT or header["rules"] != repr(rules):
            return None
        parts: list[array] = []
        offset = 4 + length
        for index, size in enumerate(header["sizes"]):
            kind = "d" if index in _FLOAT_PARTS else "q"
            part = array(kind)
            end = offset + size * part.itemsize
            part.frombytes(raw[offset:end])
            if sys.byteorder != "little":
                part.byteswap()
            parts.append(part)
            offset = end
        made = cls(rules, remember=0)
        made.baseline = Baseline.restored(rules, header["baseline"], parts[:5])
        made.typical = dict(zip(_times(parts[5]), parts[6], strict=True))
        made.current = _Open() if header["open"] else None  # placeholder until `resume`
        made.pending = [(_observation(row), level) for row, level in header["pending"]]
        made.below = header["below"]
        made.quiet_since = from_micros(header["quiet_since"])
        made.decided = from_micros(header["decided"])
        made.surges = Surges.restored(rules, header["surges"])
        return made

    def typical_at(self, at: datetime) -> float | None:
        """What was typical when the reading at `at` was judged, or would be if judged now."""
        if at in self.typical:
            return self.typical[at]
        if self.decided is not None and at <= self.decided:
            return None
        expected = self.baseline.expected(at)
        return expected.typical if expected is not None else None

    def settle(self, now: datetime) -> list[Change]:
        """Time alone ends an incident whose readings stopped `quiet_after` ago (press figures)."""
        current = self.current
        if current is None or current.end is not None:
            return []
        if current.last_above is None or now - current.last_above <= self.rules.quiet_after:
            return []
        current.end = current.last_above
        self.below, self.quiet_since = 0, None
        return [Change("resolved", now, current.snapshot(), current.level)]

    def step(self, row: Observation) -> list[Change]:
        rules = self.rules
        changes = self.settle(row.at)
        expected = self.baseline.expected(row.at, row.baseline)
        level = level_for(row.count, expected, rules)
        self.surges.note(row.at, row.count, level)
        if expected is not None:
            self.typical[row.at] = expected.typical
            if len(self.typical) > 2 * self.rules.weeks * 7 * (DAY // self.rules.bucket):
                oldest = row.at - timedelta(weeks=self.rules.weeks)
                self.typical = {at: v for at, v in self.typical.items() if at >= oldest}
        current = self.current
        if current is not None and current.end is None:
            if level == "normal" and still_raised(row.count, expected, rules):
                level = "elevated"  # within the hysteresis band: the incident goes on
            changes += self._continue(current, row, level)
        elif level != "normal":
            self.pending.append((row, level))
            sure = level == "outage" or len(self.pending) >= rules.enter_after
            if sure and not self.routine():
                changes.append(self._open(current, row))
        else:
            self.pending = []
        self._learn(row, level, expected)
        self.decided = row.at
        return changes

    def routine(self) -> int:
        """How many earlier surges within `routine_window` were at least as high as the one
        waiting to open, if that makes it routine for this pair; else 0.

        Some pairs surge every day (a spam wave, a daily rush the hour-of-week baseline cannot
        place): telling subscribers each time is what made them stop reading alerts. A surge
        that outgrows those opens at once, from its first raised reading.
        """
        if not self.rules.routine_after or not self.pending:
            return 0
        seen = self.surges.as_high(max(row.count for row, _ in self.pending))
        return seen if seen >= self.rules.routine_after else 0

    def _continue(self, current: _Open, row: Observation, level: Level) -> list[Change]:
        before = current.level
        current.note(row, level)
        if level != "normal":
            self.below, self.quiet_since = 0, None
            if LEVEL_RANK[current.level] > LEVEL_RANK[before]:
                return [Change("escalated", row.at, current.snapshot(), before)]
            return []
        self.below += 1
        self.quiet_since = self.quiet_since or row.at
        if self.below < self.rules.leave_after:
            return []
        current.end = self.quiet_since
        self.below, self.quiet_since = 0, None
        return [Change("resolved", row.at, current.snapshot(), current.level)]

    def _open(self, current: _Open | None, row: Observation) -> Change:
        start = self.pending[0][0].at
        pending, self.pending = self.pending, []
        self.below, self.quiet_since = 0, None
        if (
            current is not None
            and current.end is not None
            and start - current.end < self.rules.cooldown
        ):
            before = current.level
            current.end = None
            for reading, level in pending:
                current.note(reading, level)
            return Change("reopened", row.at, current.snapshot(), before)
        if current is not None:
            self.finished.append(current.snapshot())
        made = _Open()
        for reading, level in pending:
            made.note(reading, level)
        self.current = made
        return Change("opened", row.at, made.snapshot())

    def _learn(self, row: Observation, level: Level, expected: Expected | None) -> None:
        """A reading feeds the cold baselines and the spread only if it looked normal outside
        an incident, or the incident has lasted so long that it is the new normal; with no
        baseline yet there is nothing to poison, so a new dense pair learns every reading."""
        current = self.current
        inside = current is not None and current.end is None
        deep = (
            inside
            and current is not None
            and current.start is not None
            and row.at - current.start >= self.rules.learn_after
        )
        clean = (level == "normal" and not inside) or deep or expected is None
        self.baseline.add(row.at, row.count, expected, clean)

    def incidents(self) -> list[Incident]:
        """Every incident walked, oldest first; the last may be ongoing."""
        found = list(self.finished)
        if self.current is not None:
            found.append(self.current.snapshot())
        return found


# In `Detector.state`'s parts, the ones holding floats (the others are time gaps).
_FLOAT_PARTS = frozenset({0, 1, 3, 4, 6})


def _packed_times(store: dict[datetime, float], since: datetime | None) -> tuple[array, array]:
    """What was typical from `since` on, as time gaps (microseconds) and values. Each distinct
    gap is converted once (a dense pair has one), not each of a week's times."""
    ordered = sorted(store)
    if since is not None:
        ordered = ordered[bisect_left(ordered, since) :]
    if not ordered:
        return array("q"), array("d")
    steps = list(map(operator.sub, ordered[1:], ordered[:-1]))
    as_micros = {step: step // MICROSECOND for step in set(steps)}
    times = array("q", [micros(ordered[0])])
    times.extend(map(as_micros.__getitem__, steps))
    return times, array("d", map(store.__getitem__, ordered))


def _times(packed: array) -> list[datetime]:
    """The times `gaps` packed, each made by adding its gap to the one before (one object)."""
    if not packed:
        return []
    steps = {gap: timedelta(microseconds=gap) for gap in set(packed[1:])}
    first = EPOCH + timedelta(microseconds=packed[0])
    return list(accumulate(map(steps.__getitem__, packed[1:]), initial=first))  # type: ignore[arg-type]


def _reading(row: Observation) -> dict[str, object]:
    return {
        "service": row.service,
        "region": row.region,
        "at": micros(row.at),
        "count": row.count,
        "source": row.source,
        "url": row.url,
        "qualifier": row.qualifier,
        "precision": row.precision,
        "note": row.note,
        "baseline": row.baseline,
    }


def _observation(fields: dict) -> Observation:
    return Observation(**{**fields, "at": from_micros(fields["at"])})


def incidents_in(
    observations: Iterable[Observation], rules: Thresholds, now: datetime
) -> list[Incident]:
    """Every incident in the series up to `now`, oldest first; the last may still be ongoing."""
    detector = Detector(rules)
    for row in timed(observations):
        if row.at > now:
            break
        detector.step(row)
    detector.settle(now)
    return detector.incidents()


def current_level(incidents: Sequence[Incident]) -> Level:
    if incidents and incidents[-1].ongoing:
        return incidents[-1].latest_level
    return "normal"

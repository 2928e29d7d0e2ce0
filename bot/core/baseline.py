"""What is typical for a pair, and how much it wanders: pure, incremental, from earlier readings.

Counts are read on the Anscombe scale a(x) = 2·sqrt(x + 3/8), where Poisson noise has a spread
of about 1 whatever the level: a small pair gets the Poisson spread for free, and a large,
overdispersed one shows its extra noise as a larger spread there, which is measured from the
pair's own residuals (1.4826 × MAD, never below 1). Medians everywhere, so one outage week or a
burst does not move the baseline. The centre, from readings strictly before the one judged:

1. hour of the week over the last `weeks` weeks, once `min_weeks` weeks have readings for it;
2. otherwise (cold start) hour of the day over the last `cold_days` days, from `min_cold_days`;
3. otherwise the median of the last `recent_buckets` clean buckets, from `min_recent` of them;
4. otherwise nothing is typical and the floors in detection decide (press figures, new pairs).

A baseline stated by the source itself (Downdetector publishes one) wins over ours.
See docs/detection.md for why this and not a Poisson or negative-binomial tail.
"""

from __future__ import annotations

import math
import operator
from array import array
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from statistics import median
from typing import Any, Literal

from bot.core.rules import Thresholds
from storage.records import Observation

Basis = Literal["week", "day", "recent", "stated"]
HOUR = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
DAY_US = timedelta(days=1) // MICROSECOND
WEEK_US = 7 * DAY_US
# The MAD of a normal sample times this is its standard deviation.
MAD_TO_SD = 1.4826
NAN = float("nan")
# Until the residual pool has `min_spread` values, a little wider than Poisson: unsure, not loud.
UNSURE_SPREAD = 1.5


def anscombe(count: float) -> float:
    return 2.0 * math.sqrt(max(count, 0.0) + 0.375)


def typical_count(centre: float) -> float:
    """Back from the Anscombe scale to a count (the median reading), for ratios and cards."""
    return max((centre / 2.0) ** 2 - 0.375, 0.0)


@dataclass(frozen=True, slots=True)
class Expected:
    """What is typical at one moment: centre and spread on the Anscombe scale, and its basis."""

    centre: float
    spread: float
    basis: Basis
    stated: float | None = None  # the source's own baseline, as a count

    @property
    def typical(self) -> float:
        return self.stated if self.stated is not None else typical_count(self.centre)


def bucket_of(at: datetime, bucket: timedelta) -> datetime:
    """The start of the bucket holding `at` (buckets are aligned to the hour)."""
    hour = at.replace(minute=0, second=0, microsecond=0)
    return hour + ((at - hour) // bucket) * bucket


class Grid:
    """Values on a regular grid of times (whole microseconds since 1970), missing ones NaN.

    A pair's bucket starts are such a grid, so a flat array of floats holds them: looking one
    up is arithmetic, and packing the state for the next refresh, or unpacking it, is a copy of
    bytes instead of an object per reading.
    """

    __slots__ = ("base", "unit", "values")

    def __init__(self, unit: int, base: int = 0, values: array | None = None) -> None:
        self.unit = unit  # microseconds between two slots
        self.base = base  # the first slot's time, in units
        self.values = values if values is not None else array("d")

    def get(self, key: int) -> float | None:
        index = key // self.unit - self.base
        if 0 <= index < len(self.values):
            value = self.values[index]
            if value == value:  # not NaN
                return value
        return None

    def __setitem__(self, key: int, value: float) -> None:
        slot = key // self.unit
        values = self.values
        if not values:
            self.base = slot
        index = slot - self.base
        if index < 0:  # older than anything held: only if readings came out of order
            values[0:0] = array("d", [NAN]) * -index
            self.base, index = slot, 0
        if index >= len(values):
            values.extend(array("d", [NAN]) * (index - len(values)))
            values.append(value)
        else:
            values[index] = value

    def slots(self) -> int:
        return len(self.values)

    def drop_before(self, key: int) -> None:
        cut = min(max(0, key // self.unit - self.base), len(self.values))
        del self.values[:cut]
        self.base += cut

    def since(self, key: int | None) -> tuple[int, array]:
        """The first slot kept and the values from `key` on (all if None)."""
        cut = 0 if key is None else min(max(0, key // self.unit - self.base), len(self.values))
        return self.base + cut, self.values[cut:]


class Baseline:
    """Baseline state for one pair. Ask `expected(at)` before `add`ing the reading at `at`, in
    time order, so a reading is never judged against itself.

    Times inside are whole microseconds since 1970 (`micros`), not datetimes: the look-backs
    are integer sums, and the state packs into arrays and back without making an object per
    reading, which is what lets a refresh restore a Detector instead of re-walking its history.
    """

    def __init__(self, rules: Thresholds) -> None:
        self.rules = rules
        self._bucket = rules.bucket // MICROSECOND
        # Bucket starts are the hour plus whole buckets, so the grid's unit divides both.
        unit = math.gcd(self._bucket, HOUR // MICROSECOND)
        self.every = Grid(unit)  # bucket start → a(count), all readings
        self.clean = Grid(unit)  # the same, readings judged normal only
        self.recent: deque[float] = deque(maxlen=rules.recent_buckets)
        self.pool: deque[tuple[int, float]] = deque()  # (at, residual), oldest first
        self.sorted_pool: list[float] = []
        self.newest: datetime | None = None
        self._hour: tuple[datetime, float, Basis] | None = None  # the current hour's centre
        self._spread_window = timedelta(days=rules.spread_days) // MICROSECOND

    def _hour_values(
        self, store: Grid, hour: int, period: int, back: int
    ) -> tuple[list[float], int]:
        per_hour = max(1, HOUR // self.rules.bucket)
        bucket = self._bucket
        values: list[float] = []
        periods = 0
        for k in range(1, back + 1):
            start = hour - k * period
            got = False
            for j in range(per_hour):
                value = store.get(start + j * bucket)
                if value is not None:
                    values.append(value)
                    got = True
            periods += got
        return values, periods

    def expected(self, at: datetime, stated: float | None = None) -> Expected | None:
        if stated is not None:
            return Expected(anscombe(stated), self.spread(), "stated", stated)
        rules = self.rules
        hour = at.replace(minute=0, second=0, microsecond=0)
        if self._hour is not None and self._hour[0] == hour:
            # Readings within this hour never feed its own look-back (earlier weeks and days),
            # so the centre found for its first reading holds for the others.
            return Expected(self._hour[1], self.spread(), self._hour[2])
        # Hour of the week from every reading: the median over >= 3 weeks keeps one bad week
        # out, and leaving flagged readings out here stopped a weekly rhythm first flagged
        # during the cold start (Saturday nights) from ever being learned.
        start = (hour - EPOCH) // MICROSECOND
        values, weeks = self._hour_values(self.every, start, WEEK_US, rules.weeks)
        if weeks >= rules.min_weeks:
            centre = median(values)
            self._hour = (hour, centre, "week")
            return Expected(centre, self.spread(), "week")
        values, days = self._hour_values(self.clean, start, DAY_US, rules.cold_days)
        if days >= rules.min_cold_days:
            centre = median(values)
            self._hour = (hour, centre, "day")
            return Expected(centre, self.spread(), "day")
        if len(self.recent) >= rules.min_recent:
            return Expected(median(self.recent), self.spread(), "recent")
        return None

    def spread(self) -> float:
        pool = self.sorted_pool
        if len(pool) < self.rules.min_spread:
            return UNSURE_SPREAD
        return max(1.0, MAD_TO_SD * median_distance(pool, pool[len(pool) // 2]))

    def add(self, at: datetime, count: float, expected: Expected | None, clean: bool) -> None:
        """Learn a judged reading; `clean` ones also feed the cold-start centres and the spread."""
        key = (bucket_of(at, self.rules.bucket) - EPOCH) // MICROSECOND
        when = (at - EPOCH) // MICROSECOND
        value = anscombe(count)
        self.every[key] = value
        self.newest = at
        if clean:
            self.clean[key] = value
            self.recent.append(value)
            if expected is not None and expected.basis != "stated":
                residual = value - expected.centre
                self.pool.append((when, residual))
                insort(self.sorted_pool, residual)
        horizon = when - self._spread_window
        while self.pool and self.pool[0][0] <= horizon:
            _, old = self.pool.popleft()
            del self.sorted_pool[bisect_left(self.sorted_pool, old)]
        self._forget(when)

    def state(self) -> tuple[dict[str, Any], list[array]]:
        """What a later refresh needs to continue exactly as this baseline would: small fields,
        and arrays of what the look-backs can still reach (see `Detector.state`)."""
        rules = self.rules
        every_from = clean_from = None
        if self.newest is not None:
            # The oldest key a later reading can look at is its hour minus `weeks` weeks (and
            # `cold_days` days for the clean store); a day more is kept as margin.
            hour = (self.newest.replace(minute=0, second=0, microsecond=0) - EPOCH) // MICROSECOND
            every_from = hour - (rules.weeks * 7 + 1) * DAY_US
            clean_from = hour - (rules.cold_days + 1) * DAY_US
        small: dict[str, Any] = {
            "newest": micros_or_none(self.newest),
            "hour": None
            if self._hour is None
            else [micros(self._hour[0]), self._hour[1], self._hour[2]],
        }
        every_base, every = self.every.since(every_from)
        clean_base, clean = self.clean.since(clean_from)
        small["grid"] = [self.every.unit, every_base, clean_base]
        arrays = [
            every,
            clean,
            gaps(array("q", [at for at, _ in self.pool])),
            array("d", [value for _, value in self.pool]),
            array("d", self.recent),
        ]
        return small, arrays

    @classmethod
    def restored(cls, rules: Thresholds, small: Mapping[str, Any], arrays: list[array]) -> Baseline:
        """The baseline `state` described, able to judge the next reading as the original would."""
        made = cls(rules)
        every, clean, pool_at, pool_v, recent = arrays
        unit, every_base, clean_base = small["grid"]
        if unit != made.every.unit:
            raise ValueError(f"a state on a grid of {unit} µs, not {made.every.unit}")
        made.every = Grid(unit, every_base, every)
        made.clean = Grid(unit, clean_base, clean)
        made.pool = deque(zip(accumulate(pool_at), pool_v, strict=True))
        made.sorted_pool = sorted(pool_v)
        made.recent.extend(recent)
        made.newest = from_micros(small["newest"])
        hour = small["hour"]
        if hour is not None:
            at, centre, basis = hour
            made._hour = (EPOCH + timedelta(microseconds=at), centre, basis)
        return made

    def _forget(self, when: int) -> None:
        """Drop what no rule can look at any more, in batches so it stays cheap per reading."""
        keep = (self.rules.weeks + 1) * WEEK_US
        limit = 2 * (keep // self.every.unit)
        if self.every.slots() <= limit:
            return
        oldest = when - keep
        for store in (self.every, self.clean):
            store.drop_before(oldest)


def median_distance(ordered: list[float], centre: float) -> float:
    """The median of |x − centre| over a sorted list, in O(log n) instead of a sort per reading.

    The distances below and above the centre are two sorted runs; their k-th smallest is found
    by bisection on how many come from the lower run. The spread is asked for every reading,
    and sorting the week's 672 residuals each time was most of the detector's cost.
    """
    split = bisect_left(ordered, centre)
    below, above = split, len(ordered) - split

    def lower(i: int) -> float:  # i-th smallest distance among values under the centre
        return centre - ordered[split - 1 - i]

    def upper(j: int) -> float:
        return ordered[split + j] - centre

    def kth(k: int) -> float:
        lo, hi = max(0, k + 1 - above), min(k + 1, below)
        while lo < hi:
            i = (lo + hi) // 2
            if lower(i) < upper(k - i):
                lo = i + 1
            else:
                hi = i
        i, j = lo, k + 1 - lo
        return max(lower(i - 1) if i > 0 else -math.inf, upper(j - 1) if j > 0 else -math.inf)

    n = len(ordered)
    if n % 2:
        return kth(n // 2)
    return (kth(n // 2 - 1) + kth(n // 2)) / 2


def micros(at: datetime) -> int:
    """A time as whole microseconds since 1970, exactly (a float timestamp could round)."""
    return (at - EPOCH) // MICROSECOND


def micros_or_none(at: datetime | None) -> int | None:
    return None if at is None else micros(at)


def from_micros(value: int | None) -> datetime | None:
    return None if value is None else EPOCH + timedelta(microseconds=value)


def gaps(times: array) -> array:
    """Sorted times as the first one and the gaps after it: a regular series is one gap
    repeated, which compresses to almost nothing. `accumulate` undoes it."""
    if len(times) < 2:
        return times
    spaced = array("q", times[:1])
    spaced.extend(map(operator.sub, times[1:], times[:-1]))
    return spaced


def with_quiet_buckets(
    observations: Iterable[Observation], *, source: str, now: datetime, bucket: timedelta
) -> list[Observation]:
    """Add zero readings for the buckets where a dense source (crowd reports) got none.

    For crowd reports, silence is information: nobody reported, so the count was zero. Without
    these zeros an incident could never see quiet buckets and would stay open until the quiet
    rule, and the baseline would learn only the busy buckets.
    """
    rows = sorted(observations, key=lambda row: row.at)
    dense = [row for row in rows if row.source == source and row.precision == "minute"]
    if not dense:
        return rows
    seen = {row.at for row in dense}
    filled = list(rows)
    at, template = dense[0].at, dense[0]
    end = min(now, dense[-1].at + timedelta(days=1))
    while at <= end:
        if at not in seen:
            filled.append(Observation(template.service, template.region, at, 0, source))
        at += bucket
    return sorted(filled, key=lambda row: row.at)

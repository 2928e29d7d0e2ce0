"""What is typical for a pair at a given hour of the week: pure, from the readings kept.

Downdetector's idea: a count means something only against what is usual for that hour. Here the
usual is the median, across the last `weeks` weeks, of each week's mean reading in that hour of
the week (UTC). A median shrugs off one earlier outage week; three weeks with readings are
needed before an hour has a typical value, below that the floors in detection stand in. A
baseline stated by the source itself (Downdetector publishes one) wins over ours.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from statistics import median

from storage.records import Observation

MIN_WEEKS = 3

TypicalFor = Callable[[datetime], float | None]


def hour_of_week(at: datetime) -> int:
    return at.weekday() * 24 + at.hour


def weekly_medians(
    observations: Iterable[Observation], *, now: datetime, weeks: int
) -> dict[int, float]:
    """Hour of the week → typical count, for hours with at least MIN_WEEKS weeks of readings."""
    start = now - timedelta(weeks=weeks)
    by_hour: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for row in observations:
        if row.precision != "minute" or not start <= row.at < now:
            continue
        week = int((now - row.at) // timedelta(weeks=1))
        by_hour[hour_of_week(row.at)][week].append(row.count)
    typical = {}
    for hour, per_week in by_hour.items():
        if len(per_week) >= MIN_WEEKS:
            typical[hour] = float(median(sum(v) / len(v) for v in per_week.values()))
    return typical


def typical_for(observations: Iterable[Observation], *, now: datetime, weeks: int) -> TypicalFor:
    rows = list(observations)
    stated = {row.at: row.baseline for row in rows if row.baseline is not None}
    medians = weekly_medians(rows, now=now, weeks=weeks)

    def typical(at: datetime) -> float | None:
        if at in stated:
            return stated[at]
        return medians.get(hour_of_week(at))

    return typical


def with_quiet_buckets(
    observations: Iterable[Observation], *, source: str, now: datetime, bucket: timedelta
) -> list[Observation]:
    """Add zero readings for the buckets where a dense source (crowd reports) got none.

    For crowd reports, silence is information: nobody reported, so the count was zero. Without
    these zeros an incident could never see "M buckets below" and would stay open until quiet.
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

"""Everything stored for one pair within a window, for /timeline.

A window has two edges because records come with two precisions: a timed record belongs to it
when its instant falls inside, a date-only record when its date does. A date-only record is
stored at midnight UTC of its date, but that date is the source's calendar day, not an instant;
comparing it with instants would move it to the previous day west of Greenwich.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from storage.database import Database
from storage.events import EVENT_SELECT, event_from_row
from storage.observations import OBSERVATION_SELECT, observation_from_row
from storage.records import Event, Observation
from storage.timecodec import from_epoch, to_epoch


@dataclass(frozen=True, slots=True)
class Span:
    """Timed records in [start, end); date-only records dated first_day to last_day inclusive."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date


@dataclass(frozen=True, slots=True)
class Latest:
    """The newest timed instant and the newest stated date on record, each if any."""

    timed: datetime | None
    dated: date | None


def _midnight(day: date) -> int:
    return to_epoch(datetime(day.year, day.month, day.day, tzinfo=UTC))


def _within(span: Span) -> tuple[str, tuple[int, int, int, int]]:
    """A condition on table alias `{t}` (filled in by the caller) and its bounds."""
    return (
        "(({t}.precision = 'minute' AND {t}.at >= ? AND {t}.at < ?)"
        " OR ({t}.precision = 'day' AND {t}.at >= ? AND {t}.at <= ?))",
        (
            to_epoch(span.start),
            to_epoch(span.end),
            _midnight(span.first_day),
            _midnight(span.last_day),
        ),
    )


async def readings_between(
    db: Database, service: str, region: str, span: Span
) -> list[Observation]:
    """The pair's observations in the span, oldest first."""
    where, bounds = _within(span)
    rows = await db.fetchall(
        f"{OBSERVATION_SELECT} WHERE o.service = ? AND o.region = ? AND {where.format(t='o')}"
        " ORDER BY o.at, o.id",
        (service, region, *bounds),
    )
    return [observation_from_row(row) for row in rows]


async def events_in_span(
    db: Database, service: str, regions: Sequence[str], span: Span
) -> list[Event]:
    """A service's events in any of `regions` (a country and `global`), oldest first."""
    where, bounds = _within(span)
    marks = ", ".join("?" for _ in regions)
    rows = await db.fetchall(
        f"{EVENT_SELECT} WHERE e.service = ? AND e.region IN ({marks}) AND {where.format(t='e')}"
        " ORDER BY e.at, e.id",
        (service, *regions, *bounds),
    )
    return [event_from_row(row) for row in rows]


async def latest_record(
    db: Database, service: str, region: str, event_regions: Sequence[str], *, until: datetime
) -> Latest:
    """When the pair last had data up to `until`: where to point someone whose window is empty."""
    marks = ", ".join("?" for _ in event_regions)
    limit = to_epoch(until)
    row = await db.fetchone(
        "SELECT"
        " (SELECT MAX(at) FROM observations WHERE service = ? AND region = ?"
        "  AND precision = 'minute' AND at <= ?) AS reading_at,"
        " (SELECT MAX(at) FROM observations WHERE service = ? AND region = ?"
        "  AND precision = 'day' AND at <= ?) AS reading_day,"
        f" (SELECT MAX(at) FROM events WHERE service = ? AND region IN ({marks})"
        "  AND precision = 'minute' AND at <= ?) AS event_at,"
        f" (SELECT MAX(at) FROM events WHERE service = ? AND region IN ({marks})"
        "  AND precision = 'day' AND at <= ?) AS event_day",
        (
            *(service, region, limit),
            *(service, region, limit),
            *(service, *event_regions, limit),
            *(service, *event_regions, limit),
        ),
    )
    assert row is not None  # an aggregate always yields one row
    timed = [value for value in (row["reading_at"], row["event_at"]) if value is not None]
    dated = [value for value in (row["reading_day"], row["event_day"]) if value is not None]
    return Latest(
        timed=from_epoch(max(timed)) if timed else None,
        dated=from_epoch(max(dated)).date() if dated else None,
    )

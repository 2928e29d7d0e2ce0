"""The records the bot keeps, as plain values: no database or Telegram types leak through."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal, NamedTuple

Qualifier = Literal["exact", "at_least", "about"]
Precision = Literal["minute", "day"]
EventKind = Literal["report", "statement", "claim", "confirmation", "ban", "restoration", "note"]
RestrictionKind = Literal["block", "throttle", "shutdown"]
RestrictionStatus = Literal["active", "lifted"]


@dataclass(frozen=True, slots=True, order=True)
class PartialDate:
    """A date stated only as precisely as the source stated it: 2024, 2024-02 or 2024-02-17.

    Legal records and news often give only a month ("blocked since February 2024"); inventing a
    day would put words in a source's mouth.
    """

    year: int
    month: int | None = None
    day: int | None = None

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        parts = text.strip().split("-")
        if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
            raise ValueError(f"expected YYYY, YYYY-MM or YYYY-MM-DD, got {text!r}")
        numbers = [int(p) for p in parts]
        year = numbers[0]
        month = numbers[1] if len(numbers) > 1 else None
        day = numbers[2] if len(numbers) > 2 else None
        if month is not None and not 1 <= month <= 12:
            raise ValueError(f"month out of range in {text!r}")
        if day is not None:
            date(year, month or 1, day)  # raises on 2024-02-30
        return cls(year, month, day)

    def __str__(self) -> str:
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text

    def first_day(self) -> date:
        return date(self.year, self.month or 1, self.day or 1)

    def last_day(self) -> date:
        if self.day is not None:
            return self.first_day()
        month = self.month or 12
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    def start_instant(self) -> datetime:
        return datetime.combine(self.first_day(), datetime.min.time(), UTC)


class Observation(NamedTuple):
    """A report count for a service in a region at a time, from one source.

    A named tuple rather than a frozen dataclass like the other records: imports make them a
    million at a time, and a frozen dataclass's __init__ (one object.__setattr__ per field) was
    the costliest step of reading a file (0.7 s of 300,000 rows; a named tuple takes 0.17 s).
    Just as immutable; change one with `_replace`.
    """

    service: str
    region: str
    at: datetime
    count: int  # type: ignore[assignment]  # shadows tuple.count, which nothing here calls
    source: str
    url: str | None = None
    qualifier: Qualifier = "exact"
    precision: Precision = "minute"
    note: str | None = None
    baseline: float | None = None  # what the source says is typical for this pair and time


@dataclass(frozen=True, slots=True)
class Event:
    """A dated statement on a pair's timeline, always with who made it."""

    service: str
    region: str
    at: datetime
    kind: EventKind
    text: str
    source: str
    url: str | None = None
    precision: Precision = "minute"


@dataclass(frozen=True, slots=True)
class TimelineStep:
    on: PartialDate
    text: str
    source: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Restriction:
    """A block, throttle or shutdown with its own dated legal record."""

    service: str
    region: str
    kind: RestrictionKind
    status: RestrictionStatus
    start: PartialDate
    end: PartialDate | None
    authority: str
    grounds: str
    timeline: tuple[TimelineStep, ...] = ()
    sources: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    name: str
    url: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Dataset:
    """Everything one import brings, validated, ready to land in one transaction."""

    observations: tuple[Observation, ...] = ()
    events: tuple[Event, ...] = ()
    restrictions: tuple[Restriction, ...] = ()
    sources: tuple[Source, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ImportCounts:
    observations: int = 0
    events: int = 0
    restrictions: int = 0
    timeline_steps: int = 0
    sources: int = 0

    @property
    def total(self) -> int:
        return (
            self.observations + self.events + self.restrictions + self.timeline_steps + self.sources
        )


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """An incident as stored: one continuous stretch above normal for a pair."""

    service: str
    region: str
    opened_at: datetime
    last_seen: datetime
    resolved_at: datetime | None
    peak_count: int
    peak_at: datetime
    level: str
    levels: tuple[tuple[datetime, str], ...] = ()
    # The stored identity: alerts are deduplicated by it, so it never changes once alerted.
    id: int | None = None


@dataclass(frozen=True, slots=True)
class PreparedSummary:
    """What /status needs for a pair, rendered in the background.

    The card is kept as UTF-8 bytes: one emoji makes a Python str four bytes per character,
    and ten thousand cards would otherwise cost four times the memory.
    """

    service: str
    region: str
    made_at: datetime
    level: str
    rank: tuple[int, ...]
    card_utf8: bytes
    service_line: str
    region_line: str
    has_data: bool
    # The card's layout (bot.render.card.CARD_FORMAT when it was rendered): one stored by an
    # older version is re-prepared, not served.
    card_format: int = 1

    @property
    def card(self) -> str:
        return self.card_utf8.decode("utf-8")

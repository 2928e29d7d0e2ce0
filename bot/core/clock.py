"""One injectable clock: production reads the system time, tests and `--at` pin it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that moves only when told, so time-dependent behaviour is deterministic."""

    def __init__(self, at: datetime) -> None:
        self._at = as_utc(at)

    def now(self) -> datetime:
        return self._at

    def set(self, at: datetime) -> None:
        self._at = as_utc(at)

    def advance(self, **delta: float) -> datetime:
        self._at += timedelta(**delta)
        return self._at


def as_utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetime: give a time zone or offset")
    return at.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """ISO 8601 with an offset or Z, e.g. 2025-03-10T18:30:00Z."""
    value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    return as_utc(value)

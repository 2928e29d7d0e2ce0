"""Stored times are integer Unix seconds in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def to_epoch(at: datetime) -> int:
    return int(at.astimezone(UTC).timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)

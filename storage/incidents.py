"""Incidents as the refresh job found them: opened, peak, level history, resolved."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from storage.database import Connection, Database, Row
from storage.records import IncidentRecord
from storage.timecodec import from_epoch, to_epoch

_COLUMNS = "service, region, opened_at, last_seen, resolved_at, peak_count, peak_at, level, levels"


_UPSERT = (
    f"INSERT INTO incidents ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (service, region, opened_at) DO UPDATE SET last_seen = excluded.last_seen,"
    " resolved_at = excluded.resolved_at, peak_count = excluded.peak_count,"
    " peak_at = excluded.peak_at, level = excluded.level, levels = excluded.levels"
)


def _values(row: IncidentRecord) -> tuple[object, ...]:
    return (
        row.service,
        row.region,
        to_epoch(row.opened_at),
        to_epoch(row.last_seen),
        to_epoch(row.resolved_at) if row.resolved_at else None,
        row.peak_count,
        to_epoch(row.peak_at),
        row.level,
        json.dumps([[to_epoch(at), level] for at, level in row.levels]),
    )


async def save_incidents(connection: Connection, rows: Sequence[IncidentRecord]) -> None:
    await connection.executemany(_UPSERT, [_values(row) for row in rows])


async def save_incident(connection: Connection, row: IncidentRecord) -> IncidentRecord:
    """Insert or update one incident; returned with its id, which alerts are keyed by."""
    stored = await connection.fetchone(_UPSERT + " RETURNING id", _values(row))
    assert stored is not None
    return replace(row, id=stored["id"])


def _incident(row: Row) -> IncidentRecord:
    return IncidentRecord(
        service=row["service"],
        region=row["region"],
        opened_at=from_epoch(row["opened_at"]),
        last_seen=from_epoch(row["last_seen"]),
        resolved_at=from_epoch(row["resolved_at"]) if row["resolved_at"] is not None else None,
        peak_count=row["peak_count"],
        peak_at=from_epoch(row["peak_at"]),
        level=row["level"],
        levels=tuple((from_epoch(at), level) for at, level in json.loads(row["levels"])),
        id=row["id"],
    )


async def latest_incident(db: Database, service: str, region: str) -> IncidentRecord | None:
    row = await db.fetchone(
        f"SELECT id, {_COLUMNS} FROM incidents WHERE service = ? AND region = ?"
        " ORDER BY opened_at DESC LIMIT 1",
        (service, region),
    )
    return _incident(row) if row else None


async def recent_incidents(
    db: Database,
    *,
    service: str | None = None,
    region: str | None = None,
    until: datetime,
    limit: int = 10,
) -> list[IncidentRecord]:
    """Newest first; an incident opened after `until` (asking about the past) is left out."""
    rows = await db.fetchall(
        f"SELECT id, {_COLUMNS} FROM incidents WHERE (CAST(? AS TEXT) IS NULL OR service = ?)"
        " AND (CAST(? AS TEXT) IS NULL OR region = ?) AND opened_at <= ?"
        " ORDER BY opened_at DESC LIMIT ?",
        (service, service, region, region, to_epoch(until), limit),
    )
    return [_incident(row) for row in rows]

"""Events: dated, attributed statements on a pair's timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.database import Connection, Database, Row
from storage.records import Event
from storage.timecodec import from_epoch, to_epoch


async def insert_events(
    connection: Connection, rows: Sequence[Event], source_ids: dict[str, int]
) -> int:
    before = connection.total_changes
    await connection.executemany(
        "INSERT INTO events (service, region, at, precision, kind, text, source_id, url)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (service, region, at, source_id, text) DO NOTHING",
        [
            (
                row.service,
                row.region,
                to_epoch(row.at),
                row.precision,
                row.kind,
                row.text,
                source_ids[row.source],
                row.url,
            )
            for row in rows
        ],
    )
    return connection.total_changes - before


async def events_between(
    db: Database, service: str, regions: Sequence[str], start: datetime, end: datetime
) -> list[Event]:
    """Events for a service in any of `regions` (e.g. the country and `global`), oldest first."""
    marks = ", ".join("?" for _ in regions)
    rows = await db.fetchall(
        f"{EVENT_SELECT} WHERE e.service = ? AND e.region IN ({marks}) AND e.at >= ?"
        " AND e.at <= ? ORDER BY e.at, e.id",
        (service, *regions, to_epoch(start), to_epoch(end)),
    )
    return [event_from_row(row) for row in rows]


EVENT_SELECT = (
    "SELECT e.service, e.region, e.at, e.precision, e.kind, e.text, s.name AS source, e.url"
    " FROM events e JOIN sources s ON s.id = e.source_id"
)


def event_from_row(row: Row) -> Event:
    """A row selected with EVENT_SELECT, as a record."""
    return Event(
        service=row["service"],
        region=row["region"],
        at=from_epoch(row["at"]),
        kind=row["kind"],
        text=row["text"],
        source=row["source"],
        url=row["url"],
        precision=row["precision"],
    )


async def count_events(db: Database) -> int:
    return int(await db.scalar("SELECT COUNT(*) FROM events"))

"""How far detection has judged each pair's readings: the watermark a refresh continues from,
and the detector's packed state at that mark, so a refresh can continue without re-reading."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.database import Connection, Database
from storage.timecodec import from_epoch, to_epoch


async def decided_until(db: Database, service: str, region: str) -> datetime | None:
    """The newest reading already judged for the pair; None before its first refresh."""
    mark, _ = await detection_mark(db, service, region)
    return mark


async def detection_mark(
    db: Database, service: str, region: str
) -> tuple[datetime | None, bytes | None]:
    """The pair's watermark and the detector state stored with it (None: rebuild it)."""
    row = await db.fetchone(
        "SELECT decided_until, state FROM detection_marks WHERE service = ? AND region = ?",
        (service, region),
    )
    if row is None:
        return None, None
    state = row["state"]
    return from_epoch(row["decided_until"]), bytes(state) if state is not None else None


async def save_marks(
    connection: Connection, rows: Sequence[tuple[str, str, datetime, bytes | None]]
) -> None:
    """Store each pair's new mark with the state judged to it; a state always replaces the
    last one, so a stored state never belongs to another mark."""
    await connection.executemany(
        "INSERT INTO detection_marks (service, region, decided_until, state) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (service, region) DO UPDATE SET decided_until = excluded.decided_until,"
        " state = excluded.state",
        [(service, region, to_epoch(at), state) for service, region, at, state in rows],
    )

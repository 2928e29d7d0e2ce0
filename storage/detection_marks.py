"""How far detection has judged each pair's readings: the watermark a refresh continues from."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from storage.database import Connection, Database
from storage.timecodec import from_epoch, to_epoch


async def decided_until(db: Database, service: str, region: str) -> datetime | None:
    """The newest reading already judged for the pair; None before its first refresh."""
    value = await db.scalar(
        "SELECT decided_until FROM detection_marks WHERE service = ? AND region = ?",
        (service, region),
    )
    return from_epoch(value) if value is not None else None


async def save_marks(connection: Connection, rows: Sequence[tuple[str, str, datetime]]) -> None:
    await connection.executemany(
        "INSERT INTO detection_marks (service, region, decided_until) VALUES (?, ?, ?)"
        " ON CONFLICT (service, region) DO UPDATE SET decided_until = excluded.decided_until",
        [(service, region, to_epoch(at)) for service, region, at in rows],
    )

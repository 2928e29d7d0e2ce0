"""Prepared summaries: stored so a restart (or another replica) starts with them warm."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from storage.database import Connection, Database
from storage.records import PreparedSummary
from storage.timecodec import from_epoch, to_epoch


async def save_prepared(connection: Connection, rows: Sequence[PreparedSummary]) -> None:
    await connection.executemany(
        "INSERT INTO summaries (service, region, made_at, level, rank, card, service_line,"
        " region_line, has_data, card_format) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (service, region) DO UPDATE SET made_at = excluded.made_at,"
        " level = excluded.level, rank = excluded.rank, card = excluded.card,"
        " service_line = excluded.service_line, region_line = excluded.region_line,"
        " has_data = excluded.has_data, card_format = excluded.card_format",
        [
            (
                row.service,
                row.region,
                to_epoch(row.made_at),
                row.level,
                json.dumps(list(row.rank)),
                row.card_utf8.decode("utf-8"),
                row.service_line,
                row.region_line,
                int(row.has_data),
                row.card_format,
            )
            for row in rows
        ],
    )


async def load_prepared(
    db: Database, *, since: datetime | None = None, chunk: int = 500
) -> list[PreparedSummary]:
    """Every stored summary, its card fetched as UTF-8 bytes, a chunk at a time.

    Read as text, each card with an emoji would become a four-bytes-a-character string on the
    way (10,000 cards: 175 MB at the peak for 48 MB kept); as bytes they stay compact. Chunks
    follow the key, so neither engine holds more than one chunk of text at once. `since`: only
    summaries made at or after it (a replica catching up with the leader's refreshes).
    """
    found: list[PreparedSummary] = []
    after = ("", "")
    card = db.dialect.utf8_bytes("card")
    while rows := await db.fetchall(
        f"SELECT service, region, made_at, level, rank, {card} AS card,"
        " service_line, region_line, has_data, card_format FROM summaries"
        " WHERE (service > ? OR (service = ? AND region > ?)) AND made_at >= ?"
        " ORDER BY service, region LIMIT ?",
        (after[0], after[0], after[1], to_epoch(since) if since else 0, chunk),
    ):
        found.extend(
            PreparedSummary(
                service=row["service"],
                region=row["region"],
                made_at=from_epoch(row["made_at"]),
                level=row["level"],
                rank=tuple(json.loads(row["rank"])),
                card_utf8=bytes(row["card"]),
                service_line=row["service_line"],
                region_line=row["region_line"],
                has_data=bool(row["has_data"]),
                card_format=int(row["card_format"]),
            )
            for row in rows
        )
        after = (rows[-1]["service"], rows[-1]["region"])
    return found

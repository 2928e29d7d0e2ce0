"""Which pairs have new data since the last refresh.

Writers mark pairs inside their own transaction, so data and mark land together; that is how an
`outagebot import` run from cron in another process reaches the running bot's next refresh.
"""

from __future__ import annotations

from collections.abc import Iterable

from storage.database import Connection, Database

Pair = tuple[str, str]


async def mark_dirty(connection: Connection, pairs: Iterable[Pair]) -> None:
    await connection.executemany(
        "INSERT INTO dirty_pairs (service, region, version) VALUES (?, ?, 1)"
        " ON CONFLICT (service, region) DO UPDATE SET version = dirty_pairs.version + 1",
        sorted(set(pairs)),
    )


async def dirty_pairs(db: Database) -> list[tuple[str, str, int]]:
    rows = await db.fetchall("SELECT service, region, version FROM dirty_pairs")
    return [(row["service"], row["region"], row["version"]) for row in rows]


async def clear_dirty(connection: Connection, seen: Iterable[tuple[str, str, int]]) -> None:
    """Forget the marks the refresh has handled; a pair marked again meanwhile stays dirty."""
    await connection.executemany(
        "DELETE FROM dirty_pairs WHERE service = ? AND region = ? AND version = ?", list(seen)
    )


async def known_pairs(db: Database) -> set[Pair]:
    """Every pair with observations, restrictions or regional events: what deserves a summary."""
    rows = await db.fetchall(
        "SELECT DISTINCT service, region FROM observations"
        " UNION SELECT DISTINCT service, region FROM restrictions"
        " UNION SELECT DISTINCT service, region FROM events WHERE region <> 'global'"
    )
    return {(row["service"], row["region"]) for row in rows}


async def pairs_of_service(db: Database, service: str) -> set[Pair]:
    rows = await db.fetchall("SELECT service, region FROM summaries WHERE service = ?", (service,))
    return {(row["service"], row["region"]) for row in rows}


async def pairs_in_region(db: Database, region: str) -> set[Pair]:
    rows = await db.fetchall("SELECT service, region FROM summaries WHERE region = ?", (region,))
    return {(row["service"], row["region"]) for row in rows}

"""Sources: who said or measured something. Every other record points at one."""

from __future__ import annotations

from collections.abc import Iterable

from storage.database import Connection, Database
from storage.records import Source


async def source_ids(
    connection: Connection, names: Iterable[str], known: Iterable[Source] = ()
) -> tuple[dict[str, int], int]:
    """Ids for these source names, creating the missing ones; also how many were new.

    Runs inside the caller's transaction so a failed import leaves no orphan sources behind.
    """
    details = {source.name: source for source in known}
    wanted = sorted(set(names) | set(details))
    ids: dict[str, int] = {}
    added = 0
    for name in wanted:
        source = details.get(name, Source(name))
        cursor = await connection.execute(
            "INSERT INTO sources (name, url, description) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO NOTHING",
            (name, source.url, source.description),
        )
        added += cursor.rowcount
        if source.url or source.description:
            await connection.execute(
                "UPDATE sources SET url = COALESCE(?, url), description = COALESCE(?, description)"
                " WHERE name = ?",
                (source.url, source.description, name),
            )
        async with connection.execute("SELECT id FROM sources WHERE name = ?", (name,)) as cur:
            row = await cur.fetchone()
        assert row is not None
        ids[name] = row[0]
    return ids, added


async def all_sources(db: Database) -> list[Source]:
    rows = await db.fetchall("SELECT name, url, description FROM sources ORDER BY name")
    return [Source(row["name"], row["url"], row["description"]) for row in rows]

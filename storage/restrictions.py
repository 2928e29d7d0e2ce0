"""Restrictions (blocks, throttles, shutdowns) with their dated legal timeline."""

from __future__ import annotations

from collections.abc import Sequence

from storage.database import Connection, Database, Row
from storage.records import PartialDate, Restriction, TimelineStep


async def insert_restrictions(
    connection: Connection, rows: Sequence[Restriction], source_ids: dict[str, int]
) -> tuple[int, int]:
    """Insert restrictions and their steps; return (new restrictions, new timeline steps).

    A restriction already known by (service, region, kind, start) gets its status, end and
    wording updated (a block can be lifted later) and any new steps appended.
    """
    new_restrictions = new_steps = 0
    for row in rows:
        cursor = await connection.execute(
            "INSERT INTO restrictions"
            ' (service, region, kind, status, start, "end", authority, grounds, note, origin)'
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (service, region, kind, start, origin) DO NOTHING",
            (
                row.service,
                row.region,
                row.kind,
                row.status,
                str(row.start),
                str(row.end) if row.end else None,
                row.authority,
                row.grounds,
                row.note,
                origin_of(row),
            ),
        )
        if cursor.rowcount:
            new_restrictions += 1
        else:
            await connection.execute(
                'UPDATE restrictions SET status = ?, "end" = ?, authority = ?, grounds = ?,'
                " note = ? WHERE service = ? AND region = ? AND kind = ? AND start = ?"
                " AND origin = ?",
                (
                    row.status,
                    str(row.end) if row.end else None,
                    row.authority,
                    row.grounds,
                    row.note,
                    row.service,
                    row.region,
                    row.kind,
                    str(row.start),
                    origin_of(row),
                ),
            )
        async with connection.execute(
            "SELECT id FROM restrictions WHERE service = ? AND region = ? AND kind = ?"
            " AND start = ? AND origin = ?",
            (row.service, row.region, row.kind, str(row.start), origin_of(row)),
        ) as cur:
            found = await cur.fetchone()
        assert found is not None
        restriction_id = found[0]
        for position, step in enumerate(row.timeline):
            cursor = await connection.execute(
                'INSERT INTO restriction_steps (restriction_id, position, "on", text, source_id,'
                " url) VALUES (?, ?, ?, ?, ?, ?)"
                ' ON CONFLICT (restriction_id, "on", text) DO NOTHING',
                (
                    restriction_id,
                    position,
                    str(step.on),
                    step.text,
                    source_ids[step.source],
                    step.url,
                ),
            )
            new_steps += cursor.rowcount
        await connection.executemany(
            "INSERT INTO restriction_sources (restriction_id, source_id) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            [(restriction_id, source_ids[name]) for name in row.sources],
        )
    return new_restrictions, new_steps


def origin_of(row: Restriction) -> str:
    """Whose record this is: the first source it names (part of its natural key)."""
    return row.sources[0] if row.sources else ""


async def restrictions_for(db: Database, region: str, services: Sequence[str]) -> list[Restriction]:
    """Restrictions in a region on any of `services` (pass "internet" too for shutdowns)."""
    marks = ", ".join("?" for _ in services)
    rows = await db.fetchall(
        'SELECT id, service, region, kind, status, start, "end", authority, grounds, note'
        f" FROM restrictions WHERE region = ? AND service IN ({marks})"
        " ORDER BY start DESC, id DESC",
        (region, *services),
    )
    return [await _restriction(db, row) for row in rows]


async def restrictions_in(db: Database, region: str) -> list[Restriction]:
    rows = await db.fetchall(
        'SELECT id, service, region, kind, status, start, "end", authority, grounds, note'
        " FROM restrictions WHERE region = ? ORDER BY start DESC, id DESC",
        (region,),
    )
    return [await _restriction(db, row) for row in rows]


async def _restriction(db: Database, row: Row) -> Restriction:
    steps = await db.fetchall(
        'SELECT st."on", st.text, s.name AS source, st.url FROM restriction_steps st'
        " JOIN sources s ON s.id = st.source_id WHERE st.restriction_id = ?"
        " ORDER BY st.position, st.id",
        (row["id"],),
    )
    sources = await db.fetchall(
        "SELECT s.name FROM restriction_sources rs JOIN sources s ON s.id = rs.source_id"
        " WHERE rs.restriction_id = ? ORDER BY s.name",
        (row["id"],),
    )
    return Restriction(
        service=row["service"],
        region=row["region"],
        kind=row["kind"],
        status=row["status"],
        start=PartialDate.parse(row["start"]),
        end=PartialDate.parse(row["end"]) if row["end"] else None,
        authority=row["authority"],
        grounds=row["grounds"],
        note=row["note"],
        timeline=tuple(
            TimelineStep(PartialDate.parse(s["on"]), s["text"], s["source"], s["url"])
            for s in steps
        ),
        sources=tuple(s["name"] for s in sources),
    )


async def regions_restricting(db: Database, service: str) -> set[str]:
    rows = await db.fetchall(
        "SELECT DISTINCT region FROM restrictions WHERE service = ?", (service,)
    )
    return {row["region"] for row in rows}


async def count_restrictions(db: Database) -> int:
    return int(await db.scalar("SELECT COUNT(*) FROM restrictions"))

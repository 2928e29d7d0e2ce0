"""Observations: report counts per (service, region, time, source)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from operator import itemgetter

from storage.bulk import no_cycle_collection
from storage.database import Connection, Database, Row
from storage.records import Observation
from storage.timecodec import from_epoch, to_epoch

OBSERVATION_SELECT = (
    "SELECT o.service, o.region, o.at, o.count, s.name AS source, o.url, o.qualifier,"
    " o.precision, o.note, o.baseline FROM observations o JOIN sources s ON s.id = o.source_id"
)


# Columns a row may leave to the schema's default: (name, position in Observation, default).
# The record's defaults are the schema's (migrations/0001_initial.sql).
OPTIONAL_COLUMNS = tuple(
    (name, Observation._fields.index(name), Observation._field_defaults[name])
    for name in ("url", "qualifier", "precision", "note", "baseline")
)


async def insert_observations(
    connection: Connection, rows: Sequence[Observation], source_ids: dict[str, int]
) -> int:
    """Insert inside the caller's transaction; an existing (pair, time, source) is kept as is.

    A column every row leaves at its default is left out of the statement: most files carry
    counts alone, and binding five constant columns a row was a third of landing them.
    """
    before = connection.total_changes
    with no_cycle_collection():
        extras = [
            (name, position)
            for name, position, default in OPTIONAL_COLUMNS
            if set(map(itemgetter(position), rows)) - {default}
        ]
        # A file repeats a few thousand bucket times across every pair: convert each once.
        epochs = {at: to_epoch(at) for at in set(map(itemgetter(2), rows))}
        # Observation's first five fields: service, region, at, count, source.
        if extras:
            more = [position for _, position in extras]
            params = [
                (
                    row[0],
                    row[1],
                    epochs[row[2]],
                    row[3],
                    source_ids[row[4]],
                    *map(row.__getitem__, more),
                )
                for row in rows
            ]
        else:
            params = [(row[0], row[1], epochs[row[2]], row[3], source_ids[row[4]]) for row in rows]
    columns = ", ".join(["service, region, at, count, source_id", *(name for name, _ in extras)])
    marks = ", ".join("?" * (5 + len(extras)))
    await connection.executemany(
        f"INSERT INTO observations ({columns}) VALUES ({marks})"
        " ON CONFLICT (service, region, at, source_id) DO NOTHING",
        params,
    )
    return connection.total_changes - before


def observation_from_row(row: Row) -> Observation:
    """A row selected with OBSERVATION_SELECT, as a record."""
    return Observation(
        service=row["service"],
        region=row["region"],
        at=from_epoch(row["at"]),
        count=row["count"],
        source=row["source"],
        url=row["url"],
        qualifier=row["qualifier"],
        precision=row["precision"],
        note=row["note"],
        baseline=row["baseline"],
    )


async def observations_for(
    db: Database,
    service: str,
    region: str,
    *,
    until: datetime,
    limit: int = 2000,
    since: datetime | None = None,
    timed_since: datetime | None = None,
) -> list[Observation]:
    """The pair's most recent observations up to `until` (and from `since`), oldest first;
    timed ones only from `timed_since` if given (date-only ones still from `since`)."""
    rows = await db.fetchall(
        f"{OBSERVATION_SELECT} WHERE o.service = ? AND o.region = ? AND o.at <= ? AND o.at >= ?"
        " AND (o.precision <> 'minute' OR o.at >= ?) ORDER BY o.at DESC, o.id DESC LIMIT ?",
        (
            service,
            region,
            to_epoch(until),
            to_epoch(since) if since else -(2**62),
            to_epoch(timed_since) if timed_since else -(2**62),
            limit,
        ),
    )
    return [observation_from_row(row) for row in reversed(rows)]


async def observations_between(
    db: Database, service: str, start: datetime, end: datetime, *, exclude_region: str | None = None
) -> list[Observation]:
    """A service's observations in every region within a window, oldest first."""
    rows = await db.fetchall(
        f"{OBSERVATION_SELECT} WHERE o.service = ? AND o.at >= ? AND o.at <= ? AND o.region <> ?"
        " ORDER BY o.at, o.id",
        (service, to_epoch(start), to_epoch(end), exclude_region or ""),
    )
    return [observation_from_row(row) for row in rows]


async def pairs_with_observations(
    db: Database, *, service: str | None = None, region: str | None = None, until: datetime
) -> list[tuple[str, str]]:
    rows = await db.fetchall(
        "SELECT DISTINCT service, region FROM observations"
        " WHERE (CAST(? AS TEXT) IS NULL OR service = ?)"
        " AND (CAST(? AS TEXT) IS NULL OR region = ?) AND at <= ?"
        " ORDER BY service, region",
        (service, service, region, region, to_epoch(until)),
    )
    return [(row["service"], row["region"]) for row in rows]


async def count_observations(db: Database) -> int:
    return int(await db.scalar("SELECT COUNT(*) FROM observations"))


async def peaks_elsewhere(
    db: Database,
    service: str,
    start: datetime,
    end: datetime,
    *,
    exclude_region: str,
    regions: int = 6,
    per_region: int = 3,
) -> list[Observation]:
    """The biggest readings of a service in the other regions busiest during a window.

    Aggregated in SQL: a service may have readings in 250 regions, and turning all of them into
    records to keep eighteen is what made a refresh slow. A date-only reading counts when its
    day overlaps the window.
    """
    first, last, day = to_epoch(start), to_epoch(end), 86400
    within = (
        "((o.precision = 'minute' AND o.at >= ? AND o.at <= ?)"
        " OR (o.precision = 'day' AND o.at > ? AND o.at < ?))"
    )
    bounds = (first, last, first - day, last)
    rows = await db.fetchall(
        "WITH busiest AS ("
        " SELECT o.region, MAX(o.count) AS peak FROM observations o"
        f" WHERE o.service = ? AND o.region <> ? AND o.count > 0 AND {within}"
        " GROUP BY o.region ORDER BY peak DESC, o.region LIMIT ?)"
        " SELECT * FROM ("
        " SELECT o.service, o.region, o.at, o.count, s.name AS source, o.url, o.qualifier,"
        " o.precision, o.note, o.baseline, b.peak,"
        " ROW_NUMBER() OVER (PARTITION BY o.region ORDER BY o.count DESC, o.at) AS place"
        " FROM observations o JOIN busiest b ON b.region = o.region"
        " JOIN sources s ON s.id = o.source_id"
        f" WHERE o.service = ? AND o.count > 0 AND {within}"
        ") AS ranked WHERE place <= ? ORDER BY peak DESC, region, place",
        (service, exclude_region, *bounds, regions, service, *bounds, per_region),
    )
    return [observation_from_row(row) for row in rows]

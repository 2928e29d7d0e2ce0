"""How each outside source is doing, what it covers, and what the bot watches by default.

A run ends in exactly one of `record_success` or `record_failure`. A failure touches nothing
but the source's own health row and coverage, so a failing source never leaves half its data
behind; a success replaces the source's readings together with its health row, in one
transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.database import Connection, Database, Row
from storage.dirty import mark_dirty
from storage.source_readings import BlockingReading, ConnectivityReading, replace_readings
from storage.timecodec import from_epoch, to_epoch

EVERY = "*"
Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class SourceHealth:
    name: str
    kind: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    last_error_detail: str | None
    failing_since: datetime | None
    consecutive_failures: int
    items_last_run: int

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0


@dataclass(frozen=True, slots=True)
class Watched:
    """What the bot watches by default: pairs with subscribers or restrictions.

    `pairs` may hold '*' for every service or every region, as subscriptions do;
    `regions_on_record` is what a '*' region stands for (every region the bot has data on),
    so a wildcard subscription never fans out to every country in the world.
    """

    pairs: frozenset[Pair]
    regions_on_record: frozenset[str]


_HEALTH_COLUMNS = (
    "name, kind, last_run_at, last_success_at, last_error_at, last_error, last_error_detail,"
    " failing_since, consecutive_failures, items_last_run"
)


def _time(value: int | None) -> datetime | None:
    return from_epoch(value) if value is not None else None


def _health(row: Row) -> SourceHealth:
    return SourceHealth(
        name=row["name"],
        kind=row["kind"],
        last_run_at=_time(row["last_run_at"]),
        last_success_at=_time(row["last_success_at"]),
        last_error_at=_time(row["last_error_at"]),
        last_error=row["last_error"],
        last_error_detail=row["last_error_detail"],
        failing_since=_time(row["failing_since"]),
        consecutive_failures=row["consecutive_failures"],
        items_last_run=row["items_last_run"],
    )


async def _set_targets(connection: Connection, name: str, targets: Iterable[Pair]) -> None:
    await connection.execute("DELETE FROM source_targets WHERE source = ?", (name,))
    await connection.executemany(
        "INSERT INTO source_targets (source, service, region) VALUES (?, ?, ?)"
        " ON CONFLICT DO NOTHING",
        [(name, service, region) for service, region in sorted(set(targets))],
    )


async def record_success(
    db: Database,
    name: str,
    kind: str,
    at: datetime,
    *,
    items: int,
    targets: Iterable[Pair],
    connectivity: Sequence[ConnectivityReading] = (),
    blocking: Sequence[BlockingReading] = (),
) -> None:
    """The source answered: its readings replace the old ones and its failure streak ends."""
    moment = to_epoch(at)
    targets = list(targets)
    async with db.transaction() as connection:
        await replace_readings(connection, name, connectivity, blocking)
        await _set_targets(connection, name, targets)
        await mark_dirty(connection, targets)  # their cards show these readings
        await connection.execute(
            "INSERT INTO source_health (name, kind, last_run_at, last_success_at,"
            " consecutive_failures, failing_since, items_last_run) VALUES (?, ?, ?, ?, 0, NULL, ?)"
            " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind,"
            " last_run_at = excluded.last_run_at, last_success_at = excluded.last_success_at,"
            " consecutive_failures = 0, failing_since = NULL,"
            " items_last_run = excluded.items_last_run",
            (name, kind, moment, moment, items),
        )


async def record_failure(
    db: Database,
    name: str,
    kind: str,
    at: datetime,
    *,
    reason: str,
    detail: str | None = None,
    targets: Iterable[Pair] | None = None,
) -> None:
    """The source failed: only its health row (and what it was meant to cover) changes.

    `targets` None (the run failed before knowing them) keeps the coverage recorded before.
    """
    moment = to_epoch(at)
    async with db.transaction() as connection:
        if targets is not None:
            targets = list(targets)
            await _set_targets(connection, name, targets)
        else:
            async with connection.execute(
                "SELECT service, region FROM source_targets WHERE source = ?", (name,)
            ) as cursor:
                targets = [(row[0], row[1]) for row in await cursor.fetchall()]
        await mark_dirty(connection, targets)  # their cards say this source is failing
        await connection.execute(
            "INSERT INTO source_health (name, kind, last_run_at, last_error_at, last_error,"
            " last_error_detail, failing_since, consecutive_failures, items_last_run)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 1, 0)"
            " ON CONFLICT (name) DO UPDATE SET kind = excluded.kind,"
            " last_run_at = excluded.last_run_at, last_error_at = excluded.last_error_at,"
            " last_error = excluded.last_error, last_error_detail = excluded.last_error_detail,"
            " failing_since = COALESCE(source_health.failing_since, excluded.failing_since),"
            " consecutive_failures = source_health.consecutive_failures + 1,"
            " items_last_run = 0",
            (name, kind, moment, moment, reason, detail, moment),
        )


async def forget_sources_except(db: Database, names: Iterable[str]) -> int:
    """Drop the health, coverage and readings of sources no longer configured; return how many.

    Their events stay: they are history, said by someone, and dated. Without this a source
    taken out of the sources file would warn on cards forever that it is failing.
    """
    keep = sorted(set(names))
    # `x NOT IN ()` is not valid SQL everywhere, and NOT IN (NULL) matches nothing.
    unless = f" WHERE {{column}} NOT IN ({', '.join('?' for _ in keep)})" if keep else ""
    async with db.transaction() as connection:
        cursor = await connection.execute(
            "DELETE FROM source_health" + unless.format(column="name"), keep
        )
        forgotten = cursor.rowcount
        for table in ("source_targets", "connectivity_readings", "blocking_readings"):
            await connection.execute(f"DELETE FROM {table}" + unless.format(column="source"), keep)
    return forgotten


async def all_health(db: Database) -> list[SourceHealth]:
    rows = await db.fetchall(f"SELECT {_HEALTH_COLUMNS} FROM source_health ORDER BY name")
    return [_health(row) for row in rows]


async def health_of(db: Database, name: str) -> SourceHealth | None:
    row = await db.fetchone(f"SELECT {_HEALTH_COLUMNS} FROM source_health WHERE name = ?", (name,))
    return _health(row) if row is not None else None


async def health_behind(db: Database, service: str, region: str) -> list[SourceHealth]:
    """Health of every source covering this pair (directly or through a '*')."""
    rows = await db.fetchall(
        f"SELECT {_HEALTH_COLUMNS} FROM source_health WHERE name IN ("
        " SELECT source FROM source_targets"
        " WHERE (service = ? OR service = ?) AND (region = ? OR region = ?))"
        " ORDER BY name",
        (service, EVERY, region, EVERY),
    )
    return [_health(row) for row in rows]


async def targets_of(db: Database, name: str) -> list[Pair]:
    rows = await db.fetchall(
        "SELECT service, region FROM source_targets WHERE source = ? ORDER BY service, region",
        (name,),
    )
    return [(row["service"], row["region"]) for row in rows]


async def watched_pairs(db: Database) -> Watched:
    rows = await db.fetchall(
        "SELECT DISTINCT service, region FROM subscriptions"
        " UNION SELECT DISTINCT service, region FROM restrictions"
    )
    regions = await db.fetchall(
        "SELECT DISTINCT region FROM observations UNION SELECT DISTINCT region FROM restrictions"
        " UNION SELECT DISTINCT region FROM events UNION SELECT DISTINCT region FROM subscriptions"
    )
    return Watched(
        pairs=frozenset((row["service"], row["region"]) for row in rows),
        regions_on_record=frozenset(row["region"] for row in regions if row["region"] != EVERY),
    )

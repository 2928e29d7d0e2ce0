"""The latest structured readings of outside sources: connectivity signals and blocking shares.

Events carry what a source said onto the timeline as text; the card also needs the numbers
behind them (how far a signal dropped, how many measurements), and only the latest ones, so
each successful run replaces its source's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.database import Connection, Database
from storage.timecodec import from_epoch, to_epoch


@dataclass(frozen=True, slots=True)
class ConnectivityReading:
    """One connectivity signal in one region: its latest value against what is normal for it."""

    source: str
    region: str
    signal: str  # the source's own name for it: bgp, ping-slash24, merit-nt
    at: datetime  # time of the latest value
    current: float
    baseline: float
    drop_pct: float  # 0 when at or above normal
    outage_since: datetime | None = None  # the source's own ongoing outage event, if any
    region_name: str | None = None


@dataclass(frozen=True, slots=True)
class BlockingReading:
    """How often one domain of a service looked blocked in a region over a window of days."""

    source: str
    service: str
    region: str
    domain: str
    anomalies: int  # anomalous or confirmed blocked
    measurements: int  # completed measurements (failed ones left out)
    window_days: int
    window_end: datetime
    at: datetime  # when it was fetched

    @property
    def anomaly_pct(self) -> float:
        return 100.0 * self.anomalies / self.measurements if self.measurements else 0.0


async def replace_readings(
    connection: Connection,
    source: str,
    connectivity: Sequence[ConnectivityReading],
    blocking: Sequence[BlockingReading],
) -> None:
    """Replace every reading of `source` by this run's; runs inside the caller's transaction."""
    await connection.execute("DELETE FROM connectivity_readings WHERE source = ?", (source,))
    await connection.execute("DELETE FROM blocking_readings WHERE source = ?", (source,))
    await connection.executemany(
        "INSERT INTO connectivity_readings (source, region, signal, region_name, at, current,"
        " baseline, drop_pct, outage_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (source, region, signal) DO UPDATE SET at = excluded.at,"
        " current = excluded.current, baseline = excluded.baseline,"
        " drop_pct = excluded.drop_pct, outage_since = excluded.outage_since,"
        " region_name = excluded.region_name",
        [
            (
                source,
                row.region,
                row.signal,
                row.region_name,
                to_epoch(row.at),
                row.current,
                row.baseline,
                row.drop_pct,
                to_epoch(row.outage_since) if row.outage_since else None,
            )
            for row in connectivity
        ],
    )
    await connection.executemany(
        "INSERT INTO blocking_readings (source, service, region, domain, anomalies, measurements,"
        " window_days, window_end, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (source, service, region, domain) DO UPDATE SET"
        " anomalies = excluded.anomalies, measurements = excluded.measurements,"
        " window_days = excluded.window_days, window_end = excluded.window_end, at = excluded.at",
        [
            (
                source,
                row.service,
                row.region,
                row.domain,
                row.anomalies,
                row.measurements,
                row.window_days,
                to_epoch(row.window_end),
                to_epoch(row.at),
            )
            for row in blocking
        ],
    )


async def connectivity_in(db: Database, region: str) -> list[ConnectivityReading]:
    rows = await db.fetchall(
        "SELECT source, region, signal, region_name, at, current, baseline, drop_pct, outage_since"
        " FROM connectivity_readings WHERE region = ? ORDER BY source, signal",
        (region,),
    )
    return [
        ConnectivityReading(
            source=row["source"],
            region=row["region"],
            signal=row["signal"],
            at=from_epoch(row["at"]),
            current=row["current"],
            baseline=row["baseline"],
            drop_pct=row["drop_pct"],
            outage_since=from_epoch(row["outage_since"]) if row["outage_since"] else None,
            region_name=row["region_name"],
        )
        for row in rows
    ]


async def blocking_of(db: Database, service: str, region: str) -> list[BlockingReading]:
    rows = await db.fetchall(
        "SELECT source, service, region, domain, anomalies, measurements, window_days,"
        " window_end, at FROM blocking_readings WHERE service = ? AND region = ?"
        " ORDER BY source, domain",
        (service, region),
    )
    return [
        BlockingReading(
            source=row["source"],
            service=row["service"],
            region=row["region"],
            domain=row["domain"],
            anomalies=row["anomalies"],
            measurements=row["measurements"],
            window_days=row["window_days"],
            window_end=from_epoch(row["window_end"]),
            at=from_epoch(row["at"]),
        )
        for row in rows
    ]


async def count_readings(db: Database) -> int:
    return int(
        await db.scalar(
            "SELECT (SELECT COUNT(*) FROM connectivity_readings)"
            " + (SELECT COUNT(*) FROM blocking_readings)"
        )
    )

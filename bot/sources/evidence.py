"""What outside sources last said about one pair, read through storage (no SQL here).

    findings = await source_lines_for(db, "x", "PK")

bot.render.signals turns the findings into the card's lines.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.catalog import Catalog, default_catalog
from bot.core.findings import MIN_MEASUREMENTS, Blocking, FailingSource, SourceFindings
from bot.sources.ioda import connectivity_line
from storage.database import Database
from storage.source_health import health_behind
from storage.source_readings import BlockingReading, blocking_of, connectivity_in


async def source_lines_for(
    db: Database, service: str, region: str, *, catalog: Catalog | None = None
) -> SourceFindings:
    """What the outside sources last said about (service, region), and which are failing.

    `service` is a catalog key (`x`), `region` a code (`PK`, `global`). Cheap: three indexed
    reads, no network; a pair no source covers gives empty findings.
    """
    catalog = catalog or default_catalog()
    readings = await connectivity_in(db, region)
    blocking = strongest_evidence(await blocking_of(db, service, region))
    failing = [
        FailingSource(h.name, h.failing_since, h.last_error, h.last_success_at)
        for h in await health_behind(db, service, region)
        if h.failing
    ]
    try:
        english = catalog.region(region).name
    except KeyError:
        english = next((r.region_name for r in readings if r.region_name), region)
    return SourceFindings(
        region=region,
        region_name=english,
        connectivity=connectivity_line(readings),
        blocking=blocking,
        failing=failing,
    )


def strongest_evidence(
    readings: Sequence[BlockingReading], min_measurements: int = MIN_MEASUREMENTS
) -> Blocking | None:
    """Of a service's domains, the one that looks most blocked among those measured enough;
    if none was measured enough, the most measured one, marked as too thin to tell."""
    measured = [r for r in readings if r.measurements > 0]
    if not measured:
        return None
    enough = [r for r in measured if r.measurements >= min_measurements]
    pick = (
        max(enough, key=lambda r: (r.anomaly_pct, r.measurements))
        if enough
        else max(measured, key=lambda r: r.measurements)
    )
    return Blocking(
        domain=pick.domain,
        anomaly_pct=pick.anomaly_pct,
        measurements=pick.measurements,
        window_days=pick.window_days,
        source=pick.source,
        at=pick.at,
        enough=bool(enough),
    )

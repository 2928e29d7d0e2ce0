"""/incidents as text: pure, from stored incidents and `now`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.catalog import Catalog
from bot.render import LEVEL_BADGE, LEVEL_WORDS, esc, flag, render_overview
from bot.timefmt import clock_pair, duration_text
from storage.records import IncidentRecord


def incident_line(incident: IncidentRecord, catalog: Catalog, now: datetime) -> str:
    """As of `now`: an incident that ended later than `now` is shown as still going on."""
    service = catalog.service(incident.service)
    region = catalog.region(incident.region)
    tz = region.timezone
    ended = incident.resolved_at is not None and incident.resolved_at <= now
    level = incident.level if incident.level in LEVEL_BADGE else "elevated"
    start = clock_pair(incident.opened_at, tz, with_day=True)
    if ended and incident.resolved_at == incident.opened_at:
        span = f"{start}, a single reading"
        badge = "✅"
    elif ended:
        assert incident.resolved_at is not None
        span = (
            f"{start} → {clock_pair(incident.resolved_at, tz, with_day=True)}, "
            f"{duration_text(incident.resolved_at - incident.opened_at)}"
        )
        badge = "✅"
    else:
        span = f"since {start}, ongoing for {duration_text(now - incident.opened_at)}"
        badge = LEVEL_BADGE[level]  # type: ignore[index]
    peak = ""
    if incident.peak_at <= now:
        peak = f", peak {incident.peak_count:,} at {clock_pair(incident.peak_at, tz)}"
    return (
        f"{badge} {flag(region)} <b>{esc(service.name)} in {esc(region.name)}</b>: {span}"
        f"{peak} ({LEVEL_WORDS[level]})"
    )  # type: ignore[index]


def render_incidents(
    incidents: Sequence[IncidentRecord], catalog: Catalog, now: datetime, scope: str
) -> str:
    if not incidents:
        return (
            f"No incidents on record{esc(scope)}.\n"
            "Incidents are detected from report counts; see /status for what is on record."
        )
    header = f"<b>Recent incidents{esc(scope)}</b>, newest first"
    lines = [incident_line(incident, catalog, now) for incident in incidents]
    return render_overview(header, lines, "Details: /status &lt;service&gt; &lt;country&gt;")

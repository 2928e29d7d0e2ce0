"""/incidents as text: pure, from stored incidents and `now`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.catalog import Catalog, Region, Service
from bot.render.card import LEVEL_BADGE, flag, level_words, named, region_label, render_overview
from bot.render.i18n import N_, _, number
from bot.render.timefmt import clock_pair, duration_text
from storage.records import IncidentRecord

# Keyed by (a service was named, a region was named): a whole sentence each, for word order.
_TITLES = {
    (False, False): N_("Recent incidents"),
    (True, False): N_("Recent incidents for {service}"),
    (False, True): N_("Recent incidents in {region}"),
    (True, True): N_("Recent incidents for {service} in {region}"),
}
_NONE = {
    (False, False): N_("No incidents on record."),
    (True, False): N_("No incidents on record for {service}."),
    (False, True): N_("No incidents on record in {region}."),
    (True, True): N_("No incidents on record for {service} in {region}."),
}


def incident_line(incident: IncidentRecord, catalog: Catalog, now: datetime) -> str:
    """As of `now`: an incident that ended later than `now` is shown as still going on."""
    service = catalog.service(incident.service)
    region = catalog.region(incident.region)
    tz = region.timezone
    ended = incident.resolved_at is not None and incident.resolved_at <= now
    level = incident.level if incident.level in LEVEL_BADGE else "elevated"
    start = clock_pair(incident.opened_at, tz, with_day=True)
    if ended and incident.resolved_at == incident.opened_at:
        span = _("{start}, a single reading").format(start=start)
        badge = "✅"
    elif ended:
        assert incident.resolved_at is not None
        span = _("{start} → {end}, {duration}").format(
            start=start,
            end=clock_pair(incident.resolved_at, tz, with_day=True),
            duration=duration_text(incident.resolved_at - incident.opened_at),
        )
        badge = "✅"
    else:
        span = _("since {start}, ongoing for {duration}").format(
            start=start, duration=duration_text(now - incident.opened_at)
        )
        badge = LEVEL_BADGE[level]
    if incident.peak_at <= now:
        span = _("{span}, peak {count} at {time}").format(
            span=span, count=number(incident.peak_count), time=clock_pair(incident.peak_at, tz)
        )
    pair = _("{service} in {region}").format(
        service=named(service.name), region=region_label(region)
    )
    return f"{badge} {flag(region)} <b>{pair}</b>: {span} ({level_words(level)})"


def _scoped(
    texts: dict[tuple[bool, bool], str], service: Service | None, region: Region | None
) -> str:
    return _(texts[service is not None, region is not None]).format(
        service=named(service.name) if service else "",
        region=region_label(region) if region else "",
    )


def render_incidents(
    incidents: Sequence[IncidentRecord],
    catalog: Catalog,
    now: datetime,
    service: Service | None = None,
    region: Region | None = None,
) -> str:
    """Recent incidents, optionally of one service and/or in one region."""
    if not incidents:
        return (
            _scoped(_NONE, service, region)
            + "\n"
            + _("Incidents are detected from report counts; see /status for what is on record.")
        )
    title = _scoped(_TITLES, service, region)
    header = _("{title}, newest first").format(title=f"<b>{title}</b>")
    lines = [incident_line(incident, catalog, now) for incident in incidents]
    return render_overview(header, lines, _("Details: /status &lt;service&gt; &lt;country&gt;"))

"""Atlassian Statuspage v2: what a service officially says about itself.

`{url}/api/v2/summary.json` gives each component's current status and `{url}/api/v2/incidents.json`
the 50 most recent incidents with every update. Both are public and need no key. Fields as
documented at https://discordstatus.com/api/v2 (Discord's own Statuspage API page) and in the
OpenAPI file https://www.mongodb.com/docs/api/doc/cloud-status.yaml (MongoDB's Statuspage).

Everything lands as events on the service's `global` timeline, kind "statement", so a card shows
the company's word next to the counts and the observatories' measurements.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from bot.core.catalog import Catalog
from bot.sources.adapter import ConfigProblem, SourceConfig, SourceResult
from bot.sources.fetching import Fetcher, ShapeError
from bot.sources.options import EVERY, option_number
from storage.records import Dataset, Event
from storage.source_health import Pair, Watched

GLOBAL = "global"

COMPONENT_STATUS = {
    "operational": "operational",
    "degraded_performance": "degraded performance",
    "partial_outage": "partial outage",
    "major_outage": "major outage",
    "under_maintenance": "under maintenance",
}
# Incident update statuses, scheduled-maintenance ones included (they share the field).
UPDATE_STATUS = {
    "investigating": "investigating",
    "identified": "identified",
    "monitoring": "monitoring",
    "resolved": "resolved",
    "postmortem": "postmortem",
    "scheduled": "scheduled",
    "in_progress": "in progress",
    "verifying": "verifying",
    "completed": "completed",
}
IMPACT = {"none": "", "minor": "minor", "major": "major", "critical": "critical"}
BODY_LIMIT = 280


class StatuspageAdapter:
    kind: ClassVar[str] = "statuspage"
    default_url: ClassVar[str | None] = None  # every company has its own page
    option_names: ClassVar[frozenset[str]] = frozenset({"history_days"})

    def __init__(self, config: SourceConfig, catalog: Catalog) -> None:
        if not config.services or len(config.services) != 1:
            raise ConfigProblem('a status page speaks for one service: service = "discord"')
        if config.regions is not None:
            raise ConfigProblem("a status page covers its service everywhere; drop regions")
        self.config = config
        self.service = config.services[0]
        self.history = timedelta(
            days=option_number(config.options, "history_days", 14, minimum=1, maximum=365)
        )

    def targets(self, watched: Watched) -> list[Pair]:
        return [(self.service, EVERY)]

    async def collect(
        self, fetcher: Fetcher, targets: Sequence[Pair], now: datetime
    ) -> SourceResult:
        name = self.config.name
        events = await fetcher.get_parsed(
            f"{self.config.url}/api/v2/summary.json",
            None,
            lambda data: component_events(data, service=self.service, source=name),
        )
        events += await fetcher.get_parsed(
            f"{self.config.url}/api/v2/incidents.json",
            None,
            lambda data: incident_events(
                data, service=self.service, source=name, since=now - self.history
            ),
        )
        return SourceResult(Dataset(events=tuple(dict.fromkeys(events))))


# ------------------------------------------------------------------------ pure parsing


def component_events(data: Any, *, service: str, source: str) -> list[Event]:
    """Every component not operational now, as the page states it, dated when it changed."""
    page = _object(data, "summary")
    components = _list(page, "components")
    page_url = _page_url(page)
    events = []
    for item in components:
        component = _object(item, "component")
        status = _text(component, "status")
        if status == "operational":
            continue
        label = COMPONENT_STATUS.get(status, status.replace("_", " "))
        name = _text(component, "name")
        events.append(
            Event(
                service=service,
                region=GLOBAL,
                at=_time(component, "updated_at"),
                kind="statement",
                text=f"Official: {_clean(name)} — {label}",
                source=source,
                url=page_url,
            )
        )
    return events


def incident_events(data: Any, *, service: str, source: str, since: datetime) -> list[Event]:
    """Each update of each incident touched since `since`: "Official: <name> — <status>: <body>"."""
    page = _object(data, "incidents")
    events = []
    for item in _list(page, "incidents"):
        incident = _object(item, "incident")
        name = _clean(_text(incident, "name"))
        impact = IMPACT.get(str(incident.get("impact") or "none"), "")
        url = incident.get("shortlink") if isinstance(incident.get("shortlink"), str) else None
        if _time(incident, "updated_at") < since:
            continue
        title = f"{name} ({impact} impact)" if impact else name
        for entry in _list(incident, "incident_updates"):
            update = _object(entry, "incident update")
            at = _optional_time(update, "display_at") or _time(update, "created_at")
            status = _text(update, "status")
            label = UPDATE_STATUS.get(status, status.replace("_", " "))
            body = _shorten(_clean(str(update.get("body") or "")))
            text = f"Official: {title} — {label}" + (f": {body}" if body else "")
            events.append(
                Event(
                    service=service,
                    region=GLOBAL,
                    at=at,
                    kind="statement",
                    text=text,
                    source=source,
                    url=url or _page_url(page),
                )
            )
    return events


def _page_url(page: dict[str, Any]) -> str | None:
    info = page.get("page")
    if isinstance(info, dict) and isinstance(info.get("url"), str):
        return info["url"]
    return None


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ShapeError(f"{what} is not an object")
    return value


def _list(value: dict[str, Any], key: str) -> list[Any]:
    found = value.get(key)
    if not isinstance(found, list):
        raise ShapeError(f"{key} is missing or not a list")
    return found


def _text(value: dict[str, Any], key: str) -> str:
    found = value.get(key)
    if not isinstance(found, str) or not found.strip():
        raise ShapeError(f"{key} is missing or not text")
    return found


def _time(value: dict[str, Any], key: str) -> datetime:
    at = _optional_time(value, key)
    if at is None:
        raise ShapeError(f"{key} is missing")
    return at


def _optional_time(value: dict[str, Any], key: str) -> datetime | None:
    found = value.get(key)
    if found is None:
        return None
    if not isinstance(found, str):
        raise ShapeError(f"{key} is not a time")
    try:
        at = datetime.fromisoformat(found.replace("Z", "+00:00"))
    except ValueError:
        raise ShapeError(f"{key} is not an ISO 8601 time: {found[:40]!r}") from None
    if at.tzinfo is None:
        raise ShapeError(f"{key} has no UTC offset: {found[:40]!r}")
    return at.astimezone(UTC)


def _clean(text: str) -> str:
    return " ".join(text.split())


def _shorten(text: str, limit: int = BODY_LIMIT) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.") + "…"

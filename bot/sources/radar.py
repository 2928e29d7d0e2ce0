"""Cloudflare Radar's outage annotations: which countries lost their internet, and why.

Radar's team annotates outages they verified by hand, each with a type (nationwide, regional,
a network, a platform), a likely cause (government directed, power outage, cable cut, …) and
a link to where it was reported. One endpoint of the Cloudflare API v4 (base
`https://api.cloudflare.com/client/v4`), which needs an API token (`Authorization: Bearer …`):

- `/radar/annotations/outages?location=PK&dateRange=28d&limit=100&format=json`
  ("Get latest Internet outages and anomalies", operation `radar-get-annotations-outages`):
  `{"success": true, "errors": [], "result": {"annotations": [...]}}`, each annotation with
  `id`, `dataSource`, `description`, `scope`, `startDate`, `endDate` (null while ongoing),
  `locations` (ISO alpha-2 codes), `asns`, `eventType` ("OUTAGE"), `linkedUrl`, `asnsDetails`,
  `locationsDetails` and `outage: {outageCause, outageType}`.

Fields as in Cloudflare's API reference (developers.cloudflare.com/api/operations/
radar-get-annotations-outages), its Radar outages page (developers.cloudflare.com/radar/
investigate/outages/) and the SDKs generated from its OpenAPI schema (cloudflare-python
`types/radar/annotations/outage_get_response.py`, `outage_get_params.py`; cloudflare-typescript
`resources/radar/annotations/outages.ts`). Causes and types: tests/fixtures/sources/README.md.

Every outage is a timeline event on the country's `internet`, unless it names a service: an
outage of type PLATFORM (scope "X (Twitter)") is the service's, resolved through the catalog, or
kept under the scope as given when the catalog does not know it; a scope of any other type that
names a catalog service is read the same way. Only a government-directed outage also becomes a
restriction: a shutdown of the internet, or a block of the service it names (never a shutdown:
a blocked platform with working internet is the very distinction the card exists to make).
Radar names the cause, never who ordered it or on what grounds, so those say "Not stated"
rather than guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, ClassVar

from pydantic import SecretStr

from bot.config.settings import ENV_PREFIX, SettingsError, load_settings
from bot.core.catalog import Catalog
from bot.sources.adapter import SourceConfig, SourceResult
from bot.sources.fetching import Fetcher, ShapeError, SourceError
from bot.sources.options import EVERY, capped, option_number, watched_regions
from storage.records import Dataset, Event, PartialDate, Restriction, TimelineStep
from storage.source_health import Pair, Watched

INTERNET = "internet"
DEFAULT_URL = "https://api.cloudflare.com/client/v4"
OUTAGES_PATH = "/radar/annotations/outages"
TOKEN_VARIABLE = f"{ENV_PREFIX}CLOUDFLARE_TOKEN"
NO_TOKEN = "no token configured"
NO_TOKEN_DETAIL = f"set {TOKEN_VARIABLE} to a Cloudflare API token that can read Radar"

GOVERNMENT_DIRECTED = "GOVERNMENT_DIRECTED"
PLATFORM = "PLATFORM"
# A scope names a service in its own words and often with a former name: "X (Twitter)",
# "Facebook/Instagram". Each part is looked up on its own.
SCOPE_PARTS = re.compile(r"[()/,;]|\s+(?:and|&)\s+")
AUTHORITY = "Not stated (Cloudflare Radar: government directed)"
GROUNDS = "Not stated"

# outage.outageType: how broad it was. Values as Radar's API filters list them.
OUTAGE_TYPES = {
    "NATIONWIDE": "nationwide",
    "REGIONAL": "regional",
    "NETWORK": "network",
    "PLATFORM": "platform",
}
# outage.outageCause, in words; a cause added later reads as its own name, lower-cased.
OUTAGE_CAUSES = {
    "GOVERNMENT_DIRECTED": "government directed",
    "POWER_OUTAGE": "power outage",
    "CABLE_CUT": "cable cut",
    "TECHNICAL_PROBLEM": "technical problem",
    "MILITARY_ACTION": "military action",
    "NATURAL_DISASTER": "natural disaster",
    "CYBERATTACK": "cyberattack",
    "NETWORK_PROBLEM": "network problem",
    "DNS": "DNS",
    "UNKNOWN": "cause unknown",
}

# A shutdown that began before the window and ended inside it is only seen ending if the
# window reaches back to its start, so the default is generous (Radar allows up to 364 days).
WINDOW_DAYS = 28
LIMIT = 100

TokenReader = Callable[[], SecretStr | None]


def token_from_settings() -> SecretStr | None:
    """OUTAGEBOT_CLOUDFLARE_TOKEN, read the way the bot reads every setting (environment, then
    .env). Read per run, not at start: a sources file is checked without it."""
    try:
        token = load_settings().cloudflare_token
    except SettingsError as error:  # names the variables, never their values
        raise SourceError("settings not usable", str(error)) from None
    if token is None or not token.get_secret_value().strip():
        return None
    return token


class CloudflareRadarAdapter:
    kind: ClassVar[str] = "cloudflare_radar"
    default_url: ClassVar[str | None] = DEFAULT_URL
    option_names: ClassVar[frozenset[str]] = frozenset({"window_days", "limit"})

    def __init__(
        self, config: SourceConfig, catalog: Catalog, *, token: TokenReader = token_from_settings
    ) -> None:
        self.config = config
        self.catalog = catalog
        self._token = token
        self.window_days = int(
            option_number(config.options, "window_days", WINDOW_DAYS, minimum=1, maximum=364)
        )
        self.limit = int(option_number(config.options, "limit", LIMIT, minimum=1, maximum=1000))

    def targets(self, watched: Watched) -> list[Pair]:
        """Countries, each for every service there; none without a token, so that cards do
        not warn about a source that was never meant to run."""
        try:
            if self._token() is None:
                return []
        except SourceError:  # collect() says why; choosing targets must not fail
            return []
        regions = set(self.config.regions) if self.config.regions else watched_regions(watched)
        countries = {r for r in regions if len(r) == 2}  # Radar's locations are countries
        return capped([(EVERY, region) for region in countries], self.config.max_targets)

    async def collect(
        self, fetcher: Fetcher, targets: Sequence[Pair], now: datetime
    ) -> SourceResult:
        token = self._token()
        if token is None:
            raise SourceError(NO_TOKEN, NO_TOKEN_DETAIL)
        headers = {"Authorization": f"Bearer {token.get_secret_value().strip()}"}
        annotations: list[Annotation] = []
        for _, region in targets:
            annotations += await fetcher.get_parsed(
                f"{self.config.url}{OUTAGES_PATH}",
                {
                    "location": region,
                    "dateRange": f"{self.window_days}d",
                    "limit": self.limit,
                    "format": "json",  # as Radar's docs write it; the schema's enum says JSON
                },
                partial(outage_annotations, catalog=self.catalog),
                headers=headers,
            )
        regions = {region for _, region in targets}
        events, restrictions = outage_records(annotations, regions, source=self.config.name)
        return SourceResult(Dataset(events=tuple(events), restrictions=tuple(restrictions)))


# ------------------------------------------------------------------------ pure parsing


@dataclass(frozen=True, slots=True)
class Annotation:
    """One of Radar's outage annotations, its locations resolved to the catalog's regions."""

    id: str
    regions: tuple[str, ...]  # catalog codes; locations the catalog does not know are left out
    start: datetime
    end: datetime | None
    outage_type: str  # NATIONWIDE, REGIONAL, NETWORK, PLATFORM
    cause: str  # GOVERNMENT_DIRECTED, POWER_OUTAGE, …
    scope: str | None  # "Balochistan", "Digicel Haiti", "Multiple regions/cities"
    description: str | None
    url: str | None
    # What went down: `internet`, a catalog service the scope names, or a PLATFORM's scope as
    # given when the catalog does not know it.
    service: str = INTERNET

    @property
    def government_directed(self) -> bool:
        return self.cause == GOVERNMENT_DIRECTED


def outage_annotations(data: Any, *, catalog: Catalog) -> list[Annotation]:
    """The annotations of one answer, oldest first; anything but an outage is left out."""
    if not isinstance(data, dict):
        raise ShapeError("Radar answer is not an object")
    if data.get("success") is False:
        errors = data.get("errors") or []
        first = errors[0] if isinstance(errors, list) and errors else {}
        message = first.get("message") if isinstance(first, dict) else None
        raise ShapeError(f"Cloudflare said: {str(message or errors)[:120]}")
    result = data.get("result")
    if not isinstance(result, dict) or not isinstance(result.get("annotations"), list):
        raise ShapeError("result.annotations is missing or not a list")
    found = []
    for item in result["annotations"]:
        if not isinstance(item, dict):
            raise ShapeError("an annotation is not an object")
        if _optional_text(item, "eventType") not in (None, "OUTAGE"):
            continue
        found.append(_annotation(item, catalog))
    return sorted(found, key=lambda a: (a.start, a.id))


def _annotation(item: dict[str, Any], catalog: Catalog) -> Annotation:
    ident = item.get("id")
    if not isinstance(ident, str | int) or isinstance(ident, bool):
        raise ShapeError("an annotation has no id")
    locations = item.get("locations")
    if not isinstance(locations, list) or not all(isinstance(c, str) for c in locations):
        raise ShapeError(f"annotation {ident}: locations is not a list of codes")
    asns = item.get("asns", [])
    if not isinstance(asns, list) or not all(
        isinstance(a, int) and not isinstance(a, bool) for a in asns
    ):
        raise ShapeError(f"annotation {ident}: asns is not a list of numbers")
    _optional_text(item, "dataSource")
    outage = item.get("outage")
    if not isinstance(outage, dict):
        raise ShapeError(f"annotation {ident}: outage is missing")
    outage_type = _optional_text(outage, "outageType")
    cause = _optional_text(outage, "outageCause")
    if outage_type is None or cause is None:
        raise ShapeError(f"annotation {ident}: outage has no outageType or outageCause")
    start = _time(item, "startDate", ident)
    if start is None:
        raise ShapeError(f"annotation {ident}: startDate is missing")
    scope = _clean(_optional_text(item, "scope"))
    return Annotation(
        service=affected_service(outage_type.upper(), scope, catalog),
        id=str(ident),
        regions=tuple(dict.fromkeys(_regions(locations, catalog))),
        start=start,
        end=_time(item, "endDate", ident),
        outage_type=outage_type.upper(),
        cause=cause.upper(),
        scope=scope,
        description=_clean(_optional_text(item, "description")),
        url=_clean(_optional_text(item, "linkedUrl")),
    )


def service_named_in(scope: str | None, catalog: Catalog) -> str | None:
    """The catalog service a scope names, whole or by one of its parts; None if it names none."""
    if not scope:
        return None
    for part in (scope, *SCOPE_PARTS.split(scope)):
        service = catalog.find_service(part.strip()) if part.strip() else None
        if service is not None and service.key != INTERNET:
            return service.key
    return None


def affected_service(outage_type: str, scope: str | None, catalog: Catalog) -> str:
    """`internet`, or the service an outage was of: a platform's is one even when the catalog
    does not know its name (kept as Radar wrote it), any other type's only when it names one."""
    named = service_named_in(scope, catalog)
    if named is not None:
        return named
    if outage_type == PLATFORM and scope:
        return scope
    return INTERNET


def _regions(locations: Iterable[str], catalog: Catalog) -> Iterable[str]:
    for code in locations:
        code = code.strip().upper()
        if len(code) != 2:  # an alpha-2 code, not a name that happens to match one
            continue
        region = catalog.find_region(code)
        if region is not None and region.code == code:
            yield region.code


def _optional_text(value: dict[str, Any], key: str) -> str | None:
    found = value.get(key)
    if found is None:
        return None
    if not isinstance(found, str):
        raise ShapeError(f"{key} is not text")
    return found


def _time(value: dict[str, Any], key: str, ident: object) -> datetime | None:
    found = _optional_text(value, key)
    if found is None or not found.strip():
        return None
    try:
        at = datetime.fromisoformat(found.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ShapeError(f"annotation {ident}: {key} is not a time: {found[:40]!r}") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _clean(text: str | None) -> str | None:
    cleaned = " ".join(text.split()) if text else ""
    return cleaned or None


def _day(at: datetime) -> PartialDate:
    return PartialDate(at.year, at.month, at.day)


def outage_text(annotation: Annotation) -> str:
    """`Cloudflare Radar: nationwide outage (government directed), 2024-02-08 to 2024-02-09`.

    UTC dates; an outage still going on says `since`, one that ended the day it began gives
    that day once.
    """
    breadth = OUTAGE_TYPES.get(annotation.outage_type, annotation.outage_type.lower())
    cause = OUTAGE_CAUSES.get(annotation.cause, annotation.cause.lower().replace("_", " "))
    where = f" in {annotation.scope}" if annotation.scope else ""
    start = annotation.start.date()
    return f"Cloudflare Radar: {breadth} outage{where} ({cause}), {_span(start, annotation.end)}"


def _span(start: date, end: datetime | None) -> str:
    if end is None:
        return f"since {start.isoformat()}"
    if end.date() == start:
        return start.isoformat()
    return f"{start.isoformat()} to {end.date().isoformat()}"


def outage_records(
    annotations: Sequence[Annotation], regions: set[str], *, source: str
) -> tuple[list[Event], list[Restriction]]:
    """Events for every outage in `regions`; restrictions for the government-directed ones.

    Government-directed outages of one service (or of the internet) in one country that began
    the same UTC day become one restriction (the restrictions table knows one by its start
    day): still active if any of them is, else lifted on the last end day.
    """
    events: list[Event] = []
    shutdowns: dict[tuple[str, str, PartialDate], list[Annotation]] = {}
    for annotation in annotations:
        for region in annotation.regions:
            if region not in regions:
                continue
            events.append(
                Event(
                    service=annotation.service,
                    region=region,
                    at=annotation.start,
                    kind="report",
                    text=outage_text(annotation),
                    source=source,
                    url=annotation.url,
                )
            )
            if annotation.government_directed:
                key = (annotation.service, region, _day(annotation.start))
                shutdowns.setdefault(key, []).append(annotation)
    restrictions = [
        _restriction(service, region, start, found, source=source)
        for (service, region, start), found in sorted(
            shutdowns.items(), key=lambda kv: (kv[0][1], kv[0][0], kv[0][2])
        )
    ]
    return list(dict.fromkeys(events)), restrictions


def _restriction(
    service: str,
    region: str,
    start: PartialDate,
    annotations: Sequence[Annotation],
    *,
    source: str,
) -> Restriction:
    ongoing = any(a.end is None for a in annotations)
    end = None if ongoing else max(_day(a.end) for a in annotations if a.end is not None)
    steps: list[TimelineStep] = []
    for a in annotations:
        breadth = OUTAGE_TYPES.get(a.outage_type, a.outage_type.lower())
        where = f" in {a.scope}" if a.scope else ""
        said = f": {a.description}" if a.description else ""
        steps.append(
            TimelineStep(
                on=_day(a.start),
                text=f"Cloudflare Radar: government-directed {breadth} outage{where} began{said}",
                source=source,
                url=a.url,
            )
        )
        if a.end is not None:
            steps.append(
                TimelineStep(
                    on=_day(a.end),
                    text=f"Cloudflare Radar: {breadth} outage{where} ended",
                    source=source,
                    url=a.url,
                )
            )
    # How far it reached, as the card's "Note:" line: a regional shutdown is still one in
    # the country (as STOP records them), but the card must not let it read as nationwide.
    reach = dict.fromkeys(
        OUTAGE_TYPES.get(a.outage_type, a.outage_type.lower())
        + (f" ({a.scope})" if a.scope else "")
        for a in annotations
    )
    return Restriction(
        service=service,
        region=region,
        kind="shutdown" if service == INTERNET else "block",
        status="active" if ongoing else "lifted",
        start=start,
        end=end,
        authority=AUTHORITY,
        grounds=GROUNDS,
        timeline=tuple(dict.fromkeys(sorted(steps, key=lambda s: s.on))),
        sources=(source,),
        note=f"Cloudflare Radar: {'; '.join(reach)}",
    )

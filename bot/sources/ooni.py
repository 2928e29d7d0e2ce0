"""OONI (Open Observatory of Network Interference): is a service blocked in a country?

Two public endpoints of `https://api.ooni.io`, fields as in OONI's source, github.com/ooni/backend:

- `/api/v1/aggregation?probe_cc=PK&domain=twitter.com&test_name=web_connectivity&since=…&until=…`
  (ooniapi/services/oonimeasurements/…/routers/v1/aggregation.py, and api/ooniapi/aggregation.py
  before it): with no axis, `result` is one object of counters: `anomaly_count` (anomalous, not
  confirmed, not failed), `confirmed_count` (confirmed blocked), `failure_count` (the
  measurement itself failed), `ok_count`, `measurement_count` (all of them); beside it `v`,
  `dimension_count` and `db_stats`. `since`/`until` are dates; `until` is exclusive.
- `/api/v1/incidents/search?country_code=PK` (ooniapi/services/oonifindings/…/routers/v1.py):
  published OONI Findings, `{"incidents": [...]}` with `id`, `title`, `short_description`,
  `start_time`, `end_time`, `CCs`, `ASNs`, `domains`, `links`, `published`, `event_type`, …
  (older servers ignore `country_code`, so countries are filtered here too).

The share reported is (anomalous + confirmed) / (measurements that did not fail): a failed
measurement says nothing either way about blocking.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any, ClassVar

from bot.core.catalog import Catalog
from bot.core.findings import BLOCKED_PCT, MIN_MEASUREMENTS
from bot.sources.adapter import ConfigProblem, SourceConfig, SourceResult
from bot.sources.fetching import Fetcher, ShapeError
from bot.sources.options import capped, chosen_pairs, option_flag, option_number
from storage.records import Dataset, Event
from storage.source_health import Pair, Watched
from storage.source_readings import BlockingReading

DEFAULT_URL = "https://api.ooni.io"
# The test that checks whether websites are reachable; its anomalies are what blocking looks like.
TEST_NAME = "web_connectivity"


class OoniAdapter:
    kind: ClassVar[str] = "ooni"
    default_url: ClassVar[str | None] = DEFAULT_URL
    option_names: ClassVar[frozenset[str]] = frozenset(
        {"window_days", "findings", "min_measurements", "blocked_pct"}
    )

    def __init__(self, config: SourceConfig, catalog: Catalog) -> None:
        self.config = config
        self.catalog = catalog
        self.window_days = int(
            option_number(config.options, "window_days", 7, minimum=1, maximum=30)
        )
        self.findings = option_flag(config.options, "findings", True)
        self.min_measurements = int(
            option_number(config.options, "min_measurements", MIN_MEASUREMENTS, minimum=1)
        )
        self.blocked_pct = option_number(
            config.options, "blocked_pct", BLOCKED_PCT, minimum=1, maximum=100
        )
        for key in config.services or ():
            if not catalog.service(key).domains:
                raise ConfigProblem(f"service {key!r} has no domains for OONI to measure")

    def targets(self, watched: Watched) -> list[Pair]:
        pairs = chosen_pairs(self.config, watched, self.catalog)
        useful = {
            (service, region)
            for service, region in pairs
            if len(region) == 2 and self._domains(service)
        }
        return capped(useful, self.config.max_targets)

    def _domains(self, service: str) -> tuple[str, ...]:
        try:
            return self.catalog.service(service).domains
        except KeyError:
            return ()

    async def collect(
        self, fetcher: Fetcher, targets: Sequence[Pair], now: datetime
    ) -> SourceResult:
        until = now.astimezone(UTC).date()  # whole UTC days: today's partial day left out
        since = until - timedelta(days=self.window_days)
        events: list[Event] = []
        readings: list[BlockingReading] = []
        for service, region in targets:
            for domain in self._domains(service):
                reading = await fetcher.get_parsed(
                    f"{self.config.url}/api/v1/aggregation",
                    {
                        "probe_cc": region,
                        "domain": domain,
                        "test_name": TEST_NAME,
                        "since": since.isoformat(),
                        "until": until.isoformat(),
                    },
                    partial(
                        blocking_reading,
                        service=service,
                        region=region,
                        domain=domain,
                        window_end=until,
                        window_days=self.window_days,
                        source=self.config.name,
                        now=now,
                    ),
                )
                readings.append(reading)
                event = blocking_event(
                    reading, min_measurements=self.min_measurements, blocked_pct=self.blocked_pct
                )
                if event is not None:
                    events.append(event)
        if self.findings:
            for region in sorted({region for _, region in targets}):
                wanted = [(s, self._domains(s)) for s, r in targets if r == region]
                events += await fetcher.get_parsed(
                    f"{self.config.url}/api/v1/incidents/search",
                    {"country_code": region},
                    partial(
                        finding_events, region=region, services=wanted, source=self.config.name
                    ),
                )
        return SourceResult(Dataset(events=tuple(dict.fromkeys(events))), blocking=tuple(readings))


# ------------------------------------------------------------------------ pure parsing


def _count(result: dict[str, Any], key: str) -> int:
    value = result.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ShapeError(f"{key} is missing or not a count")
    return value


def blocking_reading(
    data: Any,
    *,
    service: str,
    region: str,
    domain: str,
    window_end: date,
    window_days: int,
    source: str,
    now: datetime,
) -> BlockingReading:
    """An aggregation answer without axes, as a reading."""
    if not isinstance(data, dict):
        raise ShapeError("aggregation is not an object")
    if "error" in data and "result" not in data:
        raise ShapeError(f"OONI said: {str(data['error'])[:120]}")
    result = data.get("result")
    if not isinstance(result, dict):
        raise ShapeError("aggregation result is not one object (was an axis set?)")
    anomalies = _count(result, "anomaly_count") + _count(result, "confirmed_count")
    completed = _count(result, "measurement_count") - _count(result, "failure_count")
    if completed < 0 or anomalies > completed:
        raise ShapeError("aggregation counts do not add up")
    return BlockingReading(
        source=source,
        service=service,
        region=region,
        domain=domain,
        anomalies=anomalies,
        measurements=completed,
        window_days=window_days,
        window_end=datetime.combine(window_end, time(), UTC),
        at=now,
    )


def blocking_event(
    reading: BlockingReading, *, min_measurements: int, blocked_pct: float
) -> Event | None:
    """Evidence of blocking on the pair's timeline, dated when its window closed.

    The window is whole UTC days, so every run of one day states the same numbers and the
    import adds the event once; the next day's window is a new statement.
    """
    if reading.measurements < min_measurements or reading.anomaly_pct < blocked_pct:
        return None
    days = reading.window_days
    window = "last day" if days == 1 else f"last {days} days"
    return Event(
        service=reading.service,
        region=reading.region,
        at=reading.window_end,
        kind="report",
        text=(
            f"OONI: {reading.domain} anomalous in {reading.anomaly_pct:.0f}% of "
            f"{reading.measurements:,} measurements in {reading.region}, {window}"
        ),
        source=reading.source,
        url=None,
    )


def _matches(domain: str, wanted: Sequence[str]) -> bool:
    domain = domain.lower().strip().rstrip(".")
    return any(domain == w or domain.endswith("." + w) for w in wanted)


def _instant(text: str) -> datetime:
    """OONI's FastAPI services write ISO 8601 with Z; the older Flask API wrote RFC 1123
    dates (Flask's JSON default) and naive times, which are UTC."""
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            at = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise ShapeError(f"start_time is not a time: {text[:40]!r}") from None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def finding_events(
    data: Any, *, region: str, services: Sequence[tuple[str, Sequence[str]]], source: str
) -> list[Event]:
    """Published OONI Findings about this country that name one of a service's domains.

    Findings that name no domain (a whole-network shutdown report, say) are left out rather
    than guessed onto a service.
    """
    if not isinstance(data, dict) or not isinstance(data.get("incidents"), list):
        raise ShapeError("incidents is missing or not a list")
    events = []
    for item in data["incidents"]:
        if not isinstance(item, dict):
            raise ShapeError("an incident is not an object")
        if item.get("published") is False:
            continue
        countries = item.get("CCs") or []
        domains = item.get("domains") or []
        if not isinstance(countries, list) or not isinstance(domains, list):
            raise ShapeError("an incident's CCs or domains are not lists")
        if region.upper() not in {str(c).upper() for c in countries}:
            continue
        title = item.get("title")
        start = item.get("start_time")
        if not isinstance(title, str) or not isinstance(start, str):
            raise ShapeError("an incident has no title or start_time")
        at = _instant(start)
        links = [link for link in item.get("links") or [] if isinstance(link, str)]
        for service, wanted in services:
            if any(isinstance(d, str) and _matches(d, wanted) for d in domains):
                events.append(
                    Event(
                        service=service,
                        region=region,
                        at=at,
                        kind="statement",
                        text=f"OONI finding: {' '.join(title.split())}",
                        source=source,
                        url=links[0] if links else None,
                    )
                )
    return events

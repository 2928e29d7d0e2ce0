"""IODA (Internet Outage Detection and Analysis, Georgia Tech): is a country's internet down?

Two public endpoints of the v2 API (base `https://api.ioda.inetintel.cc.gatech.edu/v2`), with
fields as in the API's own source, github.com/InetIntel/ioda-api:

- `/outages/events?entityType=country&entityCode=PK&from=…&until=…` (OutagesController::events):
  IODA's own outage events in the default "codf" format (OutagesEventNormalizer): `location`
  ("country/PK"), `location_name`, `start` and `duration` in seconds, `datasource`, `method`,
  `score`, `overlaps_window`, inside the Envelope (`type`, `metadata`, `requestParameters`,
  `error`, `perf`, `data`, `copyright`).
- `/signals/raw/country/PK?from=…&until=…&datasource=bgp` (SignalsController::lookup): `data` is
  a list (one per entity) of lists of series (TimeSeriesNormalizer): `entityType`, `entityCode`,
  `entityName`, `datasource`, `subtype`, `from`, `until`, `step`, `nativeStep`, `values` (null
  where nothing was measured).

Signals (DatasourceService): `bgp` counts /24 networks visible in BGP, `ping-slash24` those
answering active probes, `merit-nt` hosts seen by the Merit network telescope.

A connectivity drop stays an event on the `internet` pseudo-service plus a reading for the
card; it never becomes a restriction: a drop says the network is down, not who did it.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ClassVar

from bot.core.catalog import Catalog
from bot.core.findings import SIGNAL_ORDER, SIGNALS, Connectivity, signal_label
from bot.sources.adapter import SourceConfig, SourceResult
from bot.sources.fetching import Fetcher, ShapeError
from bot.sources.options import EVERY, capped, option_choices, option_number, watched_regions
from storage.records import Dataset, Event
from storage.source_health import Pair, Watched
from storage.source_readings import ConnectivityReading

INTERNET = "internet"
DEFAULT_URL = "https://api.ioda.inetintel.cc.gatech.edu/v2"
DASHBOARD = "https://ioda.inetintel.cc.gatech.edu"


# Below this a dip is ordinary noise (active probing swings with the time of day); above it the
# card says "dropped". IODA's own events also count, whatever our estimate of the drop.
DROP_THRESHOLD = 10.0

RECENT = timedelta(hours=1)  # the latest values, kept out of "normal"
BEFORE_EVENT = timedelta(hours=6)  # what an event's start is compared with
EVENT_ONSET = timedelta(hours=1)  # the deepest point of an event's first hour


class IodaAdapter:
    kind: ClassVar[str] = "ioda"
    default_url: ClassVar[str | None] = DEFAULT_URL
    option_names: ClassVar[frozenset[str]] = frozenset({"signals", "window_hours", "dashboard"})

    def __init__(self, config: SourceConfig, catalog: Catalog) -> None:
        self.config = config
        self.signals = option_choices(
            config.options, "signals", ("bgp", "ping-slash24", "merit-nt"), tuple(SIGNALS)
        )
        self.window = timedelta(
            hours=option_number(config.options, "window_hours", 24, minimum=3, maximum=168)
        )
        dashboard = config.options.get("dashboard", DASHBOARD)
        self.dashboard = str(dashboard).rstrip("/")

    def targets(self, watched: Watched) -> list[Pair]:
        regions = set(self.config.regions) if self.config.regions else watched_regions(watched)
        countries = {r for r in regions if len(r) == 2}  # IODA knows countries, not `global`
        return capped([(EVERY, region) for region in countries], self.config.max_targets)

    async def collect(
        self, fetcher: Fetcher, targets: Sequence[Pair], now: datetime
    ) -> SourceResult:
        events: list[Event] = []
        readings: list[ConnectivityReading] = []
        for _, region in targets:
            found, read = await self._region(fetcher, region, now)
            events += found
            readings += read
        return SourceResult(
            Dataset(events=tuple(dict.fromkeys(events))), connectivity=tuple(readings)
        )

    async def _region(
        self, fetcher: Fetcher, region: str, now: datetime
    ) -> tuple[list[Event], list[ConnectivityReading]]:
        start = now - self.window
        window = {"from": int(start.timestamp()), "until": int(now.timestamp())}
        found_events = await fetcher.get_parsed(
            f"{self.config.url}/outages/events",
            {"entityType": "country", "entityCode": region, **window},
            lambda data: outage_events(data, region),
        )
        outages = [o for o in found_events if o.signal in self.signals]
        # Reach back before the oldest outage, so its start can be compared with normal.
        earliest = min([start, *(o.start - BEFORE_EVENT for o in outages)])
        earliest = max(earliest, now - timedelta(days=7))
        series: dict[str, Series] = {}
        for signal in self.signals:
            found = await fetcher.get_parsed(
                f"{self.config.url}/signals/raw/country/{region}",
                {
                    "from": int(earliest.timestamp()),
                    "until": int(now.timestamp()),
                    "datasource": signal,
                },
                partial(signal_series, region=region, signal=signal),
            )
            if found is not None:
                series[signal] = found
        url = f"{self.dashboard}/country/{region}"
        records = outage_records(outages, series, source=self.config.name, url=url)
        readings = [
            reading
            for s in series.values()
            if (reading := signal_reading(s, outages, source=self.config.name)) is not None
        ]
        return records, readings


# ------------------------------------------------------------------------ pure parsing


@dataclass(frozen=True, slots=True)
class OutageEvent:
    """One of IODA's own outage events for a country and one signal."""

    region: str
    signal: str
    start: datetime
    end: datetime
    score: float
    location_name: str | None


@dataclass(frozen=True, slots=True)
class Series:
    region: str
    signal: str
    start: datetime
    step: int
    values: tuple[float | None, ...]
    region_name: str | None

    def points(self) -> list[tuple[datetime, float]]:
        return [
            (self.start + timedelta(seconds=self.step * index), value)
            for index, value in enumerate(self.values)
            if value is not None
        ]


def _envelope(data: Any) -> Any:
    if not isinstance(data, dict):
        raise ShapeError("IODA envelope is not an object")
    if data.get("error"):
        raise ShapeError(f"IODA said: {str(data['error'])[:120]}")
    if "data" not in data:
        raise ShapeError("IODA envelope has no data")
    return data["data"]


def _number(item: dict[str, Any], key: str) -> float:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ShapeError(f"{key} is missing or not a number")
    return float(value)


def outage_events(data: Any, region: str) -> list[OutageEvent]:
    """IODA's outage events (codf format) for `region`; other locations are left out."""
    items = _envelope(data)
    if not isinstance(items, list):
        raise ShapeError("outage events are not a list")
    found = []
    for item in items:
        if not isinstance(item, dict):
            raise ShapeError("an outage event is not an object")
        location = item.get("location")
        if not isinstance(location, str):
            raise ShapeError("an outage event has no location")
        if location.lower() != f"country/{region}".lower():
            continue
        signal = item.get("datasource")
        if not isinstance(signal, str):
            raise ShapeError("an outage event has no datasource")
        start = datetime.fromtimestamp(_number(item, "start"), UTC)
        duration = _number(item, "duration")
        name = item.get("location_name")
        found.append(
            OutageEvent(
                region=region,
                signal=signal,
                start=start,
                end=start + timedelta(seconds=max(duration, 0)),
                score=_number(item, "score"),
                location_name=name if isinstance(name, str) else None,
            )
        )
    return found


def signal_series(data: Any, region: str, signal: str) -> Series | None:
    """The `signal` series for `region` in a /signals/raw answer; None if IODA has none."""
    groups = _envelope(data)
    if not isinstance(groups, list):
        raise ShapeError("signals are not a list")
    for group in groups:
        if not isinstance(group, list):
            raise ShapeError("a signal group is not a list")
        for item in group:
            if not isinstance(item, dict):
                raise ShapeError("a signal series is not an object")
            if item.get("datasource") != signal:
                continue
            if str(item.get("entityCode", "")).upper() != region.upper():
                continue
            values = item.get("values")
            if not isinstance(values, list) or not all(
                v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                for v in values
            ):
                raise ShapeError("signal values are not a list of numbers")
            step = int(_number(item, "step"))
            if step <= 0:
                raise ShapeError("signal step is not positive")
            name = item.get("entityName")
            return Series(
                region=region,
                signal=signal,
                start=datetime.fromtimestamp(_number(item, "from"), UTC),
                step=step,
                values=tuple(None if v is None else float(v) for v in values),
                region_name=name if isinstance(name, str) else None,
            )
    return None


def _drop(baseline: float, value: float) -> float:
    return max(0.0, (baseline - value) / baseline * 100.0) if baseline > 0 else 0.0


def signal_reading(
    series: Series, outages: Sequence[OutageEvent], *, source: str
) -> ConnectivityReading | None:
    """The latest value against normal: the median before the last hour, or, during one of
    IODA's own outage events, before that event began (else a long outage becomes "normal")."""
    points = series.points()
    if len(points) < 4:
        return None
    last_at = points[-1][0]
    current = statistics.median(value for _, value in points[-3:])
    ongoing = [
        o
        for o in outages
        if o.signal == series.signal and o.end >= last_at - timedelta(seconds=2 * series.step)
    ]
    since = min((o.start for o in ongoing), default=None)
    before = [v for at, v in points if since is not None and at < since]
    if len(before) < 3:
        before = [v for at, v in points if at < last_at - RECENT]
    if len(before) < 3:
        return None
    baseline = statistics.median(before)
    return ConnectivityReading(
        source=source,
        region=series.region,
        signal=series.signal,
        at=last_at,
        current=current,
        baseline=baseline,
        drop_pct=round(_drop(baseline, current), 1),
        outage_since=since,
        region_name=series.region_name,
    )


def drop_at_start(series: Series, start: datetime) -> int | None:
    """How far the signal fell in an event's first hour against the six hours before it,
    rounded to 5%. Anchored on the event's start, not on now, so the event's wording stays
    the same run after run and the import stays idempotent."""
    points = series.points()
    before = [v for at, v in points if start - BEFORE_EVENT <= at < start]
    after = [v for at, v in points if start <= at <= start + EVENT_ONSET]
    if len(before) < 3 or not after:
        return None
    pct = _drop(statistics.median(before), min(after))
    rounded = int(5 * round(pct / 5))
    return rounded if rounded >= 5 else None


def outage_records(
    outages: Sequence[OutageEvent], series: dict[str, Series], *, source: str, url: str | None
) -> list[Event]:
    """IODA's outage events as timeline events on the country's `internet`, at their start."""
    events = []
    for outage in outages:
        phrase = signal_label(outage.signal).phrase
        found = series.get(outage.signal)
        pct = drop_at_start(found, outage.start) if found is not None else None
        text = (
            f"IODA: {phrase} dropped {pct}% below normal"
            if pct is not None
            else f"IODA: outage signal in {phrase}"
        )
        events.append(
            Event(
                service=INTERNET,
                region=outage.region,
                at=outage.start,
                kind="report",
                text=text,
                source=source,
                url=url,
            )
        )
    return events


def connectivity_line(
    readings: Sequence[ConnectivityReading], threshold: float = DROP_THRESHOLD
) -> Connectivity | None:
    """What the card says about a region's internet: the worst signal if any dropped (or is in
    one of the source's outage events), else the steadiest signal saying all is normal."""
    if not readings:
        return None
    dropped = [r for r in readings if r.drop_pct >= threshold or r.outage_since is not None]
    if dropped:
        worst = max(dropped, key=lambda r: (r.drop_pct, r.at))
        return Connectivity(
            signal=worst.signal,
            drop_pct=worst.drop_pct,
            since=worst.outage_since,
            source=worst.source,
            at=worst.at,
            normal=False,
        )

    def steadiness(r: ConnectivityReading) -> tuple[int, float]:
        rank = SIGNAL_ORDER.index(r.signal) if r.signal in SIGNAL_ORDER else len(SIGNAL_ORDER)
        return rank, -r.at.timestamp()

    best = min(readings, key=steadiness)
    return Connectivity(
        signal=best.signal,
        drop_pct=best.drop_pct,
        since=None,
        source=best.source,
        at=best.at,
        normal=True,
    )

"""`outagebot backtest`: what a subscriber would have been told over a recorded series.

The series goes through exactly the live path, into a throwaway database: readings are stored
as they would have arrived, the real refresh runs with the clock moved one bucket at a time,
its listener queues alerts to a subscriber, and what lands in that subscriber's outbox is the
answer. So an operator can tune `OUTAGEBOT_*` detection settings on their own history before
going live, and the project can score its detector on labelled real series (`bot.core.scoring`).

Readers: NAB's `timestamp,value` CSV (summed into buckets, a bucket's count complete at its
end, silence a zero), and the bot's own CSV and JSON observation formats (readings at their
own times; several pairs at once).
"""

from __future__ import annotations

import csv
import json
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.catalog import Catalog
from bot.core.detection import Thresholds
from bot.core.scoring import (
    PROFILES,
    FileScore,
    alert_rows,
    normalised,
    probation,
    score_file,
    window_rows,
)
from bot.engine.alerts import queue_alerts
from bot.engine.refresh import RefreshReport, Summaries
from bot.imports.files import load_dataset_file
from bot.imports.reading import DatasetError
from storage.database import Database
from storage.imports import import_dataset
from storage.outbox import queued_for
from storage.records import Dataset, Observation
from storage.subscriptions import subscribe

SUBSCRIBER = 1
SOURCE = "Backtest series"
MONTH = timedelta(days=30.4375)


@dataclass(frozen=True, slots=True)
class Series:
    """What is replayed: the readings, and the raw row times that labels and scores refer to."""

    name: str
    readings: tuple[Observation, ...]
    rows: tuple[datetime, ...]


@dataclass(frozen=True, slots=True)
class Alert:
    at: datetime  # when it was queued: the end of the bucket that decided it
    service: str
    region: str
    kind: str
    level: str
    incident: int

    def as_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "service": self.service,
            "region": self.region,
            "kind": self.kind,
            "level": self.level,
            "incident": self.incident,
        }


@dataclass
class Outcome:
    alerts: list[Alert] = field(default_factory=list)
    reopenings: int = 0  # surges within the cooldown: the same incident, told "up again"
    incidents: int = 0
    unresolved: int = 0

    @property
    def duplicate_openings(self) -> int:
        opened = [a.incident for a in self.alerts if a.kind == "opened"]
        return len(opened) - len(set(opened))


@dataclass(frozen=True, slots=True)
class Scores:
    hits: int
    windows: int
    false_alerts: int
    months: float
    median_delay: float | None  # buckets from a window's start to its first alert
    nab: dict[str, float]

    def as_json(self) -> dict[str, object]:
        return {
            "windows_hit": self.hits,
            "windows": self.windows,
            "false_alerts": self.false_alerts,
            "false_alerts_per_month": round(self.false_alerts / self.months, 2)
            if self.months
            else None,
            "median_delay_buckets": self.median_delay,
            "nab": {name: round(value, 1) for name, value in self.nab.items()},
        }


def read_series(
    path: Path, catalog: Catalog, *, service: str, region: str, bucket: timedelta
) -> Series:
    """NAB's two-column CSV, or anything `outagebot import` reads (raises DatasetError)."""
    if path.suffix.lower() == ".csv" and _is_two_column(path):
        return _nab_series(path, service=service, region=region, bucket=bucket)
    dataset = load_dataset_file(path, catalog)
    readings = tuple(
        sorted((r for r in dataset.observations if r.precision == "minute"), key=lambda r: r.at)
    )
    if not readings:
        raise DatasetError([f"{path}: no observations with a time to replay"])
    return Series(path.name, readings, tuple(row.at for row in readings))


def _is_two_column(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8") as handle:
            header = handle.readline()
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError([f"{path}: {error}"]) from None
    return [cell.strip().casefold() for cell in header.split(",")] == ["timestamp", "value"]


def _instant(text: str) -> datetime:
    at = datetime.fromisoformat(text.strip())
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _nab_series(path: Path, *, service: str, region: str, bucket: timedelta) -> Series:
    rows: list[datetime] = []
    sums: dict[datetime, float] = {}
    problems = []
    with path.open(encoding="utf-8", newline="") as handle:
        for line, record in enumerate(csv.DictReader(handle), start=2):
            try:
                at, value = _instant(record["timestamp"]), float(record["value"])
            except (TypeError, ValueError):
                problems.append(f"line {line}: expected an ISO time and a number")
                continue
            rows.append(at)
            start = datetime.fromtimestamp(
                at.timestamp() - at.timestamp() % bucket.total_seconds(), UTC
            )
            sums[start] = sums.get(start, 0.0) + value
    if problems:
        raise DatasetError([f"{path}: {p}" for p in problems[:10]])
    if not sums:
        raise DatasetError([f"{path}: no rows"])
    readings = []
    at, end = min(sums), max(sums)
    while at <= end:  # a bucket without rows counted zero: silence is information here
        count = round(sums.get(at, 0.0))
        readings.append(Observation(service, region, at, count, SOURCE))
        at += bucket
    return Series(path.name, tuple(readings), tuple(sorted(rows)))


def read_windows(path: Path, series: str) -> list[tuple[datetime, datetime]]:
    """NAB's windows.json: {file name: [[start, end], …]}; a file of one series may use any key."""
    try:
        labels = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DatasetError([f"{path}: {error}"]) from None
    if not isinstance(labels, dict):
        raise DatasetError([f"{path}: expected an object of file name → [[start, end], …]"])
    windows = labels.get(series)
    if windows is None and len(labels) == 1:
        windows = next(iter(labels.values()))
    if windows is None:
        raise DatasetError([f"{path}: no windows for {series!r}"])
    try:
        return [(_instant(a), _instant(b)) for a, b in windows]
    except (TypeError, ValueError):
        raise DatasetError([f"{path}: windows must be [start, end] pairs of times"]) from None


async def backtest(
    series: Series,
    database: Path,
    catalog: Catalog,
    rules: Thresholds,
    *,
    bucket: timedelta,
    on_alert: Callable[[Alert], None] = lambda alert: None,
) -> Outcome:
    """Replay into `database` (which must not exist yet), one refresh per bucket."""
    db = await Database.open(database)
    try:
        pairs = sorted({(row.service, row.region) for row in series.readings})
        first = series.readings[0].at
        for service, region in pairs:
            await subscribe(
                db,
                SUBSCRIBER,
                kind="private",
                title=None,
                service=service,
                region=region,
                min_level="elevated",
                at=first,
                limit=len(pairs) + 1,
            )
        summaries = Summaries(db, catalog, rules, baseline_weeks=rules.weeks, bucket=bucket)
        summaries.listeners.append(queue_alerts)
        outcome = Outcome()
        known: dict[int, tuple[str, str, str]] = {}  # incident id → service, region, level
        seen = 0

        async def heard(report: RefreshReport, now: datetime) -> None:
            nonlocal seen
            for transition in report.transitions:
                incident = transition.incident
                assert incident.id is not None
                known[incident.id] = (incident.service, incident.region, incident.level)
                outcome.reopenings += transition.kind == "reopened"
            for message in await queued_for(db, SUBSCRIBER, after=seen):
                seen = message.id
                kind, number = message.dedup_key.split(":")[1:3]
                alert = Alert(
                    now, *known[int(number)][:2], kind, known[int(number)][2], int(number)
                )
                outcome.alerts.append(alert)
                on_alert(alert)

        readings = list(series.readings)
        now = _first_end(first, bucket)
        end = readings[-1].at + bucket
        index = 0
        while True:
            batch = []
            while index < len(readings) and readings[index].at < now:
                batch.append(readings[index])
                index += 1
            if batch:
                await import_dataset(db, Dataset(observations=tuple(batch)))
            await heard(await summaries.refresh(now), now)
            if now >= end:
                break
            now = min(now + bucket, end)
        # The series stops; the quiet rule then ends what is still open, as it would live.
        settle = end + rules.quiet_after + bucket
        await heard(await summaries.refresh(settle), settle)
        outcome.incidents = int(await db.scalar("SELECT COUNT(*) FROM incidents"))
        outcome.unresolved = int(
            await db.scalar("SELECT COUNT(*) FROM incidents WHERE resolved_at IS NULL")
        )
        return outcome
    finally:
        await db.close()


def _first_end(first: datetime, bucket: timedelta) -> datetime:
    seconds = bucket.total_seconds()
    return datetime.fromtimestamp(first.timestamp() - first.timestamp() % seconds, UTC) + bucket


def file_scores(
    series: Series, alerts: Sequence[datetime], windows: Sequence[tuple[datetime, datetime]]
) -> dict[str, FileScore]:
    """The series' score under each NAB profile, alerts placed on the rows they were known at."""
    rows = list(series.rows)
    spans = window_rows(rows, windows)
    hits = alert_rows(rows, alerts)
    return {profile.name: score_file(len(rows), spans, hits, profile) for profile in PROFILES}


def scored_months(series: Series) -> float:
    """Months of rows after NAB's probation: what false alerts per month divide by."""
    rows = series.rows
    return (rows[-1] - rows[min(len(rows) - 1, probation(len(rows)))]) / MONTH


def score(
    series: Series,
    alerts: Sequence[Alert],
    windows: Sequence[tuple[datetime, datetime]],
    *,
    bucket: timedelta,
) -> Scores:
    """NAB's scores for the "opened" alerts: a new incident is the detection NAB counts;
    escalations and the end of an incident are news about one already told."""
    by_profile = file_scores(series, [a.at for a in alerts if a.kind == "opened"], windows)
    standard = by_profile["standard"]
    rows = series.rows
    step = (rows[-1] - rows[0]) / max(1, len(rows) - 1)
    delays = [d * step / bucket for d in standard.delays]
    return Scores(
        hits=standard.hits,
        windows=standard.windows,
        false_alerts=standard.false_alerts,
        months=scored_months(series),
        median_delay=round(statistics.median(delays), 1) if delays else None,
        nab={profile.name: normalised([by_profile[profile.name]], profile) for profile in PROFILES},
    )

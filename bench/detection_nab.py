"""Detection on labelled real series: NAB's Twitter volumes (and nyc_taxi), through the live path.

Each series is replayed by `outagebot backtest`'s engine: stored bucket by bucket into a
throwaway SQLite database, refreshed with the clock moved one bucket at a time, alerts queued
to a subscriber. The "opened" alerts a subscriber got are scored with NAB's standard, low-FP
and low-FN profiles (bot/core/scoring.py). Beside it, in the same run and on the same buckets,
a fixed-threshold reference (count >= 2x the trailing day's median; alert = first bucket of a
run) scored the same way, and the cost of the pure detector per bucket as a ratio to that
reference's.

The data is read where it lives, never copied into the repository:

    python bench/detection_nab.py [FOLDER]     # default ../shared/detection from the repo

Targets (issue 13): on the five Twitter series, NAB standard >= 75 with <= 3 false alerts per
series-month, no incident opened twice, every incident resolved. nyc_taxi is shown untuned: its
anomalies are mostly dips, which an outage bot does not alert on.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.core.catalog import default_catalog  # noqa: E402
from bot.core.detection import Detector, Thresholds  # noqa: E402
from bot.core.scoring import PROFILES, FileScore, normalised  # noqa: E402
from bot.engine.backtest import (  # noqa: E402
    Series,
    backtest,
    file_scores,
    read_series,
    read_windows,
    scored_months,
)

TWITTER = [f"Twitter_volume_{name}.csv" for name in ("FB", "GOOG", "IBM", "KO", "UPS")]
TAXI = "nyc_taxi.csv"


@dataclass(frozen=True)
class Result:
    name: str
    scores: dict[str, FileScore]
    months: float
    step: timedelta
    bucket: timedelta
    opened_twice: int
    unresolved: int
    incidents: int
    seconds: float


def bucket_for(name: str) -> timedelta:
    # The bot sums reports into 15-minute buckets; the taxi series steps every 30 minutes.
    return timedelta(minutes=30) if name == TAXI else timedelta(minutes=15)


def reference_alerts(series: Series, bucket: timedelta) -> list[datetime]:
    """Fixed threshold: count >= 2x the median of the trailing day's buckets."""
    counts = [row.count for row in series.readings]
    day = int(timedelta(days=1) / bucket)
    alerts, before = [], False
    for i, row in enumerate(series.readings):
        history = counts[max(0, i - day) : i]
        flagged = len(history) >= 4 and row.count >= 2 * statistics.median(history) > 0
        if flagged and not before:
            alerts.append(row.at + bucket)
        before = flagged
    return alerts


def walk_cost(series: Series, rules: Thresholds, bucket: timedelta) -> tuple[float, float]:
    """Seconds for the pure detector and for the reference over the same buckets."""
    started = time.perf_counter()
    detector = Detector(rules)
    for row in series.readings:
        detector.step(row)
    ours = time.perf_counter() - started
    started = time.perf_counter()
    reference_alerts(series, bucket)
    return ours, time.perf_counter() - started


def run_one(folder: Path, name: str) -> tuple[Result, Result, tuple[float, float], Result]:
    catalog = default_catalog()
    bucket = bucket_for(name)
    rules = Thresholds(bucket=bucket)
    series = read_series(folder / name, catalog, service="x", region="US", bucket=bucket)
    windows = read_windows(folder / "windows.json", name)
    step = (series.rows[-1] - series.rows[0]) / (len(series.rows) - 1)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-nab-") as tmp:
        outcome = asyncio.run(
            backtest(series, Path(tmp) / "nab.sqlite3", catalog, rules, bucket=bucket)
        )
    seconds = time.perf_counter() - started
    opened = [a.at for a in outcome.alerts if a.kind == "opened"]
    # A surge within the cooldown is told as "reports up again" on the same incident: scored
    # apart as well, as if every "reports up" message were a detection.
    surged = [a.at for a in outcome.alerts if a.kind in ("opened", "reopened")]

    def scored(alerts: list[datetime], identity: tuple[int, int, int], took: float) -> Result:
        return Result(
            name,
            file_scores(series, alerts, windows),
            scored_months(series),
            step,
            bucket,
            *identity,
            took,
        )

    ours_identity = (outcome.duplicate_openings, outcome.unresolved, outcome.incidents)
    ours = scored(opened, ours_identity, seconds)
    ours_with_resurges = scored(surged, ours_identity, 0.0)
    reference = scored(reference_alerts(series, bucket), (0, 0, 0), 0.0)
    return ours, reference, walk_cost(series, rules, bucket), ours_with_resurges


HEADER = (
    f"{'series':<30}{'hits':>7}{'FP':>5}{'FP/mo':>7}{'delay':>7}"
    f"{'std':>8}{'lowFP':>8}{'lowFN':>8}{'twice':>7}{'open':>6}"
)


def line(label: str, results: list[Result], *, identity: bool) -> str:
    standard = [r.scores["standard"] for r in results]
    hits = sum(s.hits for s in standard)
    windows = sum(s.windows for s in standard)
    fps = sum(s.false_alerts for s in standard)
    months = sum(r.months for r in results)
    delays = [d * r.step / r.bucket for r in results for d in r.scores["standard"].delays]
    delay = f"{statistics.median(delays):.0f}" if delays else "—"
    nab = [normalised([r.scores[p.name] for r in results], p) for p in PROFILES]
    twice = str(sum(r.opened_twice for r in results)) if identity else "—"
    still = str(sum(r.unresolved for r in results)) if identity else "—"
    return (
        f"{label:<30}{hits:>4}/{windows:<2}{fps:>5}{fps / months:>7.1f}{delay:>7}"
        + "".join(f"{value:>8.1f}" for value in nab)
        + f"{twice:>7}{still:>6}"
    )


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "detection"
    if not (folder / "windows.json").exists():
        print(f"detection_nab: no NAB series in {folder} (pass the folder as an argument)")
        raise SystemExit(1)
    names = [n for n in [*TWITTER, TAXI] if (folder / n).exists()]
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=2) as pool:
        done = list(pool.map(run_one, [folder] * len(names), names))
    ours = {r.name: r for r, _, _, _ in done}
    reference = {r.name: r for _, r, _, _ in done}
    cost = {r.name: c for r, _, c, _ in done}
    resurges = {r.name: r for _, _, _, r in done}
    twitter = [n for n in TWITTER if n in ours]
    print("Detection on NAB's labelled series, through the live path (outagebot backtest)")
    print(f"defaults: {json.dumps(_rules_text())}")
    print("delay: median buckets from a window's start to its first alert; twice: incidents")
    print("opened twice; open: incidents never resolved (after the quiet rule at the end)")
    print(HEADER)
    for name in twitter:
        print(line(name, [ours[name]], identity=True))
    print(line("ALL 5 TWITTER (outagebot)", [ours[n] for n in twitter], identity=True))
    print(
        line(
            "ALL 5 TWITTER, +'up again'",
            [resurges[n] for n in twitter],
            identity=True,
        )
    )
    print(line("ALL 5 TWITTER (2x day median)", [reference[n] for n in twitter], identity=False))
    if TAXI in ours:
        print(line("nyc_taxi (outagebot)", [ours[TAXI]], identity=True))
        print(line("nyc_taxi (2x day median)", [reference[TAXI]], identity=False))
    walked = sum(c[0] for c in cost.values())
    base = sum(c[1] for c in cost.values())
    buckets = sum(len(read) for read in _bucket_counts(folder, names))
    print(
        f"pure detector: {walked / buckets * 1e6:.0f} µs per bucket, {walked / base:.1f}x the"
        f" fixed-threshold reference over the same {buckets:,} buckets"
    )
    live = sum(r.seconds for r in ours.values())
    print(
        f"live-path replay (store, refresh, queue alerts per bucket): {live / buckets * 1e3:.1f} ms"
        f" per bucket; whole run {time.perf_counter() - started:.0f} s on 2 processes"
    )


def _bucket_counts(folder: Path, names: list[str]) -> list[tuple[object, ...]]:
    catalog = default_catalog()
    return [
        read_series(folder / n, catalog, service="x", region="US", bucket=bucket_for(n)).readings
        for n in names
    ]


def _rules_text() -> dict[str, object]:
    rules = Thresholds()
    return {
        "z_elevated": rules.z_elevated,
        "z_outage": rules.z_outage,
        "enter_after": rules.enter_after,
        "leave_after": rules.leave_after,
        "cooldown_h": rules.cooldown / timedelta(hours=1),
    }


if __name__ == "__main__":
    main()

"""Detection on synthetic counts with known outages: what labelled real data cannot tell.

NAB's series are one kind of data with fifteen labelled windows. Here the truth is known
exactly: seasonal counts (daily rhythm ±60 %, weekends at 70 %) at 2, 20 and 2,000 reports per
bucket, Poisson at the small scales and negative-binomial (variance mu + mu²/50, so noisy) at
2,000; eight weeks per pair; outages of known onset, size (4×, 8×, 16× typical) and length (2,
4, 8 buckets) injected from week 2 on, at least two days apart; and quiet pairs with no outage
at all. For each scale it prints:

- found ≤2: outages whose "opened" alert came by the end of their second bucket;
- recall: outages a subscriber was told about while they lasted (opened or escalated);
- FP/pair-month: "opened" alerts outside every outage (and the hour after it), after day one;

for the bot's detector (bot/core/detection.py, defaults) beside a fixed-threshold reference
(count ≥ 2× the trailing day's median, alert = first bucket of a run), in the same run, and the
detector's cost per bucket as a ratio to the reference's.

    python bench/detection_synthetic.py [--seed N]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.core.detection import Detector, Thresholds  # noqa: E402
from storage.records import Observation  # noqa: E402

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
BUCKET = timedelta(minutes=15)
WEEKS = 8
BUCKETS = WEEKS * 7 * 96
SCALES = (2, 20, 2000)
SIZES = (4, 8, 16)
LENGTHS = (2, 4, 8)
PAIRS_WITH_OUTAGES = 6
QUIET_PAIRS = 3
DISPERSION = 50.0  # negative-binomial k at the large scale
MONTH = timedelta(days=30.4375)
AFTER = 4  # buckets after an outage in which an alert is still about it


@dataclass(frozen=True)
class Outage:
    onset: int
    length: int
    size: int


@dataclass
class Tally:
    outages: int = 0
    found_fast: int = 0
    told: int = 0
    false_alerts: int = 0
    months: float = 0.0
    seconds: float = 0.0
    buckets: int = 0


def typical(scale: int, i: int) -> float:
    at = START + i * BUCKET
    hour = at.hour + at.minute / 60
    daily = 1 + 0.6 * math.sin(2 * math.pi * (hour - 9) / 24)
    weekly = 0.7 if at.weekday() >= 5 else 1.0
    return scale * daily * weekly


def series(scale: int, outages: list[Outage], rng: np.random.Generator) -> list[int]:
    mu = np.array([typical(scale, i) for i in range(BUCKETS)])
    for outage in outages:
        mu[outage.onset : outage.onset + outage.length] *= outage.size
    if scale >= 1000:
        mu = rng.gamma(DISPERSION, mu / DISPERSION)
    return [int(x) for x in rng.poisson(mu)]


def plan(rng: np.random.Generator) -> list[Outage]:
    """Outages from week 2 on, two days or more apart, each size and length in turn."""
    outages, at = [], 7 * 96 + int(rng.integers(0, 96))
    k = int(rng.integers(0, 9))
    while at < BUCKETS - 96:
        outages.append(Outage(at, LENGTHS[k % 3], SIZES[(k // 3) % 3]))
        k += 1
        at += 2 * 96 + int(rng.integers(0, 2 * 96))
    return outages


def ours(counts: list[int], rules: Thresholds) -> tuple[list[int], list[int]]:
    """Buckets whose end sent an "opened" alert, and those that sent any alert."""
    detector = Detector(rules)
    opened, told = [], []
    for i, count in enumerate(counts):
        row = Observation("x", "PK", START + i * BUCKET, count, "synthetic")
        kinds = {change.kind for change in detector.step(row)}
        if "opened" in kinds:
            opened.append(i)
        if kinds & {"opened", "escalated"}:
            told.append(i)
    return opened, told


def reference(counts: list[int]) -> tuple[list[int], list[int]]:
    day, alerts, before = 96, [], False
    for i, count in enumerate(counts):
        history = counts[max(0, i - day) : i]
        flagged = len(history) >= 4 and count >= 2 * statistics.median(history) and count > 0
        if flagged and not before:
            alerts.append(i)
        before = flagged
    return alerts, alerts


def tally(into: Tally, outages: list[Outage], opened: list[int], told: list[int]) -> None:
    spans = [(o.onset, o.onset + o.length + AFTER) for o in outages]
    for outage in outages:
        end = outage.onset + outage.length
        into.outages += 1
        into.found_fast += any(outage.onset <= i <= outage.onset + 1 for i in opened)
        into.told += any(outage.onset <= i < end for i in told)
    into.false_alerts += sum(1 for i in opened if i >= 96 and not any(a <= i < b for a, b in spans))
    into.months += (BUCKETS - 96) * BUCKET / MONTH


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--seed", type=int, default=13)
    seed = options.parse_args().seed
    rng = np.random.default_rng(seed)
    rules = Thresholds()
    rows: list[tuple[str, int, Tally]] = []
    for scale in SCALES:
        mine, theirs = Tally(), Tally()
        for pair in range(PAIRS_WITH_OUTAGES + QUIET_PAIRS):
            outages = plan(rng) if pair < PAIRS_WITH_OUTAGES else []
            counts = series(scale, outages, rng)
            for detect, into in ((None, mine), (reference, theirs)):
                started = time.perf_counter()
                found = ours(counts, rules) if detect is None else detect(counts)
                into.seconds += time.perf_counter() - started
                into.buckets += len(counts)
                tally(into, outages, *found)
        rows += [("outagebot", scale, mine), ("2x day median", scale, theirs)]
    print(f"Synthetic seasonal counts, seed {seed}: {WEEKS} weeks per pair, 15-minute buckets,")
    print(
        f"{PAIRS_WITH_OUTAGES} pairs with outages and {QUIET_PAIRS} quiet pairs per scale;"
        f" sizes {SIZES}x typical, lengths {LENGTHS} buckets"
    )
    print(
        f"{'detector':<15}{'scale':>6}{'outages':>9}{'found<=2':>10}{'recall':>8}{'FP/pair-mo':>12}"
    )
    for who, scale, t in rows:
        print(
            f"{who:<15}{scale:>6}{t.outages:>9}{t.found_fast / t.outages:>10.0%}"
            f"{t.told / t.outages:>8.0%}{t.false_alerts / t.months:>12.1f}"
        )
    mine = sum(t.seconds for who, _, t in rows if who == "outagebot")
    theirs = sum(t.seconds for who, _, t in rows if who != "outagebot")
    buckets = sum(t.buckets for who, _, t in rows if who == "outagebot")
    print(
        f"cost: {mine / buckets * 1e6:.0f} µs per bucket for outagebot's detector,"
        f" {mine / theirs:.1f}x the fixed-threshold reference ({buckets:,} buckets)"
    )
    by_size = _recall_by_size(rng, rules)
    print("recall by size (outagebot, all scales pooled over a fresh draw):")
    for (scale, size), (told, total) in sorted(by_size.items()):
        print(f"  scale {scale:>5}, {size:>2}x typical: {told}/{total}")


def _recall_by_size(
    rng: np.random.Generator, rules: Thresholds
) -> dict[tuple[int, int], tuple[int, int]]:
    """Which outages are big enough to be told: small pairs need more than a ratio."""
    out: dict[tuple[int, int], tuple[int, int]] = {}
    for scale in SCALES:
        for _ in range(3):
            outages = plan(rng)
            counts = series(scale, outages, rng)
            _, told = ours(counts, rules)
            for outage in outages:
                hit = any(outage.onset <= i < outage.onset + outage.length for i in told)
                got, total = out.get((scale, outage.size), (0, 0))
                out[(scale, outage.size)] = (got + hit, total + 1)
    return out


if __name__ == "__main__":
    main()

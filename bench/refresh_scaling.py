"""Refresh scaling: time for `Summaries.refresh(now)` after N pairs got new data.

Target: 100 dirty pairs out of 10,000, over the 1,000,000-row history, refreshed in under 1 s.
Pairs are marked the way production marks them: one new reading each through `import_dataset`.

1. The full refresh (first run on a database: every pair prepared). Run for real when this
   code's per-pair cost says it fits FULL_BUDGET; otherwise its time is estimated from the
   measured per-pair cost and the later steps start from the steady state described below.
2. 100 dirty pairs at full history: the target.
3. Curve (a): 10, 50, 100, 200, 400 dirty pairs at 100 readings per pair.
4. Curve (b): 100 dirty pairs at 25, 50, 100, 200 readings per pair (10,000 pairs each).

Steady state without a full refresh: the import's dirty marks are cleared and one pair's summary
is prepared and stored, so the refresh is not a first run. For a refresh of marked pairs this is
the same work as after a full refresh here: no pair is live at NOW and no card is a day old, so
only the marked pairs are recomputed (the printed "refreshed" column shows it).

The whole script keeps to BUDGET seconds: a point whose predicted time would not fit is skipped
and says so. Databases are cached in bench/out/ (history-25/50/100/200).

    python bench/refresh_scaling.py
"""

from __future__ import annotations

import asyncio
import math
import random
import resource
import time
from pathlib import Path

import common
from common import NOW, READINGS, bench_catalog, header, note, verdict

from bot.engine.refresh import Summaries
from bot.render.card import prepare_summary
from storage.database import Database
from storage.imports import import_dataset
from storage.prepared import save_prepared

TARGET = 1.0  # seconds for 100 dirty pairs
BUDGET = 270.0  # seconds for the whole script
FULL_BUDGET = 120.0  # run the full refresh for real when estimated under this
DIRTY = (10, 50, 100, 200, 400)
HISTORIES = (25, 50, 100, 200)
BUILD_SECONDS_PER_ROW = 12e-6  # making and importing history rows, for the budget

started = time.perf_counter()


def remaining() -> float:
    return BUDGET - (time.perf_counter() - started)


class Pairs:
    """Random pairs to mark, never the same twice in one database, never global/internet."""

    def __init__(self, catalog, seed: int) -> None:
        self.pool = common.quiet_pairs(catalog)
        random.Random(seed).shuffle(self.pool)

    def take(self, count: int) -> list[tuple[str, str]]:
        chosen, self.pool = self.pool[:count], self.pool[count:]
        return chosen


async def steady_state(db: Database, summaries: Summaries, catalog) -> None:
    service, region = "x", "PK"
    summary, _ = await summaries.compute(catalog.service(service), catalog.region(region), NOW)
    async with db.transaction() as connection:
        await connection.execute("DELETE FROM dirty_pairs")
        await save_prepared(connection, [prepare_summary(summary, now=NOW)])
    await summaries.load()


async def per_pair_cost(summaries: Summaries, catalog, samples: int = 3) -> float:
    return await common.estimate_full_refresh(summaries, catalog, samples)


async def dirty_refresh(db: Database, summaries: Summaries, pairs) -> tuple[float, int]:
    """Mark `pairs` with one new reading each, then time one refresh."""
    await import_dataset(db, common.one_more_reading(pairs))
    start = time.perf_counter()
    report = await summaries.refresh(NOW)
    return time.perf_counter() - start, report.pairs


def slope(points: list[tuple[float, float]]) -> float:
    """Log-log slope from the first to the last point: 1 = linear, 0 = flat."""
    (x1, y1), (x2, y2) = points[0], points[-1]
    return math.log(y2 / y1) / math.log(x2 / x1)


async def open_history(per_pair: int, catalog, name: str) -> tuple[Database, Path]:
    path = common.copy_database(await common.history_db(per_pair, catalog), name)
    return await Database.open(path), path


async def main() -> None:
    header("refresh_scaling", "python bench/refresh_scaling.py")
    catalog = bench_catalog()
    total_pairs = len(common.all_pairs(catalog))
    print(
        f"workload: {total_pairs:,} pairs, {READINGS} readings per pair (1,000,000 rows) unless"
        " stated; dirty pairs get one new reading each via import_dataset; refresh(NOW)"
    )
    passed: list[bool] = []

    # 1. the full refresh
    db, _ = await open_history(READINGS, catalog, "refresh-100")
    summaries = Summaries(db, catalog)
    cost = await per_pair_cost(summaries, catalog)
    estimate = cost * total_pairs
    if estimate <= min(FULL_BUDGET, remaining() - 60):
        note("full refresh")
        start = time.perf_counter()
        report = await summaries.refresh(NOW)
        seconds = time.perf_counter() - start
        print(
            f"full refresh (first run, every pair): {seconds:.1f} s for {report.pairs:,} pairs,"
            f" {seconds / report.pairs * 1000:.1f} ms per pair"
        )
        state = "after the full refresh"
    else:
        await steady_state(db, summaries, catalog)
        state = "steady state (marks cleared, not a first run)"

    # 2. the target: 100 dirty pairs at full history
    pick = Pairs(catalog, seed=1)
    note("100 dirty pairs")
    seconds, refreshed = await dirty_refresh(db, summaries, pick.take(100))
    ok = seconds < TARGET
    passed.append(ok)
    per_pair = seconds / refreshed
    if state != "after the full refresh":
        full = per_pair * total_pairs
        print(
            f"full refresh (first run, every pair): not run, over the {FULL_BUDGET:.0f} s "
            f"budget; estimated {full:,.0f} s ({full / 3600:.1f} h) at the per-pair cost of "
            f"the 100-pair refresh below ({estimate:,.0f} s at {cost * 1000:.0f} ms per pair "
            f"from 3 pairs computed alone)"
        )
    print(
        f"100 dirty pairs of {total_pairs:,}, {READINGS} readings per pair, {state}: "
        f"{seconds:.2f} s, refreshed {refreshed} (target < {TARGET:.0f} s) {verdict(ok)}"
    )

    # 3. curve (a): dirty pairs at full history
    curve_a: list[tuple[int, float | None, int]] = []
    for count in DIRTY:
        if count == 100:
            curve_a.append((100, seconds, refreshed))
            continue
        predicted = per_pair * count
        if predicted > remaining() - 10:
            curve_a.append((count, None, 0))
            note(f"skipping {count} dirty pairs: predicted {predicted:.0f} s")
            continue
        note(f"{count} dirty pairs")
        took, done = await dirty_refresh(db, summaries, pick.take(count))
        curve_a.append((count, took, done))
    await db.close()

    # 4. curve (b): 100 dirty pairs against history size
    curve_b: list[tuple[int, float | None, int]] = []
    for readings in HISTORIES:
        if readings == READINGS:
            curve_b.append((readings, seconds, refreshed))
            continue
        build = 0.0
        if not common.history_path(readings).exists():
            build = BUILD_SECONDS_PER_ROW * readings * total_pairs
        predicted = build + per_pair * 100 * readings / READINGS
        if predicted > remaining() - 5:
            curve_b.append((readings, None, 0))
            note(f"skipping {readings} readings per pair: predicted {predicted:.0f} s")
            continue
        note(f"{readings} readings per pair")
        small, _ = await open_history(readings, catalog, f"refresh-{readings}")
        small_summaries = Summaries(small, catalog)
        await steady_state(small, small_summaries, catalog)
        took, done = await dirty_refresh(
            small, small_summaries, Pairs(catalog, seed=readings).take(100)
        )
        await small.close()
        curve_b.append((readings, took, done))

    print()
    print("(a) refresh time vs dirty pairs, 100 readings per pair")
    print("| dirty pairs | refreshed | seconds | ms per pair |")
    print("|---:|---:|---:|---:|")
    for count, took, done in curve_a:
        if took is None:
            print(f"| {count} | — | skipped: over the script's time budget | — |")
        else:
            print(f"| {count} | {done} | {took:.2f} | {took / done * 1000:.1f} |")
    measured_a = [(c, t) for c, t, _ in curve_a if t is not None]
    if len(measured_a) >= 2:
        (c1, t1), (c2, t2) = measured_a[0], measured_a[-1]
        print(
            f"(a) {c2 / c1:.0f}× the dirty pairs → {t2 / t1:.1f}× the time; "
            f"log-log slope {slope(measured_a):.2f} (1 = proportional to dirty pairs)"
        )
    print()
    print("(b) refresh time for 100 dirty pairs vs history, 10,000 pairs")
    print("| readings per pair | rows | refreshed | seconds | ms per pair |")
    print("|---:|---:|---:|---:|---:|")
    for readings, took, done in curve_b:
        rows = f"{readings * total_pairs:,}"
        if took is None:
            print(f"| {readings} | {rows} | — | skipped: over the script's time budget | — |")
        else:
            print(f"| {readings} | {rows} | {done} | {took:.2f} | {took / done * 1000:.1f} |")
    measured_b = [(r, t) for r, t, _ in curve_b if t is not None]
    if len(measured_b) >= 2:
        (r1, t1), (r2, t2) = measured_b[0], measured_b[-1]
        flat = slope(measured_b) < 0.25
        passed.append(flat)
        print(
            f"(b) {r2 / r1:.0f}× the history → {t2 / t1:.1f}× the time; log-log slope "
            f"{slope(measured_b):.2f} (0 = independent of history; < 0.25 wanted) "
            f"{verdict(flat)}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:,.0f} MB (see bench/memory.py for the target)")
    print(f"refresh_scaling: {sum(passed)} of {len(passed)} pass ({BUDGET - remaining():.0f} s)")


if __name__ == "__main__":
    asyncio.run(main())

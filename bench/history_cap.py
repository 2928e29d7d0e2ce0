"""Refresh cost per pair as history grows past the baseline window (issue: outage engine).

A refresh reads a pair's most recent readings only, up to six weeks of 15-minute buckets (4,232
rows with the margin), for the baseline and detection. So its cost grows with history only
until a pair has six weeks of it, then stays flat. 20 pairs, 1,000 to 16,000 readings each
(10 days to 166 days), one new reading each, then `Summaries.refresh`.

    python bench/history_cap.py      # about 1 minute
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.core.catalog import default_catalog  # noqa: E402
from bot.engine.refresh import Summaries  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.dirty import clear_dirty, dirty_pairs  # noqa: E402
from storage.imports import import_dataset  # noqa: E402
from storage.records import Dataset, Observation  # noqa: E402

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
BUCKET = timedelta(minutes=15)
PAIRS = 20
HISTORIES = (1_000, 4_000, 8_000, 16_000)


async def per_pair_ms(readings: int) -> float:
    catalog = default_catalog()
    pairs = [(s.key, r.code) for s in catalog.services[:4] for r in catalog.regions[:5]][:PAIRS]
    rng = random.Random(readings)
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "history.sqlite3")
        try:
            rows = [
                Observation(service, region, NOW - BUCKET * (i + 1), rng.randint(0, 12), "bench")
                for service, region in pairs
                for i in range(readings)
            ]
            await import_dataset(db, Dataset(observations=tuple(rows)))
            summaries = Summaries(db, catalog)
            await summaries.refresh(NOW)  # the first run prepares every pair
            async with db.transaction() as connection:
                await clear_dirty(connection, await dirty_pairs(db))
            fresh = [Observation(s, r, NOW, 5, "bench") for s, r in pairs]
            await import_dataset(db, Dataset(observations=tuple(fresh)))
            start = time.perf_counter()
            report = await summaries.refresh(NOW + timedelta(minutes=1))
            seconds = time.perf_counter() - start
            assert report.pairs == PAIRS, report
        finally:
            await db.close()
    return seconds * 1000 / PAIRS


def main() -> None:
    print(f"refresh of {PAIRS} dirty pairs vs readings per pair (15-minute buckets)")
    print("| readings per pair | days of history | ms per pair |")
    print("|---:|---:|---:|")
    costs = {}
    for readings in HISTORIES:
        costs[readings] = asyncio.run(per_pair_ms(readings))
        days = readings * 15 / 60 / 24
        print(f"| {readings:,} | {days:.0f} | {costs[readings]:.1f} |")
    beyond = costs[HISTORIES[-1]] / costs[HISTORIES[1]]
    print(
        f"past the six-week window (4,000 → 16,000 readings, 4× the history): "
        f"{beyond:.2f}× the time per pair  {'PASS (flat)' if beyond < 1.3 else 'FAIL'}"
    )


if __name__ == "__main__":
    main()

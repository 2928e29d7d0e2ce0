"""What the benchmarks share: the synthetic history, the databases built from it, and printing.

The history is the issue's: 1,000,000 observations over 10,000 (service, region) pairs, 100
readings per pair in 15-minute buckets ending just before `NOW`. The catalog has 17 services
and 250 regions, so 23 synthetic services (`svc000`…`svc022`) are added to reach 40 × 250 =
10,000 pairs; only the bench's `Catalog` knows them.

Counts are small and steady (0–12 per bucket) except for one outage four hours before `NOW`:
five services in 25 regions each (125 pairs) go to 60–400 reports for four buckets, so those
cards carry a resolved incident, a peak and "elsewhere, same period" figures, as after the
March 2025 X outage. Nothing is live at `NOW`, so a refresh handles exactly the pairs marked.

Databases are built once and kept in bench/out/ (git-ignored), with a small JSON manifest
saying what they hold; a benchmark that changes a database works on a copy.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import shutil
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python bench/x.py` from a checkout, installed or not
    sys.path.insert(0, str(ROOT))

from bot.core.catalog import Catalog, Service, default_catalog  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.imports import import_dataset  # noqa: E402
from storage.records import Dataset, Observation  # noqa: E402

OUT = ROOT / "bench" / "out"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
BUCKET = timedelta(minutes=15)
SOURCE = "Bench synthetic feed"
SERVICES = 40
READINGS = 100
# Bump when the generated history changes, so cached databases are rebuilt.
GENERATOR = 3
# The outage: these services, in the first OUTAGE_REGIONS regions (after `global`), for
# OUTAGE_BUCKETS buckets ending OUTAGE_END before NOW.
OUTAGE_SERVICES = ("x", "facebook", "youtube", "svc000", "svc001")
OUTAGE_REGIONS = 25
OUTAGE_BUCKETS = 4
OUTAGE_END = timedelta(hours=4)


# --------------------------------------------------------------------------- the data


def bench_catalog(services: int = SERVICES) -> Catalog:
    """The real catalog plus synthetic services, up to `services` services × 250 regions."""
    real = default_catalog()
    extra = [
        Service(f"svc{index:03d}", f"Synthetic {index:03d}")
        for index in range(max(0, services - len(real.services)))
    ]
    return Catalog([*real.services, *extra], real.regions)


def all_pairs(catalog: Catalog) -> list[tuple[str, str]]:
    return [(s.key, r.code) for s in catalog.services for r in catalog.regions]


def quiet_pairs(catalog: Catalog) -> list[tuple[str, str]]:
    """Pairs whose mark refreshes that pair alone.

    A mark on `global` also refreshes every region of its service, one on `internet` every
    service in its region (see Summaries._pairs_to_refresh); the benches mark these instead so
    that "N dirty pairs" means N pairs refreshed.
    """
    return [(s, r) for s, r in all_pairs(catalog) if s != "internet" and r != "global"]


def _count(service_index: int, region_index: int, bucket: int) -> int:
    """A steady 0–12, different per pair and bucket, reproducible without a RNG."""
    return (service_index * 7 + region_index * 13 + bucket * 5 + (bucket * bucket) % 7) % 13


def _outage_counts(region_index: int) -> tuple[int, ...]:
    peak = 120 + (region_index * 37) % 280
    return (max(60, peak // 3), peak, max(60, peak // 2), 60 + region_index % 20)


def observations(catalog: Catalog, per_pair: int = READINGS) -> Iterator[Observation]:
    """`per_pair` readings for every pair, oldest first within a pair, ending at NOW − 15 min."""
    times = [NOW - BUCKET * k for k in range(per_pair, 0, -1)]
    outage_last = NOW - OUTAGE_END
    outage_times = {outage_last - BUCKET * k: k for k in range(OUTAGE_BUCKETS)}
    for s_index, service in enumerate(catalog.services):
        spiky = service.key in OUTAGE_SERVICES
        for r_index, region in enumerate(catalog.regions):
            outage = _outage_counts(r_index) if spiky and 1 <= r_index <= OUTAGE_REGIONS else None
            for bucket, at in enumerate(times):
                count = _count(s_index, r_index, bucket)
                if outage is not None and at in outage_times:
                    count = outage[OUTAGE_BUCKETS - 1 - outage_times[at]]
                yield Observation(service.key, region.code, at, count, SOURCE)


def history(catalog: Catalog, per_pair: int = READINGS) -> Dataset:
    return Dataset(observations=tuple(observations(catalog, per_pair)))


def one_more_reading(pairs: Sequence[tuple[str, str]], at: datetime = NOW) -> Dataset:
    """A new reading for each pair: what marks them dirty, through the normal import path."""
    return Dataset(observations=tuple(Observation(s, r, at, 9, SOURCE) for s, r in pairs))


# --------------------------------------------------------------------------- databases


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")


def copy_database(source: Path, name: str) -> Path:
    """A scratch copy in bench/out/ that a benchmark may change freely."""
    target = OUT / f"scratch-{name}.sqlite3"
    remove_database(target)
    shutil.copyfile(source, target)
    return target


def _manifest(path: Path) -> Path:
    return path.with_suffix(".json")


def _cached(path: Path, wanted: dict, ignore: tuple[str, ...] = ()) -> bool:
    try:
        found = json.loads(_manifest(path).read_text())
    except (OSError, ValueError):
        return False
    kept = {key: value for key, value in found.items() if key not in ignore}
    return path.exists() and kept == wanted


def history_manifest(per_pair: int) -> dict:
    # Migrations are left out: Database.open brings an older file up to date.
    return {"generator": GENERATOR, "services": SERVICES, "per_pair": per_pair}


def history_path(per_pair: int = READINGS) -> Path:
    return OUT / f"history-{per_pair}.sqlite3"


def keep_history(built: Path, per_pair: int) -> Path:
    """Move a freshly built history database into the cache (import_rate does this)."""
    target = history_path(per_pair)
    remove_database(target)
    os.replace(built, target)
    _manifest(target).write_text(json.dumps(history_manifest(per_pair)))
    return target


async def build_history(path: Path, catalog: Catalog, per_pair: int) -> tuple[int, float]:
    """Import the history into a new database; (rows, seconds spent in import_dataset)."""
    remove_database(path)
    data = history(catalog, per_pair)
    db = await Database.open(path)
    try:
        start = time.perf_counter()
        counts = await import_dataset(db, data)
        seconds = time.perf_counter() - start
    finally:
        await db.close()
    return counts.observations, seconds


async def history_db(per_pair: int = READINGS, catalog: Catalog | None = None) -> Path:
    """The cached history database, built now if missing or stale."""
    target = history_path(per_pair)
    if _cached(target, history_manifest(per_pair)):
        return target
    OUT.mkdir(parents=True, exist_ok=True)
    building = OUT / f"building-{per_pair}.sqlite3"
    rows, seconds = await build_history(building, catalog or bench_catalog(), per_pair)
    note(f"built {target.name}: {rows:,} rows in {seconds:.1f} s")
    return keep_history(building, per_pair)


def source_fingerprint() -> str:
    """Changes when the code that makes summaries changes, so prepared databases are redone."""
    digest = hashlib.sha256()
    for folder in ("bot", "storage", "handlers"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.suffix in {".py", ".sql", ".json"} and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- warm state


async def prepared_db(per_pair: int = READINGS, budget: float = 90.0) -> Path:
    """The history after a full refresh: every pair's summary prepared, no dirty marks left.

    The refresh is the real `Summaries.refresh` (`budget` is kept for callers; the estimate is
    only reported). The file is kept across code changes (making it takes minutes);
    bench/run_all.sh deletes it first so a full run uses the current code's cards.
    """
    from bot.engine.refresh import Summaries

    source = await history_db(per_pair)
    target = OUT / f"prepared-{per_pair}.sqlite3"
    wanted = {**history_manifest(per_pair), "schema": _migrations()}
    if _cached(target, wanted, ignore=("code", "how", "seconds")):
        made = json.loads(_manifest(target).read_text())
        if made["code"] != source_fingerprint():
            note(f"{target.name} was prepared by other code than this; delete it to redo")
        return target
    catalog = bench_catalog()
    building = copy_database(source, f"preparing-{per_pair}")
    db = await Database.open(building)
    try:
        summaries = Summaries(db, catalog)
        per_pair_cost = await estimate_full_refresh(summaries, catalog, samples=3)
        estimate = per_pair_cost * len(all_pairs(catalog))
        note(f"preparing every summary (this code's own full refresh: ~{estimate:,.0f} s)")
        start = time.perf_counter()
        # The code's own full refresh (about 2 minutes since "elsewhere" is read in SQL);
        # FastElsewhere stood in for it while that read made it an hour.
        how = "real"
        report = await summaries.refresh(NOW)
        seconds = time.perf_counter() - start
    finally:
        await db.close()
    note(f"prepared {report.pairs:,} summaries in {seconds:.1f} s ({how})")
    remove_database(target)
    os.replace(building, target)
    made = {"code": source_fingerprint(), "how": how, "seconds": round(seconds, 1)}
    _manifest(target).write_text(json.dumps({**wanted, **made}))
    return target


def _migrations() -> list[str]:
    return sorted(p.name for p in (ROOT / "storage" / "migrations").glob("*.sql"))


async def check_cards(summaries, catalog: Catalog, pairs: list[tuple[str, str]]) -> None:
    """The warm-up's cards against the unpatched code's, for a pair with an outage and one not."""
    from bot.render.card import prepare_summary

    for service, region in pairs:
        summary, _ = await summaries.compute(catalog.service(service), catalog.region(region), NOW)
        fresh = prepare_summary(summary, now=NOW).card_utf8
        same = fresh == summaries.prepared[(service, region)].card_utf8
        verdict_text = "same as" if same else "DIFFERENT FROM"
        note(f"card {service}/{region}: {verdict_text} the unpatched code's")


async def estimate_full_refresh(summaries, catalog: Catalog, samples: int) -> float:
    """Seconds per pair of compute + render on a few pairs: a full refresh is ~that × pairs."""
    from bot.render.card import prepare_summary

    pairs = quiet_pairs(catalog)
    chosen = [pairs[(index * 7919) % len(pairs)] for index in range(samples)]
    start = time.perf_counter()
    for service, region in chosen:
        summary, _ = await summaries.compute(catalog.service(service), catalog.region(region), NOW)
        prepare_summary(summary, now=NOW)
    return (time.perf_counter() - start) / samples


# --------------------------------------------------------------------------- printing


def note(text: str) -> None:
    """Progress, on stderr, so stdout holds only the figures."""
    print(f"  … {text}", file=sys.stderr, flush=True)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def machine() -> str:
    return (
        f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.system()} {platform.release()}"
    )


def header(name: str, command: str) -> None:
    print(f"## {name}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"machine: {machine()}; load average at start {load}")
    print(f"command: {command}")


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, round(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]

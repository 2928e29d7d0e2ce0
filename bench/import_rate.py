"""Import rate: 1,000,000 observations over 10,000 pairs, target ≥ 100,000 rows/s.

(a) the storage path: `import_dataset` with ready `Observation` records, into a new database;
(b) the file path, as `outagebot import FILE` runs it (`bot.cli.main.import_file`): read, parse,
    validate and resolve names (`load_dataset_file`), then `import_dataset`; for a JSON file and
    a CSV file with the same rows.

Every import goes into a new database file. The one from (a) is kept as bench/out/
history-100.sqlite3 for the other benchmarks.

    python bench/import_rate.py            # about 2 minutes on 2 cores
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gc
import io
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import common
from common import NOW, OUT, READINGS, bench_catalog, header, note, verdict

import bot.cli.main
from bot.config.settings import Settings
from storage.database import Database
from storage.imports import import_dataset

TARGET = 100_000  # rows per second


class Timed:
    """Wraps a function (sync or async) and adds up the wall time spent in it."""

    def __init__(self, function: Callable) -> None:
        self.function = function
        self.seconds = 0.0

    def sync(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return self.function(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start

    async def coroutine(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return await self.function(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def write_json(path: Path, rows) -> None:
    records = [
        {
            "service": row.service,
            "region": row.region,
            "at": row.at.isoformat().replace("+00:00", "Z"),
            "count": row.count,
            "source": row.source,
        }
        for row in rows
    ]
    path.write_text(json.dumps({"observations": records}), encoding="utf-8")


def write_csv(path: Path, rows) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["service", "region", "at", "count", "source"])
    for row in rows:
        writer.writerow(
            [
                row.service,
                row.region,
                row.at.isoformat().replace("+00:00", "Z"),
                row.count,
                row.source,
            ]
        )
    path.write_text(buffer.getvalue(), encoding="utf-8")


async def storage_path(data, rows: int) -> tuple[float, Path]:
    building = OUT / "building-import.sqlite3"
    common.remove_database(building)
    db = await Database.open(building)
    try:
        start = time.perf_counter()
        counts = await import_dataset(db, data)
        seconds = time.perf_counter() - start
    finally:
        await db.close()
    assert counts.observations == rows, counts
    return seconds, building


async def file_path(path: Path, catalog, rows: int) -> dict[str, float]:
    """`outagebot import FILE` as bot.cli.main runs it, with time split into its two steps."""
    database = OUT / "scratch-file-import.sqlite3"
    common.remove_database(database)
    settings = Settings(_env_file=None, database=database)  # type: ignore[call-arg]
    validate = Timed(bot.cli.main.load_dataset_file)
    store = Timed(bot.cli.main.import_dataset)
    saved = (
        bot.cli.main.default_catalog,
        bot.cli.main.load_dataset_file,
        bot.cli.main.import_dataset,
    )
    # The synthetic services exist only in the bench's catalog.
    bot.cli.main.default_catalog = lambda: catalog
    bot.cli.main.load_dataset_file = validate.sync
    bot.cli.main.import_dataset = store.coroutine
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            start = time.perf_counter()
            status = await bot.cli.main.import_file(settings, path)
            total = time.perf_counter() - start
    finally:
        (
            bot.cli.main.default_catalog,
            bot.cli.main.load_dataset_file,
            bot.cli.main.import_dataset,
        ) = saved
    common.remove_database(database)
    if status != 0 or f"imported {rows} new observations" not in printed.getvalue():
        raise SystemExit(f"import of {path} failed: status {status}: {printed.getvalue()}")
    return {"total": total, "validation": validate.seconds, "sql": store.seconds}


def file_lines(kind: str, size: int, rows: int, split: dict[str, float]) -> bool:
    total, validation, sql = split["total"], split["validation"], split["sql"]
    rate = rows / total
    other = total - validation - sql
    print(
        f"{kind} file ({size / 1e6:.0f} MB): {rate:,.0f} rows/s, {total:.1f} s for {rows:,} rows"
        f" (target ≥ {TARGET:,}) {verdict(rate >= TARGET)}"
    )
    print(
        f"  {kind} time: validation {validation:.1f} s ({validation / total:.0%}), "
        f"SQL {sql:.1f} s ({sql / total:.0%}), other {other:.1f} s ({other / total:.0%}); "
        f"validation alone {rows / validation:,.0f} rows/s"
    )
    return rate >= TARGET


async def main() -> None:
    header("import_rate", "python bench/import_rate.py")
    OUT.mkdir(parents=True, exist_ok=True)
    catalog = bench_catalog()
    pairs = len(catalog.services) * len(catalog.regions)
    note("making 1,000,000 Observation records")
    start = time.perf_counter()
    data = common.history(catalog, READINGS)
    made = time.perf_counter() - start
    rows = len(data.observations)
    print(
        f"workload: {rows:,} observations, {pairs:,} pairs ({len(catalog.services)} services × "
        f"{len(catalog.regions)} regions), {READINGS} readings per pair, 15-minute buckets "
        f"ending {NOW:%Y-%m-%d %H:%M} UTC; one import, one transaction, new database each time"
    )
    print(f"making the records (not timed below): {made:.1f} s")

    note("(a) storage path")
    seconds, built = await storage_path(data, rows)
    storage_rate = rows / seconds
    passed = [storage_rate >= TARGET]
    print(
        f"(a) storage path, import_dataset: {storage_rate:,.0f} rows/s, {seconds:.1f} s"
        f" (target ≥ {TARGET:,}) {verdict(passed[0])}"
    )
    size = built.stat().st_size
    kept = common.keep_history(built, READINGS)
    print(f"    database: {size / 1e6:.0f} MB, {size / rows:.0f} B per row, kept as {kept.name}")

    # Both files are written first and the records dropped, so (b) runs in a process holding
    # what `outagebot import FILE` holds: with a million extra records alive, every pass of the
    # garbage collector (during SQL, too) walked them, which cost this bench ~1 s per file.
    json_file = OUT / "import-1m.json"
    note("(b) writing the JSON file")
    write_json(json_file, data.observations)
    csv_file = OUT / "import-1m.csv"
    note("(b) writing the CSV file")
    write_csv(csv_file, data.observations)
    del data
    gc.collect()
    os.sync()  # the files' 170 MB written back now, not while an import is being timed

    note("(b) importing the JSON file")
    split = await file_path(json_file, catalog, rows)
    passed.append(file_lines("(b) JSON", json_file.stat().st_size, rows, split))
    json_file.unlink()

    note("(b) importing the CSV file")
    split = await file_path(csv_file, catalog, rows)
    passed.append(file_lines("(b) CSV", csv_file.stat().st_size, rows, split))
    csv_file.unlink()
    print(f"import_rate: {sum(passed)} of {len(passed)} pass")


if __name__ == "__main__":
    asyncio.run(main())

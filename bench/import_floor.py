"""Import at the floor (issue 14): `outagebot import` of 300,000 rows beside the least any program
could do with them, as ratios measured in one run.

On a shared machine absolute rates vary threefold from one run to the next, so the import is
compared with a floor measured alongside it: the same rows read with the bare `csv` (or `json`)
module, each time turned into epoch seconds, and landed with one `sqlite3.executemany` in one
transaction, into the same `observations` schema with all its indexes. The floor validates
nothing, resolves no names, reports no problems and marks nothing for refresh.

Both are whole processes started the same way, timed from start to exit: `python -m bot.cli
import FILE` into a new database (it creates the schema itself, as a person's first import
does), and `python bench/import_bare.py` (the standard library only) into a copy of an empty
database that outagebot's migrations made. `--rounds` rounds alternate which goes first; the
ratio is floor time ÷ import time per round, and the median is printed (≥ 0.8 is the target).
CPU time (user + system) is printed beside wall time: on a shared machine it varies less.

    python bench/import_floor.py               # about 1 minute
    python bench/import_floor.py --rows 1000000 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from botapi import checkout_path, child_env
from common import OUT, header, note, observations, remove_database
from import_rate import write_csv, write_json

from bot.core.catalog import default_catalog

TARGET = 0.8
BARE = Path(__file__).with_name("import_bare.py")


# --------------------------------------------------------------------------- measuring


@dataclass
class Took:
    wall: float
    cpu: float  # user + system seconds of the process: steadier when others share the machine


def timed(command: list[str], env: dict[str, str]) -> tuple[Took, str]:
    os.sync()  # what earlier runs wrote goes to disk now, not during this one
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr}")
    cpu = after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime
    return Took(seconds, cpu), done.stdout


def run_import(path: Path, rows: int) -> Took:
    database = OUT / "floor-import.sqlite3"
    remove_database(database)
    env = child_env({"PYTHONPATH": checkout_path(), "OUTAGEBOT_DATABASE": str(database)})
    seconds, printed = timed([sys.executable, "-m", "bot.cli", "import", str(path)], env)
    if f"imported {rows} new observations" not in printed:
        raise SystemExit(f"outagebot import did not import {rows} rows: {printed}")
    remove_database(database)
    return seconds


def run_floor(kind: str, path: Path, template: Path, rows: int) -> Took:
    database = OUT / "floor-bare.sqlite3"
    remove_database(database)
    shutil.copyfile(template, database)
    command = [sys.executable, str(BARE), kind, str(path), str(database)]
    seconds, printed = timed(command, child_env({}))
    if printed.strip() != str(rows):
        raise SystemExit(f"the floor inserted {printed!r} rows, not {rows}")
    remove_database(database)
    return seconds


async def empty_schema(path: Path) -> None:
    from storage.database import Database

    remove_database(path)
    db = await Database.open(path)
    await db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000, help="observations (300,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, alternating order (3)")
    args = parser.parse_args()

    header("import_floor", " ".join(["python bench/import_floor.py", *sys.argv[1:]]))
    OUT.mkdir(parents=True, exist_ok=True)
    catalog = default_catalog()  # the import's own: every name in the file must resolve
    pairs = len(catalog.services) * len(catalog.regions)
    per_pair = -(-args.rows // pairs)
    data = list(islice(observations(catalog, per_pair), args.rows))
    files = {"csv": OUT / "floor.csv", "json": OUT / "floor.json"}
    write_csv(files["csv"], data)
    write_json(files["json"], data)
    del data
    template = OUT / "floor-template.sqlite3"
    asyncio.run(empty_schema(template))
    print(
        f"workload: {args.rows:,} observations over {pairs:,} pairs of the bundled catalog, "
        f"15-minute buckets; CSV {files['csv'].stat().st_size / 1e6:.0f} MB, "
        f"JSON {files['json'].stat().st_size / 1e6:.0f} MB"
    )
    for kind, path in files.items():
        ratios, cpu_ratios, imports, floors = [], [], [], []
        for round_index in range(args.rounds):
            steps = ["import", "floor"] if round_index % 2 == 0 else ["floor", "import"]
            took: dict[str, Took] = {}
            for step in steps:
                if step == "import":
                    took[step] = run_import(path, args.rows)
                else:
                    took[step] = run_floor(kind, path, template, args.rows)
            ratios.append(took["floor"].wall / took["import"].wall)
            cpu_ratios.append(took["floor"].cpu / took["import"].cpu)
            imports.append(took["import"])
            floors.append(took["floor"])
            note(f"{kind} round {round_index + 1}: {took}")
        ratio = statistics.median(ratios)
        ok = ratio >= TARGET
        print(
            f"{kind.upper()}: import at {ratio:.2f}x the floor's speed (target ≥ {TARGET}x) "
            f"{'PASS' if ok else 'FAIL'}; rounds {', '.join(f'{r:.2f}' for r in ratios)}"
        )
        print(
            f"  in CPU time: {statistics.median(cpu_ratios):.2f}x; rounds "
            + ", ".join(f"{r:.2f}" for r in cpu_ratios)
        )
        wall = statistics.median(t.wall for t in imports)
        floor_wall = statistics.median(t.wall for t in floors)
        print(
            f"  context: outagebot import {wall:.2f} s ({args.rows / wall:,.0f} rows/s, "
            f"{statistics.median(t.cpu for t in imports):.2f} CPU s), floor {floor_wall:.2f} s "
            f"({args.rows / floor_wall:,.0f} rows/s, "
            f"{statistics.median(t.cpu for t in floors):.2f} CPU s); medians, whole processes"
        )
        path.unlink()
    remove_database(template)
    return 0  # a missed target is a figure to report, not a broken run


if __name__ == "__main__":
    raise SystemExit(main())

"""The floor for bench/import_floor.py: observations from a CSV or JSON file into SQLite with the
standard library alone, doing only what any import must (read, convert, insert, commit).

It imports nothing from outagebot, so its process starts as fast as Python does.

    python bench/import_bare.py csv|json FILE DATABASE    # prints the rows inserted
"""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
from datetime import datetime
from pathlib import Path

INSERT = "INSERT INTO observations (service, region, at, count, source_id) VALUES (?, ?, ?, ?, ?)"


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def floor(kind: str, path: Path, database: Path) -> int:
    """The bare minimum: read, convert the time and the count, insert, commit."""
    if kind == "csv":
        with path.open(newline="", encoding="utf-8") as file:
            reader = csv.reader(file)
            next(reader)
            rows = [(s, r, epoch(at), int(c), source) for s, r, at, c, source in reader]
    else:
        with path.open(encoding="utf-8") as file:
            records = json.load(file)["observations"]
        rows = [
            (o["service"], o["region"], epoch(o["at"]), o["count"], o["source"]) for o in records
        ]
    connection = sqlite3.connect(database)
    with connection:  # one transaction
        names = {row[4] for row in rows}
        connection.executemany("INSERT INTO sources (name) VALUES (?)", [(n,) for n in names])
        ids = dict(connection.execute("SELECT name, id FROM sources"))
        connection.executemany(INSERT, [(*row[:4], ids[row[4]]) for row in rows])
    connection.close()
    return len(rows)


if __name__ == "__main__":
    kind, file, database = sys.argv[1:]
    print(floor(kind, Path(file), Path(database)))

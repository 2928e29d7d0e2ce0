"""PostgreSQL beside SQLite on the storage paths that move a million rows (issue 7).

(a) `import_dataset` of the benchmarks' 1M-observation history into a new SQLite file and into
    a new PostgreSQL database, in one run, as a ratio;
(b) `outagebot migrate-data` of that history (the SQLite file kept by import_rate) into a new
    PostgreSQL database: the copy and the verification timed apart, as the command runs them
    (`copy_database`, then `verify_copy`), and every table's count and checksum compared.

PostgreSQL is a throwaway cluster on 127.0.0.1 from the tests' `throwaway_cluster` (fsync off:
this measures the bot's side and the server's CPU, not a disk).

    python bench/postgres_storage.py
"""

from __future__ import annotations

import asyncio
import time

import asyncpg
import common
from common import OUT, READINGS, bench_catalog, header, note

from storage.database import Database
from storage.imports import import_dataset
from storage.transfer import DEFAULT_BATCH, copy_database, verify_copy
from tests.postgres import PostgresUnavailable, throwaway_cluster


async def fresh_database(admin_url: str, name: str) -> str:
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(
            f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
        )
    finally:
        await connection.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def timed_import(target: str, data) -> tuple[int, float]:
    db = await Database.open(target)
    try:
        start = time.perf_counter()
        counts = await import_dataset(db, data)
        return counts.observations, time.perf_counter() - start
    finally:
        await db.close()


async def timed_migration(source_path: str, target: str) -> tuple[float, float, int, bool]:
    """(copy seconds, verify seconds, rows, every table equal)."""
    source, copy = await Database.open(source_path), await Database.open(target)
    try:
        start = time.perf_counter()
        shapes = await copy_database(source, copy, batch=DEFAULT_BATCH)
        copied = time.perf_counter() - start
        checks = await verify_copy(source, copy, shapes, batch=DEFAULT_BATCH)
        verified = time.perf_counter() - start - copied
    finally:
        await copy.close()
        await source.close()
    rows = sum(check.source_rows for check in checks)
    return copied, verified, rows, all(check.ok for check in checks)


async def main() -> None:
    header("postgres_storage", "python bench/postgres_storage.py")
    catalog = bench_catalog()
    history = await common.history_db(READINGS, catalog)
    try:
        with throwaway_cluster() as admin_url:
            note("(a) importing the history into SQLite")
            data = common.history(catalog, READINGS)
            sqlite_file = OUT / "postgres-storage-import.sqlite3"
            common.remove_database(sqlite_file)
            rows, sqlite_seconds = await timed_import(str(sqlite_file), data)
            common.remove_database(sqlite_file)
            note("(a) importing the history into PostgreSQL")
            pg_rows, pg_seconds = await timed_import(
                await fresh_database(admin_url, "bench_import"), data
            )
            del data
            assert pg_rows == rows, (pg_rows, rows)
            sqlite_rate, pg_rate = rows / sqlite_seconds, rows / pg_seconds
            print(f"(a) import_dataset, {rows:,} observations:")
            print(f"    SQLite     {sqlite_rate:>9,.0f} rows/s ({sqlite_seconds:.1f} s)")
            print(f"    PostgreSQL {pg_rate:>9,.0f} rows/s ({pg_seconds:.1f} s)")
            print(f"    PostgreSQL / SQLite: {pg_rate / sqlite_rate:.2f}×")

            note("(b) migrate-data: the history into PostgreSQL")
            target = await fresh_database(admin_url, "bench_migrate")
            copied, verified, rows, equal = await timed_migration(str(history), target)
            size = history.stat().st_size
            print(f"(b) migrate-data {history.name} ({size / 1e6:.0f} MB, {rows:,} rows in all):")
            rate = rows / copied
            print(f"    copy   {copied:6.1f} s ({rate:,.0f} rows/s, {DEFAULT_BATCH:,} a batch)")
            print(f"    verify {verified:6.1f} s (counts and checksums, both sides)")
            print(f"    every table equal: {'yes' if equal else 'NO'}")
    except PostgresUnavailable as why:
        print(f"not measured: no PostgreSQL here ({why})")


if __name__ == "__main__":
    asyncio.run(main())

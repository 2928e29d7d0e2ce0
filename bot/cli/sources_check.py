"""`outagebot sources check`: try each configured source once and say what came back.

Nothing is stored: a check run by hand must not change what the running bot shows. Targets
are what the sources would watch now (read from the database), so the check exercises the
same requests the bot's jobs make.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bot.config.settings import ENV_PREFIX, Settings
from bot.core.catalog import Catalog, default_catalog
from bot.core.clock import Clock, SystemClock
from bot.runtime.source_jobs import setup_from
from bot.sources.runner import RunReport, check_source
from bot.sources.texts import check_table
from storage.database import Database
from storage.source_health import watched_pairs


async def check_sources(
    settings: Settings,
    path: Path | None,
    *,
    clock: Clock | None = None,
    catalog: Catalog | None = None,
) -> int:
    """Print the table; 0 when every source answered, 1 otherwise, 2 with no file to read."""
    path = path or settings.sources_file
    if path is None:
        print(
            f"outagebot: no sources file: set {ENV_PREFIX}SOURCES_FILE or pass --file "
            "(format: docs/sources.md)",
            file=sys.stderr,
        )
        return 2
    setup = setup_from(path, catalog or default_catalog())
    if setup.error is not None:
        print(f"{path}: not usable:", file=sys.stderr)
        for problem in setup.error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    clock = clock or SystemClock()
    db = await Database.open(settings.database)
    try:
        watched = await watched_pairs(db)
    finally:
        await db.close()
    reports: list[RunReport] = []
    for adapter in setup.adapters.values():
        targets = adapter.targets(watched)
        reports.append(await check_source(adapter, targets, clock.now()))
    print(check_table(reports))
    return 0 if all(report.ok for report in reports) else 1

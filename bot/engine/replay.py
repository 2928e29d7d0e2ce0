"""`outagebot replay FILE --speed 600`: watch a dataset's outage unfold in accelerated time.

Observations are fed one by one, in time order, into a fresh database; after each, the real
refresh runs with the clock set to that reading's time and the incident transitions it reports
are printed. Level changes and new peaks come from the same engine the bot uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.core.catalog import Catalog
from bot.core.detection import Thresholds
from bot.engine.refresh import Summaries, Transition
from bot.imports.dataset import load_dataset
from bot.render.timefmt import clock_pair
from storage.database import Database
from storage.imports import import_dataset
from storage.records import Dataset, Observation

Sleep = Callable[[float], Awaitable[None]]
Say = Callable[[str], None]

VERBS = {
    "opened": "incident opened",
    "escalated": "got worse",
    "resolved": "incident resolved",
    "reopened": "surged again (same incident)",
}


async def replay(
    path: Path,
    database: Path,
    catalog: Catalog,
    *,
    speed: float,
    max_wait: float = 5.0,
    say: Say = print,
    sleep: Sleep = asyncio.sleep,
    rules: Thresholds | None = None,
) -> int:
    """Replay into `database` (which must not exist yet); return how many transitions were seen."""
    dataset = load_dataset(path, catalog)
    timed = sorted(
        (row for row in dataset.observations if row.precision == "minute"),
        key=lambda row: row.at,
    )
    if not timed:
        say("nothing to replay: the file has no observations with a time")
        return 0
    db = await Database.open(database)
    try:
        rules = rules or Thresholds()
        summaries = Summaries(db, catalog, rules)
        # Everything but the timed readings lands first: events, restrictions, dated figures.
        await import_dataset(
            db,
            replace(
                dataset,
                observations=tuple(
                    row for row in dataset.observations if row.precision != "minute"
                ),
            ),
        )
        say(f"replaying {len(timed)} readings from {path.name} at {speed:g}× speed")
        seen = 0
        peaks: dict[tuple[str, str], int] = {}
        levels: dict[tuple[str, str], str] = {}
        previous = timed[0].at
        for row in timed:
            await sleep(min((row.at - previous).total_seconds() / speed, max_wait))
            previous = row.at
            await import_dataset(db, Dataset(observations=(row,)))
            report = await summaries.refresh(row.at)
            say(_reading_line(row, catalog))
            for transition in report.transitions:
                seen += 1
                say(_transition_line(transition, catalog))
            seen += _level_lines(summaries, row, levels, report.transitions, catalog, say)
            seen += _peak_lines(summaries, row, peaks, catalog, say)
        # Let the quiet rule resolve whatever is still open.
        end = timed[-1].at + rules.quiet_after + timedelta(minutes=1)
        report = await summaries.refresh(end)
        for transition in report.transitions:
            seen += 1
            say(_transition_line(transition, catalog))
        say(f"done: {seen} changes")
        return seen
    finally:
        await db.close()


def _where(service: str, region: str, catalog: Catalog) -> str:
    return f"{catalog.service(service).name} in {catalog.region(region).name}"


def _reading_line(row: Observation, catalog: Catalog) -> str:
    tz = catalog.region(row.region).timezone
    return (
        f"{clock_pair(row.at, tz, with_day=True)}  {_where(row.service, row.region, catalog)}:"
        f" {row.count:,} reports ({row.source})"
    )


def _transition_line(transition: Transition, catalog: Catalog) -> str:
    incident = transition.incident
    tz = catalog.region(incident.region).timezone
    where = _where(incident.service, incident.region, catalog)
    if transition.kind == "resolved":
        at = incident.resolved_at or incident.last_seen
        detail = f"peak {incident.peak_count:,} at {clock_pair(incident.peak_at, tz)}"
    elif transition.kind == "escalated":
        at = incident.last_seen
        detail = f"{transition.previous_level} → {incident.level}"
    else:
        at = incident.opened_at
        detail = f"level {incident.level}"
    return f"  ▶ {clock_pair(at, tz, with_day=True)}  {where}: {VERBS[transition.kind]}, {detail}"


def _level_lines(
    summaries: Summaries,
    row: Observation,
    levels: dict[tuple[str, str], str],
    transitions: tuple[Transition, ...],
    catalog: Catalog,
    say: Say,
) -> int:
    """Say when a pair's level moves without opening or closing an incident (136 → 45)."""
    pair = (row.service, row.region)
    prepared = summaries.prepared.get(pair)
    level = prepared.level if prepared else "normal"
    before = levels.get(pair, "normal")
    levels[pair] = level
    announced = any((t.incident.service, t.incident.region) == pair for t in transitions)
    if level == before or announced or level == "normal":
        return 0
    say(f"  ● {_where(*pair, catalog)}: level {before} → {level}")
    return 1


def _peak_lines(
    summaries: Summaries,
    row: Observation,
    peaks: dict[tuple[str, str], int],
    catalog: Catalog,
    say: Say,
) -> int:
    """Say when a live incident reaches a new peak: the moment people want to hear about."""
    pair = (row.service, row.region)
    if pair not in summaries.live:
        peaks.pop(pair, None)
        return 0
    if row.count > peaks.get(pair, 0):
        known = pair in peaks
        peaks[pair] = row.count
        if known:
            say(f"  ▲ {_where(*pair, catalog)}: new peak {row.count:,}")
            return 1
    return 0

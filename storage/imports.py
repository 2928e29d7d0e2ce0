"""Landing a validated dataset: one transaction, all or nothing, idempotent."""

from __future__ import annotations

from storage.citations import source_ids
from storage.database import Database
from storage.dirty import mark_dirty
from storage.events import insert_events
from storage.observations import insert_observations
from storage.records import Dataset, ImportCounts
from storage.restrictions import insert_restrictions


def _source_names(dataset: Dataset) -> set[str]:
    names = {row.source for row in dataset.observations}
    names |= {row.source for row in dataset.events}
    for restriction in dataset.restrictions:
        names |= set(restriction.sources)
        names |= {step.source for step in restriction.timeline}
    return names


async def import_dataset(db: Database, dataset: Dataset) -> ImportCounts:
    """Store everything in `dataset`; return how many records were new."""
    async with db.transaction() as connection:
        ids, new_sources = await source_ids(connection, _source_names(dataset), dataset.sources)
        observations = await insert_observations(connection, dataset.observations, ids)
        events = await insert_events(connection, dataset.events, ids)
        restrictions, steps = await insert_restrictions(connection, dataset.restrictions, ids)
        if observations or events or restrictions or steps:
            await mark_dirty(connection, _touched_pairs(dataset))
    return ImportCounts(observations, events, restrictions, steps, new_sources)


def _touched_pairs(dataset: Dataset) -> set[tuple[str, str]]:
    pairs = {(row.service, row.region) for row in dataset.observations}
    pairs |= {(row.service, row.region) for row in dataset.events}
    pairs |= {(row.service, row.region) for row in dataset.restrictions}
    return pairs


async def is_empty(db: Database) -> bool:
    row = await db.fetchone(
        "SELECT (SELECT COUNT(*) FROM observations) + (SELECT COUNT(*) FROM events)"
        " + (SELECT COUNT(*) FROM restrictions)"
    )
    return row is None or row[0] == 0

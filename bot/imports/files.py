"""Which reader a file needs, told by its name and header: one entry point for `import`."""

from __future__ import annotations

from pathlib import Path

from bot.core.catalog import Catalog
from bot.imports.dataset import embedded_dataset_path, load_csv_dataset, load_dataset
from bot.imports.stop import is_stop_file, load_stop_csv
from storage.database import Database
from storage.imports import ImportCounts, import_dataset, is_empty
from storage.records import Dataset


def load_dataset_file(path: Path, catalog: Catalog) -> Dataset:
    """`.csv` files hold observations as CSV; anything else is the JSON format."""
    if path.suffix.lower() == ".csv":
        if is_stop_file(path):  # Access Now's STOP tracker, told by its header
            return load_stop_csv(path, catalog)
        return load_csv_dataset(path, catalog)
    return load_dataset(path, catalog)


async def fill_when_empty(db: Database, catalog: Catalog) -> ImportCounts | None:
    """The one rule for the bundled dataset: whichever command opens a database that holds no
    observations, events or restrictions (run, console, ask, import) fills it first.

    One rule, so `outagebot import mine.csv` into a new file and `outagebot ask` on it later
    answer from the same data as `ask` first and `import` after.
    """
    if not await is_empty(db):
        return None
    return await import_dataset(db, load_dataset(embedded_dataset_path(), catalog))

"""Which reader a file needs, told by its name and header: one entry point for `import`."""

from __future__ import annotations

from pathlib import Path

from bot.core.catalog import Catalog
from bot.imports.dataset import load_csv_dataset, load_dataset
from bot.imports.stop import is_stop_file, load_stop_csv
from storage.records import Dataset


def load_dataset_file(path: Path, catalog: Catalog) -> Dataset:
    """`.csv` files hold observations as CSV; anything else is the JSON format."""
    if path.suffix.lower() == ".csv":
        if is_stop_file(path):  # Access Now's STOP tracker, told by its header
            return load_stop_csv(path, catalog)
        return load_csv_dataset(path, catalog)
    return load_dataset(path, catalog)

"""What every import reader shares: its error, name resolution, and CSV records by line.

The JSON/CSV observation reader (`dataset`) and the STOP tracker reader (`stop`) both report
problems as `line N, column <name>: …` and resolve names once per spelling; this is the one
place that does it, so neither reader depends on the other's internals.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from bot.core.catalog import Catalog, UnknownName

if TYPE_CHECKING:
    from _csv import Reader


class DatasetError(Exception):
    """A dataset that cannot be imported, with every problem located as `list[index].field`."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class _Resolved(dict[str, "str | UnknownName"]):
    """Spellings already resolved; a new one is resolved on first lookup and kept.

    A dict with __missing__ rather than a method: a known spelling is then found by a plain
    subscription, with no Python call, which is what a million rows mostly do.
    """

    def __init__(self, resolve: Callable[[str], str]) -> None:
        super().__init__()
        self.resolve = resolve

    def __missing__(self, text: str) -> str | UnknownName:
        try:
            found: str | UnknownName = self.resolve(text)
        except UnknownName as error:
            found = error
        self[text] = found
        return found


class NameResolver:
    """Turns any alias the catalog knows into its key, collecting every unknown name."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.problems: list[str] = []
        # A file names a few dozen services and regions a million times: resolve each once.
        # `services[text]` is the catalog's key for `text`, or why there is none (nothing is
        # noted: no location).
        self.services = _Resolved(lambda text: catalog.resolve_service(text).key)
        self.regions = _Resolved(lambda text: catalog.resolve_region(text).code)

    def service(self, text: str, where: str) -> str:
        return self._answer(self.services[text], text, where)

    def region(self, text: str, where: str) -> str:
        return self._answer(self.regions[text], text, where)

    def _answer(self, found: str | UnknownName, text: str, where: str) -> str:
        if isinstance(found, UnknownName):
            self.problems.append(f"{where}: {unknown_text(found)}")
            return text
        return found


def unknown_text(error: UnknownName) -> str:
    hint = f" (did you mean {', '.join(error.suggestions)}?)" if error.suggestions else ""
    return f"unknown {error.kind} {error.text!r}{hint}"


def csv_reader(text: str) -> Reader:
    """The one CSV dialect every import reads: the csv module's default, strictly quoted."""
    return csv.reader(io.StringIO(text, newline=""), strict=True)


def csv_records(text: str) -> list[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on; a quoted field may span lines."""
    reader = csv_reader(text)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if "".join(cells).strip():  # a row of empty cells is a blank line too
                records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        raise DatasetError([f"line {reader.line_num}: {error}"]) from None
    return records

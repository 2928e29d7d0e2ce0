"""The numbered migrations in storage/migrations/, and how one file splits into statements."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from importlib import resources

MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations() -> Iterable[tuple[int, str, str]]:
    folder = resources.files("storage") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def split_statements(sql: str) -> list[str]:
    """Statements of a migration file: executescript() would commit behind our transaction.

    sqlite3.complete_statement knows comments and string literals, so a `;` inside either does
    not end a statement.
    """
    statements: list[str] = []
    current: list[str] = []
    for line in sql.splitlines():
        current.append(line)
        text = "\n".join(current).strip()
        if text and sqlite3.complete_statement(text):
            statements.append(text)
            current = []
    rest = "\n".join(current).strip()
    if rest and not all(
        line.lstrip().startswith("--") for line in rest.splitlines() if line.strip()
    ):
        raise ValueError(f"migration ends with an incomplete statement: {rest[:80]!r}")
    return statements

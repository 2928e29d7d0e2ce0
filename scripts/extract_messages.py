#!/usr/bin/env python3
"""Regenerate the message template from the source and merge it into every language's catalog.

    python scripts/extract_messages.py

Extracts every `_("…")`, `N_("…")` and `ngettext("…", "…", n)` under bot/ and handlers/ into
bot/locale/messages.pot, then updates bot/locale/<lang>/LC_MESSAGES/messages.po for each language
in bot.render.i18n.LANGUAGES (creating it if missing): new messages arrive untranslated, messages no
longer in the source are dropped, translations are kept. A message whose English changed comes
back marked fuzzy with the old translation as a hint; the bot ignores fuzzy translations and
tests/test_i18n.py fails on them until a translator checks the text and removes the flag.

The same with Babel's command line: `pybabel extract -F babel.cfg -k N_ -o
bot/locale/messages.pot .` then `pybabel update -i bot/locale/messages.pot -d bot/locale
--ignore-obsolete` (docs/translating.md).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "handlers")
# `_` and `N_` take the message; `ngettext` the singular and the plural.
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
TEMPLATE = ROOT / "bot" / "locale" / "messages.pot"
# Header lines that change on every run without the messages changing.
_DATES = (b'"POT-Creation-Date:', b'"PO-Revision-Date:')


def messages() -> Iterator[tuple[str, int, str | tuple[str, ...]]]:
    """(path, line, message) for every message in the source; a plural message is a tuple."""
    for directory in SOURCES:
        found = extract_from_dir(
            ROOT / directory, method_map=[("**.py", "python")], keywords=KEYWORDS
        )
        for filename, lineno, message, _comments, _context in found:
            yield f"{directory}/{filename}", lineno, message


def template() -> Catalog:
    catalog = Catalog(project="outagebot", copyright_holder="outagebot", fuzzy=False)
    for path, lineno, message in messages():
        catalog.add(message, locations=[(path, lineno)])
    return catalog


def _render(catalog: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, ignore_obsolete=True, include_lineno=False)
    return buffer.getvalue()


def _write(path: Path, content: bytes) -> bool:
    """Write unless only the dates would change; whether the file changed."""

    def significant(text: bytes) -> list[bytes]:
        return [line for line in text.splitlines() if not line.startswith(_DATES)]

    if path.exists() and significant(path.read_bytes()) == significant(content):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return True


def update(language: str, pot: Catalog) -> Path:
    path = ROOT / "bot" / "locale" / language / "LC_MESSAGES" / "messages.po"
    if path.exists():
        with path.open("rb") as file:
            catalog = read_po(file, locale=language)
    else:
        catalog = Catalog(
            locale=language, project="outagebot", copyright_holder="outagebot", fuzzy=False
        )
    catalog.update(pot, update_creation_date=False)
    _write(path, _render(catalog))
    return path


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from bot.render.i18n import DEFAULT, LANGUAGES

    pot = template()
    _write(TEMPLATE, _render(pot))
    print(f"{TEMPLATE.relative_to(ROOT)}: {len(pot)} messages")
    for language in LANGUAGES:
        if language == DEFAULT:
            continue
        path = update(language, pot)
        with path.open("rb") as file:
            catalog = read_po(file, locale=language)
        missing = [m for m in catalog if m.id and (not _translated(m) or m.fuzzy)]
        print(f"{path.relative_to(ROOT)}: {len(missing)} to translate or check")
    return 0


def _translated(message) -> bool:
    if isinstance(message.string, tuple | list):
        return all(message.string)
    return bool(message.string)


if __name__ == "__main__":
    raise SystemExit(main())

"""Languages: which one a reply is in, and the translated strings, numbers and dates for it.

The language is set once per update (from the person's choice, else Telegram's language_code)
in a context variable, so the pure rendering functions can ask for `_("…")` without every
signature carrying a language. Catalogs are gettext .po files under bot/locale, read with Babel
at first use: no compiled .mo binaries to keep in step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import cache
from gettext import c2py
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

DEFAULT = "en"
LANGUAGES = {"en": "English", "ur": "اردو (Urdu)"}
LOCALE_DIR = Path(__file__).parents[1] / "locale"

# Unicode "first strong isolate" and "pop directional isolate": a Latin name (X, Downdetector)
# inside right-to-left Urdu keeps its own direction and does not reorder the sentence around it.
FSI, PDI = "\u2068", "\u2069"

_language: ContextVar[str] = ContextVar("language", default=DEFAULT)


def current() -> str:
    return _language.get()


def language_for(code: str | None) -> str:
    """The supported language closest to Telegram's language_code (e.g. 'ur-PK' → 'ur')."""
    base = (code or "").split("-")[0].split("_")[0].lower()
    return base if base in LANGUAGES else DEFAULT


def set_language(language: str) -> None:
    _language.set(language if language in LANGUAGES else DEFAULT)


@contextmanager
def use_language(language: str) -> Iterator[None]:
    token = _language.set(language if language in LANGUAGES else DEFAULT)
    try:
        yield
    finally:
        _language.reset(token)


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


PluralIndex = Callable[[int], int]


def _english_plural(n: int) -> int:
    return 0 if n == 1 else 1


@cache
def _messages(
    language: str,
) -> tuple[dict[str, str], dict[str, tuple[str, ...]], PluralIndex]:
    """(singular msgid → text, singular msgid → plural forms, count → form index).

    Untranslated and fuzzy messages are left out. The index comes from the catalog's own
    Plural-Forms header (gettext's C expression, compiled by the standard library), so a
    language with three or six forms picks the right one.
    """
    path = po_path(language)
    if not path.exists():
        return {}, {}, _english_plural
    with path.open("rb") as file:
        messages = read_po(file, locale=language)
    single: dict[str, str] = {}
    plural: dict[str, tuple[str, ...]] = {}
    for message in messages:
        # A fuzzy translation is a guess left by a catalog update: not shown until checked.
        if not message.id or not message.string or message.fuzzy:
            continue
        if isinstance(message.id, str) and isinstance(message.string, str):
            single[message.id] = message.string
        elif isinstance(message.id, tuple | list) and all(message.string):
            plural[str(message.id[0])] = tuple(str(form) for form in message.string)
    return single, plural, c2py(messages.plural_expr)


def catalog(language: str) -> dict[str, str]:
    return _messages(language)[0]


def _(message: str) -> str:
    """The message in the current language (English is the message id itself)."""
    language = _language.get()
    if language == DEFAULT:
        return message
    return catalog(language).get(message, message)


def N_(message: str) -> str:
    """Marks a module-level string for extraction; it is translated where it is used."""
    return message


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form the current language's plural rule picks for `count`; English when untranslated."""
    language = _language.get()
    if language != DEFAULT:
        _single, plurals, index_for = _messages(language)
        forms = plurals.get(singular)
        if forms:
            return forms[min(index_for(count), len(forms) - 1)]
    return singular if _english_plural(count) == 0 else plural


def region_name(code: str, english: str) -> str:
    """A country's name in the current language (CLDR via Babel), else its English name."""
    language = _language.get()
    if language == DEFAULT or len(code) != 2:
        return english if language == DEFAULT or code != "global" else _("Global")
    return locale_of(language).territories.get(code.upper(), english)


@cache
def locale_of(language: str) -> Locale:
    """Parsed once: Babel's parse costs more than the formatting it serves."""
    return Locale.parse(language)


@cache
def _rtl(language: str) -> bool:
    return locale_of(language).character_order == "right-to-left"


def is_rtl() -> bool:
    return _rtl(_language.get())


def name(text: str) -> str:
    """A proper name (a service, a country, a source) isolated inside right-to-left text."""
    return f"{FSI}{text}{PDI}" if is_rtl() else text


def number(value: float, *, decimals: int = 0) -> str:
    """40,000 in English; grouped as the current locale writes numbers."""
    language = _language.get()
    if language == DEFAULT:  # the hot path: cards are prepared in English
        return f"{value:,.{decimals}f}"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=locale_of(language))


def percent(share: float) -> str:
    return format_percent(share, locale=locale_of(_language.get()))


def day(value: date) -> str:
    """Mon 10 Mar 2025 / پیر 10 مارچ 2025."""
    return format_date(value, "EEE d MMM y", locale=locale_of(_language.get()))


def month_year(value: date) -> str:
    return format_date(value, "MMMM y", locale=locale_of(_language.get()))


def day_month_year(value: date) -> str:
    return format_date(value, "d MMMM y", locale=locale_of(_language.get()))


def month_short(value: date) -> str:
    return format_date(value, "MMM y", locale=locale_of(_language.get()))

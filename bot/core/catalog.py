"""The services and regions people can ask about.

Everything users type (``twitter``, ``côte d'ivoire``, ``UAE``) is folded to one spelling
here, so handlers and storage only ever see stable ids: ``Service.key`` and ``Region.code``.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib.resources import files
from typing import Final, Generic, TypeVar

import pycountry
from rapidfuzz import fuzz, process

__all__ = [
    "GLOBAL",
    "Catalog",
    "Region",
    "Service",
    "UnknownName",
    "default_catalog",
    "normalise",
]


@dataclass(frozen=True, slots=True)
class Service:
    key: str
    name: str
    aliases: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name: str
    timezone: str
    aliases: tuple[str, ...] = ()


class UnknownName(Exception):
    """Carries what was asked and up to three suggestions.

    One error path can then say "did you mean" for services and regions alike.
    """

    def __init__(self, kind: str, text: str, suggestions: list[str]) -> None:
        # Passing the constructor arguments on keeps the exception picklable.
        super().__init__(kind, text, suggestions)
        self.kind = kind
        self.text = text
        self.suggestions = list(suggestions)[:3]

    def __str__(self) -> str:
        message = f"unknown {self.kind} {self.text!r}"
        if self.suggestions:
            message += f"; did you mean {', '.join(self.suggestions)}?"
        return message


def normalise(text: str) -> str:
    """NFKC then casefold, strip accents (NFKD minus combining marks), trim surrounding
    quotes/punctuation and collapse whitespace, so 'Côte d’Ivoire', 'cote d'ivoire' and
    '  PAKISTAN ' match. Note NFKC turns '𝕏' into 'X'.

    Punctuation inside the text also becomes a space, not only at the ends: people write
    ``d'``, ``d’`` and ``d `` for the same thing, and ``Guinea-Bissau`` with or without the hyphen.
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    stripped = "".join(
        ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch)
    )
    spaced = "".join(" " if unicodedata.category(ch).startswith("P") else ch for ch in stripped)
    return " ".join(spaced.split())


def _compact(text: str) -> str:
    """Lookup key. Spaces go too, so 'tik tok', 'you tube' and 'U.S.A.' need no alias each."""
    return normalise(text).replace(" ", "")


# --------------------------------------------------------------------------- services

SERVICES: Final[tuple[Service, ...]] = (
    Service(
        "x",
        "X",
        ("twitter", "twitter.com", "x.com", "𝕏", "formerly twitter"),
        ("x.com", "twitter.com"),
    ),
    Service("facebook", "Facebook", ("fb", "facebook.com", "meta"), ("facebook.com",)),
    Service("instagram", "Instagram", ("ig", "insta", "instagram.com"), ("instagram.com",)),
    Service(
        "whatsapp",
        "WhatsApp",
        ("wa", "whats app", "whatsapp.com"),
        ("whatsapp.com", "whatsapp.net"),
    ),
    Service("youtube", "YouTube", ("yt", "youtube.com"), ("youtube.com", "youtu.be")),
    Service("telegram", "Telegram", ("tg", "t.me", "telegram.org"), ("telegram.org", "t.me")),
    Service("tiktok", "TikTok", ("tik tok", "tiktok.com"), ("tiktok.com",)),
    Service("signal", "Signal", ("signal.org",), ("signal.org",)),
    Service("snapchat", "Snapchat", ("snap", "snapchat.com"), ("snapchat.com",)),
    # Threads moved from threads.net to threads.com in 2025; both still answer.
    Service("threads", "Threads", ("threads.net", "threads.com"), ("threads.net", "threads.com")),
    Service("discord", "Discord", ("discord.com",), ("discord.com", "discord.gg")),
    Service("google", "Google", ("google.com", "google search"), ("google.com",)),
    Service("reddit", "Reddit", ("reddit.com",), ("reddit.com",)),
    Service("netflix", "Netflix", ("netflix.com",), ("netflix.com",)),
    Service("spotify", "Spotify", ("spotify.com",), ("spotify.com",)),
    Service(
        "chatgpt",
        "ChatGPT",
        ("chat gpt", "openai", "chatgpt.com"),
        ("chatgpt.com", "openai.com"),
    ),
    # Country-wide shutdowns are reported against this pseudo-service; it has no one domain.
    Service("internet", "Internet", ("whole internet", "connectivity", "network")),
)


# --------------------------------------------------------------------------- regions

GLOBAL: Final = Region(
    "global", "Global", "UTC", ("world", "worldwide", "everywhere", "international", "all")
)

# Where pycountry's name and common_name both read like a register entry rather than what
# people say ("Russian Federation", "Congo, The Democratic Republic of the"). The pycountry
# spellings stay matchable as aliases.
_DISPLAY_NAMES: Final[dict[str, str]] = {
    "RU": "Russia",
    "CD": "DR Congo",
    "PS": "Palestine",
    "FM": "Micronesia",
    "VA": "Vatican City",
    "VG": "British Virgin Islands",
    "VI": "U.S. Virgin Islands",
}

# What people call countries that ISO does not: short forms, former names, parts for wholes.
_REGION_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "GB": (
        "UK",
        "Britain",
        "Great Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
    ),
    "US": ("USA", "US", "America", "United States of America"),
    "AE": ("UAE", "Emirates"),
    "RU": ("Russia",),
    "KR": ("South Korea", "Republic of Korea"),
    "KP": ("North Korea", "DPRK"),
    "IR": ("Iran",),
    "VN": ("Vietnam",),
    "TR": ("Turkey", "Türkiye"),
    "CZ": ("Czechia", "Czech Republic", "Czech"),
    "CI": ("Ivory Coast",),
    "MM": ("Burma",),
    "NL": ("Holland", "The Netherlands"),
    "SY": ("Syria",),
    "LA": ("Laos",),
    "BO": ("Bolivia",),
    "VE": ("Venezuela",),
    "TZ": ("Tanzania",),
    "MD": ("Moldova",),
    "PS": ("Palestine", "Palestinian Territories", "Gaza", "West Bank"),
    "VA": ("Vatican", "Vatican City", "Holy See"),
    "MO": ("Macau",),
    "CD": ("DRC", "Democratic Republic of the Congo", "Congo-Kinshasa"),
    "CG": ("Congo-Brazzaville",),
    "CV": ("Cape Verde",),
    "SZ": ("Swaziland",),
    "MK": ("Macedonia",),
    "TL": ("East Timor",),
    "BN": ("Brunei",),
    "BA": ("Bosnia",),
    "TT": ("Trinidad",),
    "FM": ("Micronesia",),
    "VG": ("BVI",),
    "VI": ("USVI",),
}

# zone.tab's header defers to zone1970.tab's, which says rows are ordered "by an order within
# the country that (1) makes some geographical sense, and (2) puts the most populous
# timezones first, where that does not contradict (1)". Geography wins, so for a few countries
# the first row is an outlying zone: Lord Howe for Australia, Noronha for Brazil, St Johns for
# Canada, Kaliningrad for Russia, Samarkand for Uzbekistan, Gaza rather than the more populous
# West Bank for Palestine, and Crimea (on Moscow time) for Ukraine. These pick the zone most
# residents use; each must still be one of that country's rows in zone.tab, otherwise the
# table's first row is used.
_PREFERRED_ZONES: Final[dict[str, str]] = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "UZ": "Asia/Tashkent",
    "PS": "Asia/Hebron",
}


def _tz_rows(name: str) -> Iterator[list[str]]:
    text = files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line and not line.startswith("#"):
            yield line.split("\t")


def country_zones() -> dict[str, tuple[str, ...]]:
    """Every zone tzdata lists per country, in the table's order, for choosing one per country.

    zone.tab has one country per row; zone1970.tab only adds countries zone.tab lacks, since its
    rows share one zone among several countries and so say less about any one of them.
    """
    zones: dict[str, list[str]] = {}
    for code, _coords, zone, *_ in _tz_rows("zone.tab"):
        zones.setdefault(code, []).append(zone)
    listed = set(zones)
    for codes, _coords, zone, *_ in _tz_rows("zone1970.tab"):
        for code in codes.split(","):
            if code not in listed:
                zones.setdefault(code, []).append(zone)
    return {code: tuple(names) for code, names in zones.items()}


def _pick_zone(code: str, zones: dict[str, tuple[str, ...]]) -> str:
    candidates = zones.get(code, ())
    preferred = _PREFERRED_ZONES.get(code)
    if preferred is not None and preferred in candidates:
        return preferred
    # Uninhabited territories with no row at all (Bouvet Island, Heard Island) land here.
    return candidates[0] if candidates else "UTC"


def build_regions() -> tuple[Region, ...]:
    """All ISO 3166-1 countries plus ``global``; reads pycountry's and tzdata's tables."""
    zones = country_zones()
    regions = [GLOBAL]
    for country in pycountry.countries:
        code = country.alpha_2
        common = getattr(country, "common_name", None)
        official = getattr(country, "official_name", None)
        name = _DISPLAY_NAMES.get(code) or common or country.name
        candidates = (
            country.alpha_3,
            country.name,
            common,
            official,
            *_REGION_ALIASES.get(code, ()),
        )
        aliases = _dedupe(a for a in candidates if a and _compact(a) != _compact(name))
        regions.append(Region(code, name, _pick_zone(code, zones), aliases))
    return tuple(regions)


def _dedupe(names: Iterable[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    kept: list[str] = []
    for name in names:
        key = _compact(name)
        if key and key not in seen:
            seen.add(key)
            kept.append(name)
    return tuple(kept)


# --------------------------------------------------------------------------- catalog

E = TypeVar("E", Service, Region)

# Measured on 1,000 one-edit typos of region names, and on 80 hand-written misspellings and
# partial names ("saudi", "st kitts", "kingdom united"); top-1 correct, and wrong names shown:
#   WRatio, cutoff 60:                  typos 97.3%, hand-written 93.8%, 1.9 wrong per query
#   0.8*WRatio + 0.2*QRatio, cutoff 60,
#   nothing more than 10 below the best: typos 99.2%, hand-written 95.0%, 0.1-0.2 wrong per query
# WRatio finds partial names; the QRatio share breaks its many ties ("chila" is 80 against both
# Chile and China) towards whole-string similarity, and the margin drops the long official names
# that WRatio's partial matching scores ~85 for any shared word ("Hashemite Kingdom of Jordan"
# for "untied kingdom").
_SCORE_CUTOFF: Final = 60
_SCORE_MARGIN: Final = 10
# Codes and two-letter aliases ("ki", "pk", "fb") are left out of fuzzy matching: WRatio
# scores a short choice found inside a longer query at 90, so "untied kingdom" would
# suggest Kiribati. Exact lookups still accept them.
_MIN_FUZZY_LENGTH: Final = 4


def _score(query: str, choice: str, **_: object) -> float:
    return 0.8 * fuzz.WRatio(query, choice) + 0.2 * fuzz.QRatio(query, choice)


class _Index(Generic[E]):
    """Exact and fuzzy lookup over one kind, refusing a name that would point at two things."""

    def __init__(self, kind: str, entries: Iterable[tuple[E, str, Iterable[str]]]) -> None:
        self.kind = kind
        self.exact: dict[str, E] = {}
        self.display: list[str] = []
        self.choices: list[str] = []
        self.owner: list[int] = []  # choices[i] belongs to display[owner[i]]
        for entity, display, names in entries:
            owner = len(self.display)
            self.display.append(display)
            fuzzy_seen: set[str] = set()
            for name in names:
                key = _compact(name)
                if not key:
                    continue
                other = self.exact.setdefault(key, entity)
                if other is not entity:
                    raise ValueError(f"{kind} name {name!r} is used by both {other} and {entity}")
                spaced = normalise(name)
                if len(key) >= _MIN_FUZZY_LENGTH and spaced not in fuzzy_seen:
                    fuzzy_seen.add(spaced)
                    self.choices.append(spaced)
                    self.owner.append(owner)

    def find(self, text: str) -> E | None:
        return self.exact.get(_compact(text))

    def suggest(self, text: str, limit: int) -> list[str]:
        query = normalise(text)
        if not query or limit <= 0:
            return []
        hits = process.extract(
            query, self.choices, scorer=_score, score_cutoff=_SCORE_CUTOFF, limit=None
        )
        owners: list[int] = []
        for _choice, score, position in hits:
            if score < hits[0][1] - _SCORE_MARGIN or len(owners) == limit:
                break
            if self.owner[position] not in owners:
                owners.append(self.owner[position])
        return [self.display[owner] for owner in owners]

    def resolve(self, text: str) -> E:
        found = self.find(text)
        if found is None:
            raise UnknownName(self.kind, text, self.suggest(text, 3))
        return found


def _by_id(kind: str, items: Iterable[E], ident: Callable[[E], str]) -> dict[str, E]:
    table: dict[str, E] = {}
    for item in items:
        if table.setdefault(ident(item), item) is not item:
            raise ValueError(f"duplicate {kind} id {ident(item)!r}")
    return table


class Catalog:
    """Lookups by stable id for storage, and forgiving lookups by name for what users type."""

    def __init__(self, services: Iterable[Service], regions: Iterable[Region]) -> None:
        self.services: tuple[Service, ...] = tuple(services)
        self.regions: tuple[Region, ...] = tuple(regions)
        self._service_by_key = _by_id("service", self.services, lambda s: s.key)
        self._region_by_code = _by_id("region", self.regions, lambda r: r.code)
        self._services = _Index(
            "service", ((s, s.name, (s.key, s.name, *s.aliases, *s.domains)) for s in self.services)
        )
        self._regions = _Index(
            "region", ((r, r.name, (r.code, r.name, *r.aliases)) for r in self.regions)
        )

    def service(self, key: str) -> Service:
        return self._service_by_key[key]

    def region(self, code: str) -> Region:
        return self._region_by_code[code]

    def find_service(self, text: str) -> Service | None:
        return self._services.find(text)

    def find_region(self, text: str) -> Region | None:
        return self._regions.find(text)

    def resolve_service(self, text: str) -> Service:
        return self._services.resolve(text)

    def resolve_region(self, text: str) -> Region:
        return self._regions.resolve(text)

    def suggest_services(self, text: str, limit: int = 3) -> list[str]:
        return self._services.suggest(text, limit)

    def suggest_regions(self, text: str, limit: int = 3) -> list[str]:
        return self._regions.suggest(text, limit)


@functools.cache
def default_catalog() -> Catalog:
    """Built on first use, not at import, so importing the module reads no package data."""
    return Catalog(SERVICES, build_regions())

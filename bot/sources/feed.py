"""RSS and Atom feeds: what newsrooms and watchdogs write about outages, matched to pairs.

An item becomes an event on a pair when its title or summary names one of the pair's service
(the catalog's name or an alias) and its country (name, alias or code), each as a whole word,
and, if the source has `keywords`, one of those too. The event states the item's title,
attributed to the feed and linked to the item, at the time it was published (else updated).

The body is fetched like every other source's (deadline, size cap, retries) and only then
handed to feedparser, wrapped in a stream: given a string feedparser would fetch a URL or open
a file by that name itself. Feed elements as feedparser names them (its docs, reference-entry-*:
`entries[i].title`, `.link`, `.summary`, `.published_parsed` from RSS `pubDate` or Atom
`published`, `.updated_parsed` from Atom `updated`, both UTC 9-tuples; `feed.title`; `bozo`,
`bozo_exception`), over RSS 2.0 (RSS Advisory Board specification) and Atom (RFC 4287).
"""

from __future__ import annotations

import asyncio
import calendar
import html
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

import feedparser
import httpx

from bot.core.catalog import Catalog, normalise
from bot.sources.adapter import ConfigProblem, SourceConfig, SourceResult
from bot.sources.fetching import Fetcher, SourceError
from bot.sources.options import capped, chosen_pairs
from storage.records import Dataset, Event
from storage.source_health import Pair, Watched

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
ATTRIBUTIONS = ("name", "feed")
TITLE_LIMIT = 300
# Names this short are initials or codes (X, PK, UAE): matched only in capitals, as written,
# so "x" in "5 x 7" or a lower-case "pk" is not a service or a country. Short lower-case
# aliases (fb, ig, wa) are chat shorthand and too ambiguous in prose to match at all.
SHORT = 3
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_TAG = re.compile(r"<[^>]*>")


class FeedAdapter:
    kind: ClassVar[str] = "feed"
    default_url: ClassVar[str | None] = None  # every feed has its own address
    exact_url: ClassVar[bool] = True  # the feed itself, used as written (`…/feed/`)
    option_names: ClassVar[frozenset[str]] = frozenset({"keywords", "attribution"})

    def __init__(self, config: SourceConfig, catalog: Catalog) -> None:
        self.config = config
        self.catalog = catalog
        keywords = config.options.get("keywords", [])
        if not isinstance(keywords, list) or not all(
            isinstance(k, str) and k.strip() for k in keywords
        ):
            raise ConfigProblem('keywords must be a list of words, e.g. ["outage", "blocked"]')
        self.keywords = tuple(k.strip() for k in keywords)
        attribution = config.options.get("attribution", "name")
        if attribution not in ATTRIBUTIONS:
            raise ConfigProblem(
                f'attribution must be "name" (the source\'s name) or "feed" (the feed\'s own '
                f"title), not {attribution!r}"
            )
        self.attribution = attribution

    def targets(self, watched: Watched) -> list[Pair]:
        pairs = chosen_pairs(self.config, watched, self.catalog)
        countries = {(s, r) for s, r in pairs if len(r) == 2}  # not `global`: see docs
        return capped(countries, self.config.max_targets)

    async def collect(
        self, fetcher: Fetcher, targets: Sequence[Pair], now: datetime
    ) -> SourceResult:
        url = self.config.url
        body = await fetcher.get_bytes(url, None, headers={"Accept": FEED_ACCEPT})
        try:
            # feedparser is pure Python and slow on a large feed: off the loop, so replies
            # and other sources go on meanwhile.
            events = await asyncio.to_thread(
                feed_events,
                body,
                url=url,
                pairs=targets,
                catalog=self.catalog,
                source=self.config.name,
                keywords=self.keywords,
                attribution=self.attribution,
            )
        except SourceError as error:
            error.detail = error.detail or f"GET {httpx.URL(url).path or '/'}"
            raise
        return SourceResult(Dataset(events=tuple(events)))


# ------------------------------------------------------------------------ pure parsing


@dataclass(frozen=True, slots=True)
class FeedItem:
    title: str  # plain text, whitespace collapsed
    text: str  # title and summary as plain text, for matching
    link: str | None
    at: datetime | None  # published, else updated, in UTC


@dataclass(frozen=True, slots=True)
class Feed:
    title: str | None
    items: tuple[FeedItem, ...]


def parse_feed(body: bytes, url: str | None = None) -> Feed:
    """RSS or Atom bytes as items (those with a title). A body feedparser could make nothing
    of (not well-formed and no item, or no feed at all) raises SourceError: that is a broken
    source, not news.
    """
    # A stream, never bytes or str: feedparser would treat those as a file name or a URL.
    # The fetch keeps only the body, so the headers are stated: application/xml lets the XML
    # declaration (or a BOM) name the encoding, and without any Content-Type feedparser flags
    # even a well-formed feed as bozo. Content-Location resolves relative item links.
    headers = {"content-type": "application/xml"}
    if url:
        headers["content-location"] = url
    parsed = feedparser.parse(io.BytesIO(body), response_headers=headers)
    entries = parsed.get("entries") or []
    items = tuple(item for entry in entries if (item := _item(entry)) is not None)
    # Not well-formed but with items is common and harmless (a stray & in a title); not
    # well-formed with nothing usable (cut off before its first whole item) is a broken feed.
    if parsed.get("bozo") and not items:
        problem = parsed.get("bozo_exception")
        said = f"{type(problem).__name__}: {problem}" if problem is not None else "not well-formed"
        raise SourceError(f"malformed feed ({said[:160]})")
    if not entries and not parsed.get("version"):
        raise SourceError("not an RSS or Atom feed")
    feed = parsed.get("feed") or {}
    return Feed(title=_plain(feed.get("title"), feed.get("title_detail")) or None, items=items)


def _item(entry: Any) -> FeedItem | None:
    title = _plain(entry.get("title"), entry.get("title_detail"))
    if not title:
        return None
    summary = _plain(entry.get("summary"), entry.get("summary_detail"))
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    link = entry.get("link")
    return FeedItem(
        title=_shorten(title),
        text=f"{title}\n{summary}",
        link=link.strip() if isinstance(link, str) and link.strip() else None,
        at=datetime.fromtimestamp(calendar.timegm(stamp), UTC) if stamp else None,
    )


def _plain(value: object, detail: object) -> str:
    if not isinstance(value, str):
        return ""
    kind = detail.get("type") if isinstance(detail, dict) else None
    if kind in HTML_TYPES:
        value = html.unescape(_TAG.sub(" ", value))
    return " ".join(value.split())


def _shorten(text: str, limit: int = TITLE_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


@dataclass(frozen=True, slots=True)
class Names:
    """Ways of writing one thing, ready to be looked for as whole words."""

    phrases: tuple[str, ...]  # normalised (case, accents, punctuation folded)
    capitals: tuple[re.Pattern[str], ...]  # short names, as written

    def found_in(self, text: MatchText) -> bool:
        return any(f" {p} " in text.folded for p in self.phrases) or any(
            c.search(text.raw) for c in self.capitals
        )


@dataclass(frozen=True, slots=True)
class MatchText:
    raw: str  # NFKC: 𝕏 reads as X
    folded: str  # normalised and padded, so " pakistan " finds whole words only

    @classmethod
    def of(cls, text: str) -> MatchText:
        return cls(unicodedata.normalize("NFKC", text), f" {normalise(text)} ")


def names(spellings: Iterable[str], *, short_in_capitals: bool = True) -> Names:
    phrases: list[str] = []
    capitals: list[re.Pattern[str]] = []
    for spelling in spellings:
        written = unicodedata.normalize("NFKC", spelling).strip()
        folded = normalise(written)
        if not folded:
            continue
        if short_in_capitals and len(folded.replace(" ", "")) <= SHORT:
            if written.isupper():
                # Not inside a word or a hyphenated one: "SpaceX", "X-ray", "PK-based".
                capitals.append(re.compile(rf"(?<![\w-]){re.escape(written)}(?![\w-])"))
            continue
        phrases.append(folded)
    return Names(tuple(dict.fromkeys(phrases)), tuple(dict.fromkeys(capitals)))


def pair_names(catalog: Catalog, pairs: Sequence[Pair]) -> dict[Pair, tuple[Names, Names]]:
    """The service's name and aliases, and the country's name, aliases and code, per pair."""
    found = {}
    for service_key, region_code in pairs:
        try:
            service = catalog.service(service_key)
            region = catalog.region(region_code)
        except KeyError:
            continue
        found[(service_key, region_code)] = (
            names((service.name, *service.aliases)),
            names((region.name, *region.aliases, region.code)),
        )
    return found


def matching_events(
    feed: Feed,
    *,
    pairs: Sequence[Pair],
    catalog: Catalog,
    source: str,
    keywords: Sequence[str] = (),
) -> list[Event]:
    """An event per item and pair it names; items without a date are left out (a timeline
    cannot place them, and "now" would be a date the feed never gave)."""
    wanted = pair_names(catalog, pairs)
    required = names(keywords, short_in_capitals=False) if keywords else None
    events = []
    for item in feed.items:
        if item.at is None:
            continue
        text = MatchText.of(item.text)
        if required is not None and not required.found_in(text):
            continue
        for (service, region), (service_names, region_names) in sorted(wanted.items()):
            if service_names.found_in(text) and region_names.found_in(text):
                events.append(
                    Event(
                        service=service,
                        region=region,
                        at=item.at,
                        kind="report",
                        text=item.title,
                        source=source,
                        url=item.link,
                    )
                )
    return list(dict.fromkeys(events))


def feed_events(
    body: bytes,
    *,
    url: str | None,
    pairs: Sequence[Pair],
    catalog: Catalog,
    source: str,
    keywords: Sequence[str] = (),
    attribution: str = "name",
) -> list[Event]:
    """The feed's bytes straight to events: `attribution` "feed" credits the feed's own title
    (the source's name when it has none), "name" the source's name."""
    feed = parse_feed(body, url)
    credited = (feed.title or source) if attribution == "feed" else source
    return matching_events(feed, pairs=pairs, catalog=catalog, source=credited, keywords=keywords)

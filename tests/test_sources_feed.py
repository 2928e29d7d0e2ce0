"""RSS and Atom feeds: items matched to pairs on recorded feeds, and runs against a local server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from source_server import FakeAPI, Reply, fixture

from bot.core.catalog import default_catalog
from bot.core.clock import FixedClock
from bot.sources import ADAPTERS, build_adapter
from bot.sources.config import SourcesFileError, parse_sources
from bot.sources.feed import MatchText, feed_events, matching_events, names, parse_feed
from bot.sources.fetching import SourceError
from bot.sources.runner import run_source
from storage.database import Database
from storage.dirty import dirty_pairs
from storage.source_health import Watched, health_of

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RSS = "feed_rss20_indus_daily.xml"
ATOM = "feed_atom10_rights_monitor.xml"
PAIRS = [("internet", "IR"), ("internet", "PK"), ("whatsapp", "IR"), ("x", "PK")]


def events(name: str, pairs=PAIRS, **options: object):
    return feed_events(
        fixture(name),
        url="https://indus-daily.example/technology/feed/",
        pairs=pairs,
        catalog=default_catalog(),
        source="Indus Daily",
        **options,  # type: ignore[arg-type]
    )


# ------------------------------------------------------------------ parsing


def test_rss_items_naming_a_service_and_a_country_become_reports():
    found = events(RSS)
    assert [(e.service, e.region, e.at, e.text) for e in found] == [
        (
            "x",
            "PK",
            datetime(2026, 11, 21, 9, 5, tzinfo=UTC),  # 14:05 +0500, in UTC
            "X remains inaccessible in Pakistan as PTA cites national security",
        ),
        (
            "internet",
            "PK",
            datetime(2026, 11, 20, 18, 10, tzinfo=UTC),
            "Mobile data suspended in Quetta & Turbat ahead of rally",  # trimmed, unescaped
        ),
        (
            "whatsapp",
            "IR",
            datetime(2026, 11, 19, 20, 0, tzinfo=UTC),
            "WhatsApp voice calls failing for users in Iran, monitors say",
        ),
    ]
    assert {(e.kind, e.source) for e in found} == {("report", "Indus Daily")}
    assert (
        found[0].url == "https://indus-daily.example/2026/11/21/x-remains-inaccessible-in-pakistan/"
    )


def test_undated_items_and_near_misses_are_left_out():
    titles = {e.text for e in events(RSS)}
    # no pubDate: a timeline cannot place it
    assert "X outage: what we know so far about the disruption in Pakistan" not in titles
    # "SpaceX" is not X, "Pakistani" is not Pakistan; cricket names no service
    assert not any("SpaceX" in t or "T20" in t for t in titles)


def test_atom_entries_use_published_else_updated_and_aliases_and_codes_match():
    found = events(ATOM)
    assert [(e.service, e.region, e.at, e.text) for e in found] == [
        (
            "x",
            "PK",
            datetime(2026, 11, 19, 5, 30, tzinfo=UTC),  # published, not updated
            "Sindh High Court asks PTA to explain the Twitter block",  # HTML title as text
        ),
        (
            "internet",
            "IR",
            datetime(2026, 11, 21, 8, 0, tzinfo=UTC),  # only updated
            "Weekly digest: internet shutdowns in PK and IR",
        ),
        ("internet", "PK", datetime(2026, 11, 21, 8, 0, tzinfo=UTC), found[2].text),
    ]
    assert found[0].url == "https://rights-monitor.example/2026/11/shc-pta-twitter-block/"
    assert not any("x-ray" in e.text for e in found)  # lower case, hyphenated: not X


def test_only_the_pairs_watched_are_matched():
    assert [(e.service, e.region) for e in events(RSS, pairs=[("x", "PK")])] == [("x", "PK")]
    assert events(RSS, pairs=[("x", "IR")]) == []


def test_keywords_narrow_what_counts():
    found = events(RSS, keywords=["inaccessible", "blocked", "suspended"])
    assert [e.text for e in found] == [
        "X remains inaccessible in Pakistan as PTA cites national security",
        "Mobile data suspended in Quetta & Turbat ahead of rally",
    ]


def test_attribution_to_the_feeds_own_title():
    found = events(ATOM, attribution="feed")
    assert {e.source for e in found} == {"Digital Rights Monitor"}


def test_short_names_match_only_in_capitals_as_whole_words():
    x = names(["X", "twitter", "x.com", "𝕏", "fb"])
    assert x.found_in(MatchText.of("X is down"))
    assert x.found_in(MatchText.of("𝕏 is down"))
    assert x.found_in(MatchText.of("Is x.com down?"))
    assert x.found_in(MatchText.of("TWITTER DOWN"))
    for text in ("5 x 7", "SpaceX launch", "X-ray", "fb is down", "Twitterverse"):
        assert not x.found_in(MatchText.of(text)), text
    pakistan = names(["Pakistan", "PAK", "PK", "Islamic Republic of Pakistan"])
    assert pakistan.found_in(MatchText.of("Outage in PK today"))
    assert pakistan.found_in(MatchText.of("Pakistan's regulator"))
    assert not pakistan.found_in(MatchText.of("pk is lower case, Pakistani is another word"))


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"<?xml version='1.0'?><rss version='2.0'><channel><title>Broken", "malformed feed"),
        (b"<html><body><h1>502 Bad Gateway</h1></body></html>", "not an RSS or Atom feed"),
        (b'{"items": []}', "malformed feed"),
        (b"", "not an RSS or Atom feed"),
    ],
)
def test_a_body_that_is_no_feed_is_an_error(body, complaint):
    with pytest.raises(SourceError, match=complaint):
        parse_feed(body)


def test_a_feed_not_quite_well_formed_but_with_items_is_read():
    body = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>Loose</title>"
        b"<item><title>X & WhatsApp blocked in Pakistan</title>"
        b"<pubDate>Sat, 21 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"
    )
    feed = parse_feed(body)
    assert [item.title for item in feed.items] == ["X & WhatsApp blocked in Pakistan"]
    found = matching_events(
        feed, pairs=[("whatsapp", "PK"), ("x", "PK")], catalog=default_catalog(), source="L"
    )
    assert [(e.service, e.url) for e in found] == [("whatsapp", None), ("x", None)]


def test_a_valid_feed_with_nothing_in_it_is_fine():
    feed = parse_feed(
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>Quiet</title>"
        b"<link>https://q.example/</link><description>-</description>"
        b"</channel></rss>"
    )
    assert feed.title == "Quiet" and feed.items == ()
    assert matching_events(feed, pairs=PAIRS, catalog=default_catalog(), source="Q") == []


def test_a_body_that_names_a_file_is_not_opened(tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_bytes(fixture(RSS))
    with pytest.raises(SourceError):
        parse_feed(str(secret).encode())  # as a body: a file name is no feed


def test_relative_links_resolve_against_the_feeds_address():
    body = (
        b"<?xml version='1.0'?><rss version='2.0'><channel><title>R</title>"
        b"<item><title>X blocked in Pakistan</title><link>/news/1</link>"
        b"<pubDate>Sat, 21 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"
    )
    [event] = feed_events(
        body,
        url="https://r.example/feeds/all.xml",
        pairs=[("x", "PK")],
        catalog=default_catalog(),
        source="R",
    )
    assert event.url == "https://r.example/news/1"


# ------------------------------------------------------------------ the sources file


def parse(entry: dict):
    return parse_sources({"sources": [entry]}, Path("t.toml"), default_catalog(), ADAPTERS)


def test_a_feed_needs_its_url_and_checks_its_own_options():
    with pytest.raises(SourcesFileError) as raised:
        parse_sources(
            {
                "sources": [
                    {"name": "A", "kind": "feed"},
                    {
                        "name": "B",
                        "kind": "feed",
                        "url": "https://b.example/rss",
                        "attribution": "author",
                    },
                    {
                        "name": "C",
                        "kind": "feed",
                        "url": "https://c.example/rss",
                        "keywords": "outage",
                    },
                ]
            },
            Path("t.toml"),
            default_catalog(),
            ADAPTERS,
        )
    first, second, third = raised.value.problems
    assert "source 'A': needs url" in first
    assert 'attribution must be "name"' in second
    assert "keywords must be a list of words" in third


def test_a_feed_follows_countries_not_global():
    loaded = parse(
        {
            "name": "Indus Daily",
            "kind": "feed",
            "url": "https://indus-daily.example/technology/feed/",
            "services": ["twitter", "internet"],
            "regions": ["Pakistan", "global"],
        }
    )
    feed = build_adapter(loaded.sources[0], default_catalog())
    assert feed.targets(Watched(frozenset(), frozenset())) == [("internet", "PK"), ("x", "PK")]


# ------------------------------------------------------------------ runs


@pytest.fixture
def api():
    with FakeAPI() as server:
        yield server


PATH = "/technology/feed/"


def feed(api: FakeAPI, **defaults: object):
    settings = {"timeout": 0.3, "retries": 0, "backoff": 1, **defaults}
    entry = {
        "name": "Indus Daily",
        "kind": "feed",
        "url": f"{api.url}{PATH}",
        "services": ["x", "internet", "whatsapp"],
        "regions": ["PK", "IR"],
    }
    loaded = parse_sources(
        {"defaults": settings, "sources": [entry]}, Path("t.toml"), default_catalog(), ADAPTERS
    )
    return build_adapter(loaded.sources[0], default_catalog())


def rss(name: str = RSS) -> Reply:
    return Reply(body=fixture(name), content_type="application/rss+xml; charset=utf-8")


async def snapshot(db: Database) -> dict[str, object]:
    counts = {t: await db.scalar(f"SELECT COUNT(*) FROM {t}") for t in ("events", "sources")}
    texts = [r[0] for r in await db.fetchall("SELECT text FROM events ORDER BY at, text")]
    marked = sorted({(s, r) for s, r, _ in await dirty_pairs(db)})
    return {**counts, "texts": texts, "dirty": marked}


async def test_a_run_lands_the_matching_items_once(db, api):
    api.route(PATH, rss())
    report = await run_source(db, feed(api), FixedClock(NOW))
    assert report.ok, report
    assert report.summary == "3 events"
    rows = await db.fetchall(
        "SELECT e.service, e.region, e.kind, s.name FROM events e JOIN sources s"
        " ON s.id = e.source_id ORDER BY e.at"
    )
    assert [tuple(r) for r in rows] == [
        ("whatsapp", "IR", "report", "Indus Daily"),
        ("internet", "PK", "report", "Indus Daily"),
        ("x", "PK", "report", "Indus Daily"),
    ]
    again = await run_source(db, feed(api), FixedClock(NOW))
    assert again.ok and again.new is not None and again.new.total == 0


MALFORMED = b"<?xml version='1.0'?><rss version='2.0'><channel><title>Indus Daily</title><item>"
BAD_DAYS = {
    "server error": (Reply(status=500, body=b"<html>Internal Server Error</html>"), {}, "HTTP 500"),
    "malformed XML": (Reply(body=MALFORMED), {}, "malformed feed"),
    "not a feed": (
        Reply(body=b"<html><body>Log in to continue</body></html>"),
        {},
        "not an RSS or Atom feed",
    ),
    "oversize, declared": (rss(), {"max_bytes": 1000}, "response larger than 1,000 bytes"),
    "oversize, streamed": (
        Reply(body=fixture(RSS), declare_length=False),
        {"max_bytes": 1000},
        "response larger than 1,000 bytes",
    ),
    "timeout": (Reply(hang=True), {}, "timed out after 0.3 s"),
}


@pytest.mark.parametrize("case", list(BAD_DAYS))
async def test_a_bad_day_marks_the_source_unhealthy_and_writes_nothing(db, api, case):
    reply, defaults, reason = BAD_DAYS[case]
    api.route(PATH, rss(ATOM))
    clock = FixedClock(NOW)
    assert (await run_source(db, feed(api), clock)).ok
    before = await snapshot(db)
    api.route(PATH, reply)
    clock.advance(minutes=10)
    report = await run_source(db, feed(api, **defaults), clock)
    assert not report.ok
    assert report.error is not None and report.error.startswith(reason)
    assert await snapshot(db) == before
    health = await health_of(db, "Indus Daily")
    assert health is not None and health.failing and health.last_error == report.error
    assert health.last_success_at == NOW and health.failing_since == clock.now()
    assert f"GET {PATH}" in (health.last_error_detail or "")
    # and the feed's next good answer lands as usual
    api.route(PATH, rss())
    clock.advance(minutes=10)
    assert (await run_source(db, feed(api), clock)).ok
    assert not (await health_of(db, "Indus Daily")).failing  # type: ignore[union-attr]

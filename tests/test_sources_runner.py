"""Running sources against a local server: what lands, and what a bad day leaves behind (nothing).

Every response comes from tests/fixtures/sources through a server on 127.0.0.1; timeouts are a
fraction of a second and retries' backoff goes through a recording sleep, so nothing waits.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from source_server import FakeAPI, Reply, fixture, ok

from bot.core.catalog import default_catalog
from bot.core.clock import FixedClock
from bot.render.signals import render_source_lines
from bot.sources import ADAPTERS, build_adapter
from bot.sources.adapter import SourceResult
from bot.sources.config import parse_sources
from bot.sources.evidence import source_lines_for
from bot.sources.options import chosen_pairs
from bot.sources.runner import run_source
from storage.database import Database
from storage.dirty import dirty_pairs
from storage.source_health import Watched, health_of, record_success, watched_pairs
from storage.subscriptions import subscribe

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SIGNALS_PK = "/v2/signals/raw/country/PK"
EVENTS = "/v2/outages/events"


def adapter(entry: dict, **defaults: object):
    settings = {"timeout": 0.3, "retries": 0, "backoff": 1, **defaults}
    loaded = parse_sources(
        {"defaults": settings, "sources": [entry]}, Path("t.toml"), default_catalog(), ADAPTERS
    )
    return build_adapter(loaded.sources[0], default_catalog())


def ioda(api: FakeAPI, **defaults: object):
    return adapter(
        {"name": "IODA", "kind": "ioda", "url": f"{api.url}/v2", "regions": ["PK"]}, **defaults
    )


def statuspage(api: FakeAPI, **defaults: object):
    entry = {"name": "Discord status page", "kind": "statuspage", "url": api.url}
    return adapter({**entry, "service": "discord"}, **defaults)


def serve_ioda(api: FakeAPI, events: Reply | None = None, **signals: Reply) -> None:
    api.route(EVENTS, events or ok("ioda_outages_events_PK.json"))
    replies = {s: ok(f"ioda_signals_{s}_PK.json") for s in ("bgp", "ping-slash24", "merit-nt")}
    replies.update({k.replace("_", "-"): v for k, v in signals.items()})
    api.route_by(SIGNALS_PK, "datasource", replies)


def serve_statuspage(api: FakeAPI) -> None:
    api.route("/api/v2/summary.json", ok("statuspage_summary.json"))
    api.route("/api/v2/incidents.json", ok("statuspage_incidents.json"))


@pytest.fixture
def api():
    with FakeAPI() as server:
        yield server


async def snapshot(db: Database) -> dict[str, object]:
    """Everything a source could have written, except its own health row."""
    tables = ["events", "observations", "connectivity_readings", "blocking_readings", "sources"]
    counts = {t: await db.scalar(f"SELECT COUNT(*) FROM {t}") for t in tables}
    readings = await db.fetchall("SELECT * FROM connectivity_readings ORDER BY region, signal")
    # Which pairs are marked, not how often: a failure re-marks them on purpose, so their cards
    # can say the source is failing.
    marked = sorted({(s, r) for s, r, _ in await dirty_pairs(db)})
    return {**counts, "readings": [tuple(r) for r in readings], "dirty": marked}


async def test_ioda_run_lands_events_and_readings_and_marks_the_country_for_refresh(db, api):
    serve_ioda(api)
    report = await run_source(db, ioda(api), FixedClock(NOW))
    assert report.ok, report
    assert report.summary == "2 events, 3 readings"
    assert report.new is not None and report.new.events == 2
    rows = await db.fetchall("SELECT service, region, text FROM events ORDER BY at")
    assert [tuple(r) for r in rows] == [
        ("internet", "PK", "IODA: networks answering active probes dropped 25% below normal"),
        ("internet", "PK", "IODA: BGP-visible networks dropped 40% below normal"),
    ]
    # the internet pair, and every card in Pakistan ('*'), which shows the connectivity line
    assert {(s, r) for s, r, _ in await dirty_pairs(db)} == {("internet", "PK"), ("*", "PK")}
    asked = api.asked[EVENTS][0]
    assert (asked["entityType"], asked["entityCode"]) == (["country"], ["PK"])
    assert asked["until"] == [str(int(NOW.timestamp()))]
    assert sorted(q["datasource"][0] for q in api.asked[SIGNALS_PK]) == [
        "bgp",
        "merit-nt",
        "ping-slash24",
    ]
    health = await health_of(db, "IODA")
    assert health is not None and not health.failing and health.items_last_run == 5


async def test_a_second_run_adds_nothing_new(db, api):
    serve_ioda(api)
    await run_source(db, ioda(api), FixedClock(NOW))
    again = await run_source(db, ioda(api), FixedClock(NOW + timedelta(minutes=10)))
    assert again.ok and again.new is not None and again.new.total == 0
    assert await db.scalar("SELECT COUNT(*) FROM connectivity_readings") == 3


NEW_OUTAGE = {
    "location": "country/PK",
    "start": 1795345200,
    "duration": 600,
    "uncertainty": None,
    "method": "median",
    "datasource": "merit-nt",
    "status": 0,
    "fraction": None,
    "score": 12.5,
    "location_name": "Pakistan",
    "overlaps_window": False,
}


def events_with_a_new_outage() -> Reply:
    body = json.loads(fixture("ioda_outages_events_PK.json"))
    body["data"].append(NEW_OUTAGE)
    return Reply(body=json.dumps(body).encode())


BAD_DAYS = {
    "timeout": (Reply(hang=True), {}, "timed out after 0.3 s"),
    "server error": (Reply(status=500, body=b"oops"), {}, "HTTP 500"),
    "malformed JSON": (Reply(body=b'{"data": [[{"values": [1, 2,'), {}, "malformed JSON"),
    "oversize, declared": (
        ok("ioda_signals_merit-nt_PK.json"),
        {"max_bytes": 3000},
        "response larger than 3,000 bytes",
    ),
    "oversize, streamed": (
        Reply(body=fixture("ioda_signals_merit-nt_PK.json"), declare_length=False),
        {"max_bytes": 3000},
        "response larger than 3,000 bytes",
    ),
    "slow drip": (Reply(body=b'{"data": []}' * 10, drip=0.05), {}, "timed out after 0.3 s"),
    "wrong shape": (Reply(body=b'{"data": {"bgp": 1}}'), {}, "unexpected response"),
}


@pytest.mark.parametrize("case", list(BAD_DAYS))
async def test_a_bad_day_marks_the_source_unhealthy_and_writes_nothing(db, api, case):
    reply, defaults, reason = BAD_DAYS[case]
    serve_ioda(api)
    serve_statuspage(api)
    clock = FixedClock(NOW)
    assert (await run_source(db, ioda(api), clock)).ok
    before = await snapshot(db)
    # The events endpoint now has news, but a later request of the same run fails: the news
    # must not land half-way.
    serve_ioda(api, events=events_with_a_new_outage(), merit_nt=reply)
    clock.advance(minutes=10)
    report = await run_source(db, ioda(api, **defaults), clock)
    assert not report.ok
    assert report.error is not None and report.error.startswith(reason)
    assert await snapshot(db) == before
    health = await health_of(db, "IODA")
    assert health is not None and health.failing and health.last_error == report.error
    assert health.last_success_at == NOW and health.failing_since == clock.now()
    assert "GET /v2/signals/raw/country/PK" in (health.last_error_detail or "")
    # Another source in the same database is not affected.
    other = await run_source(db, statuspage(api), clock)
    assert other.ok and other.new is not None and other.new.events == 4


async def test_failures_in_a_row_are_counted_from_the_first(db, api):
    api.route("/api/v2/summary.json", Reply(status=502))
    clock = FixedClock(NOW)
    await run_source(db, statuspage(api), clock)
    clock.advance(minutes=5)
    await run_source(db, statuspage(api), clock)
    health = await health_of(db, "Discord status page")
    assert health is not None
    assert (health.consecutive_failures, health.failing_since) == (2, NOW)
    assert health.last_success_at is None


async def test_retries_back_off_with_jitter_then_succeed(db, api):
    api.route(
        "/api/v2/summary.json", Reply(status=503), Reply(status=429), ok("statuspage_summary.json")
    )
    api.route("/api/v2/incidents.json", ok("statuspage_incidents.json"))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    report = await run_source(
        db, statuspage(api, retries=2, backoff=1), FixedClock(NOW), sleep=sleep
    )
    assert report.ok, report
    assert api.hits("/api/v2/summary.json") == 3
    assert len(waits) == 2 and 1 <= waits[0] < 2 and 2 <= waits[1] < 3


async def test_a_refusal_is_not_retried(db, api):
    api.route("/api/v2/summary.json", Reply(status=404))
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    report = await run_source(db, statuspage(api, retries=3), FixedClock(NOW), sleep=sleep)
    assert report.error == "HTTP 404"
    assert api.hits("/api/v2/summary.json") == 1 and waits == []


async def test_an_adapters_own_bug_is_recorded_not_raised(db, api):
    broken = statuspage(api)

    async def collect(fetcher, targets, now) -> SourceResult:
        raise KeyError("components")

    broken.collect = collect  # type: ignore[method-assign]
    report = await run_source(db, broken, FixedClock(NOW))
    assert report.error == "internal error (KeyError)"
    health = await health_of(db, "Discord status page")
    assert health is not None and health.failing


async def test_status_page_statements_land_on_the_services_global_timeline(db, api):
    serve_statuspage(api)
    report = await run_source(db, statuspage(api), FixedClock(NOW))
    assert report.ok
    rows = await db.fetchall(
        "SELECT e.service, e.region, e.kind, s.name FROM events e JOIN sources s"
        " ON s.id = e.source_id"
    )
    assert {tuple(r) for r in rows} == {("discord", "global", "statement", "Discord status page")}


async def test_ooni_watches_what_people_subscribed_to_and_the_card_reads_it(db, api):
    await subscribe(
        db,
        7,
        kind="private",
        title=None,
        service="x",
        region="PK",
        min_level="elevated",
        at=NOW,
        limit=20,
    )
    api.route_by(
        "/api/v1/aggregation",
        "domain",
        {
            "twitter.com": ok("ooni_aggregation_twitter.com_PK.json"),
            "x.com": ok("ooni_aggregation_x.com_PK.json"),
        },
    )
    api.route("/api/v1/incidents/search", ok("ooni_incidents_search_PK.json"))
    source = adapter({"name": "OONI", "kind": "ooni", "url": api.url})
    report = await run_source(db, source, FixedClock(NOW))
    assert report.ok, report
    assert report.targets == (("x", "PK"),)
    asked = api.asked["/api/v1/aggregation"][0]
    assert (asked["probe_cc"], asked["test_name"]) == (["PK"], ["web_connectivity"])
    assert (asked["since"], asked["until"]) == (["2026-11-15"], ["2026-11-22"])
    assert api.asked["/api/v1/incidents/search"][0]["country_code"] == ["PK"]
    texts = [r[0] for r in await db.fetchall("SELECT text FROM events ORDER BY at, text")]
    assert texts == [
        "OONI finding: Pakistan blocked X (formerly Twitter)",
        "OONI: twitter.com anomalous in 87% of 1,234 measurements in PK, last 7 days",
        "OONI: x.com anomalous in 30% of 990 measurements in PK, last 7 days",
    ]
    findings = await source_lines_for(db, "x", "PK")
    assert render_source_lines(findings, "Asia/Karachi", NOW) == [
        "🔒 OONI: twitter.com anomalous in 87% of 1,234 measurements, last 7 days"
    ]


async def test_card_lines_name_the_failing_source_behind_a_pair(db, api):
    serve_ioda(api)
    clock = FixedClock(NOW)
    await run_source(db, ioda(api), clock)
    findings = await source_lines_for(db, "x", "PK")
    assert render_source_lines(findings, "Asia/Karachi", NOW) == [
        "🌐 Internet in Pakistan: BGP-visible networks 40% below normal since 14:00 PKT "
        "(09:00 UTC) (IODA, 5 min ago)"
    ]
    serve_ioda(api, events=Reply(status=500))
    clock.advance(hours=3)
    await run_source(db, ioda(api), clock)
    findings = await source_lines_for(db, "youtube", "PK")  # IODA covers every service there
    assert [f.source for f in findings.failing] == ["IODA"]
    lines = render_source_lines(findings, "Asia/Karachi", clock.now())
    assert lines[-1] == "⚠️ IODA data stale: last success 3 h ago (HTTP 500)"
    assert (await source_lines_for(db, "x", "GB")).failing == []


async def test_wildcard_subscriptions_expand_to_regions_on_record_not_the_world(db):
    await subscribe(
        db,
        7,
        kind="private",
        title=None,
        service="x",
        region="*",
        min_level="elevated",
        at=NOW,
        limit=20,
    )
    await record_success(db, "seed", "test", NOW, items=0, targets=[])
    watched = await watched_pairs(db)
    assert watched == Watched(frozenset({("x", "*")}), frozenset())
    ooni = adapter({"name": "OONI", "kind": "ooni", "url": "https://api.ooni.io"})
    assert ooni.targets(watched) == []
    with_data = Watched(frozenset({("x", "*")}), frozenset({"PK", "IR", "global"}))
    assert ooni.targets(with_data) == [("x", "IR"), ("x", "PK")]
    assert chosen_pairs(ooni.config, with_data, default_catalog()) == {
        ("x", "PK"),
        ("x", "IR"),
        ("x", "global"),
    }

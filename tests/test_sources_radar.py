"""Cloudflare Radar's outage annotations: parsed from a recorded answer, run against a local server.

The token is a test value; the server on 127.0.0.1 records the headers it was sent, so the
tests can see the token go out in the Authorization header and nowhere else.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr
from source_server import FakeAPI, Reply, fixture, ok, sources_file

import bot.cli.main
from bot.core.catalog import default_catalog
from bot.core.clock import FixedClock
from bot.runtime.context import BotContext
from bot.runtime.source_jobs import job_name
from bot.sources import ADAPTERS
from bot.sources.config import SourcesFileError, parse_sources
from bot.sources.fetching import ShapeError
from bot.sources.radar import (
    AUTHORITY,
    CloudflareRadarAdapter,
    outage_annotations,
    outage_records,
    token_from_settings,
)
from bot.sources.runner import run_source
from storage.database import Database
from storage.dirty import dirty_pairs
from storage.records import PartialDate
from storage.restrictions import restrictions_in
from storage.source_health import health_of

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
TOKEN = "radar-test-token-5f3c9a"
OUTAGES = "/client/v4/radar/annotations/outages"
FIXTURE = "radar_annotations_outages_PK.json"


def load(name: str = FIXTURE) -> object:
    return json.loads(fixture(name))


def annotations(data: object = None):
    return outage_annotations(load() if data is None else data, catalog=default_catalog())


# ------------------------------------------------------------------ parsing


def test_every_outage_in_the_country_is_an_event_on_its_internet():
    events, _ = outage_records(annotations(), {"PK"}, source="Cloudflare Radar")
    assert [(e.service, e.region, e.kind, e.source) for e in events] == [
        ("internet", "PK", "report", "Cloudflare Radar")
    ] * 5
    assert [(e.at, e.text) for e in events] == [
        (
            datetime(2026, 10, 27, 5, 0, tzinfo=UTC),
            "Cloudflare Radar: nationwide outage (cable cut), 2026-10-27 to 2026-10-28",
        ),
        (
            datetime(2026, 10, 30, 2, 30, tzinfo=UTC),
            "Cloudflare Radar: nationwide outage (power outage), 2026-10-30",
        ),
        (
            datetime(2026, 11, 3, 7, 15, tzinfo=UTC),
            "Cloudflare Radar: network outage in PTCL (technical problem), 2026-11-03",
        ),
        (
            datetime(2026, 11, 8, 10, 0, tzinfo=UTC),
            "Cloudflare Radar: nationwide outage (government directed), 2026-11-08 to 2026-11-09",
        ),
        (
            datetime(2026, 11, 20, 18, 0, tzinfo=UTC),
            "Cloudflare Radar: regional outage in Balochistan (government directed), "
            "since 2026-11-20",
        ),
    ]
    assert events[3].url == "https://bsky.app/profile/radar.cloudflare.com/post/3m5pkshutdown2"
    assert events[1].url is None  # linkedUrl null


def test_a_government_directed_outage_is_also_a_shutdown_with_its_record():
    _, restrictions = outage_records(annotations(), {"PK"}, source="Cloudflare Radar")
    lifted, active = restrictions
    assert (lifted.service, lifted.region, lifted.kind, lifted.status) == (
        "internet",
        "PK",
        "shutdown",
        "lifted",
    )
    assert (lifted.start, lifted.end) == (PartialDate(2026, 11, 8), PartialDate(2026, 11, 9))
    assert lifted.authority == AUTHORITY == "Not stated (Cloudflare Radar: government directed)"
    assert lifted.grounds == "Not stated"
    assert lifted.sources == ("Cloudflare Radar",)
    assert [(s.on, s.text, s.url) for s in lifted.timeline] == [
        (
            PartialDate(2026, 11, 8),
            "Cloudflare Radar: government-directed nationwide outage began: "
            "Nationwide internet shutdown during vote counting",
            "https://bsky.app/profile/radar.cloudflare.com/post/3m5pkshutdown2",
        ),
        (
            PartialDate(2026, 11, 9),
            "Cloudflare Radar: nationwide outage ended",
            "https://bsky.app/profile/radar.cloudflare.com/post/3m5pkshutdown2",
        ),
    ]
    assert lifted.note == "Cloudflare Radar: nationwide"
    assert (active.status, active.start, active.end) == ("active", PartialDate(2026, 11, 20), None)
    assert len(active.timeline) == 1
    assert active.note == "Cloudflare Radar: regional (Balochistan)"  # not the whole country


def test_only_the_countries_asked_about_get_records_and_codes_map_through_the_catalog():
    cable_cut = next(a for a in annotations() if a.id == "1695")
    assert cable_cut.regions == ("PK", "AE", "IN")
    events, restrictions = outage_records([cable_cut], {"IN"}, source="Cloudflare Radar")
    assert [(e.region, e.service) for e in events] == [("IN", "internet")]
    assert restrictions == []  # a cable cut is no one's decision


def shaped(**changes: object) -> dict:
    body = load()
    assert isinstance(body, dict)
    body["result"]["annotations"] = [{**body["result"]["annotations"][1], **changes}]
    return body


def test_locations_the_catalog_does_not_know_are_left_out():
    [found] = annotations(shaped(locations=["XK", "pk", "Pakistan"]))
    assert found.regions == ("PK",)


def test_shutdowns_in_one_country_begun_the_same_day_are_one_restriction():
    morning = shaped(id="1", startDate="2026-06-10T04:30:00Z", endDate="2026-06-10T07:30:00Z")
    evening = shaped(id="2", startDate="2026-06-10T13:00:00Z", endDate=None)
    found = annotations(morning) + annotations(evening)
    events, [restriction] = outage_records(found, {"PK"}, source="Cloudflare Radar")
    assert len(events) == 2
    assert (restriction.status, restriction.start, restriction.end) == (
        "active",
        PartialDate(2026, 6, 10),
        None,
    )


def test_anything_but_an_outage_is_left_out():
    assert annotations(shaped(eventType="PARTIAL_PROJECTION")) == []


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ([], "not an object"),
        ({"success": True, "result": {"annotations": {}}}, "result.annotations"),
        (
            {"success": False, "errors": [{"code": 10000, "message": "Authentication error"}]},
            "Cloudflare said: Authentication error",
        ),
        (shaped(startDate="yesterday"), "startDate is not a time"),
        (shaped(outage=None), "outage is missing"),
        (shaped(locations="PK"), "locations is not a list"),
        (shaped(asns=["AS17557"]), "asns is not a list of numbers"),
    ],
)
def test_an_answer_of_the_wrong_shape_is_an_unexpected_response(body, complaint):
    with pytest.raises(ShapeError, match=complaint):
        annotations(body)


# ------------------------------------------------------------------ the sources file


def parse(entry: dict):
    return parse_sources({"sources": [entry]}, Path("t.toml"), default_catalog(), ADAPTERS)


def test_the_kind_checks_its_own_options():
    loaded = parse({"name": "Cloudflare Radar", "kind": "cloudflare_radar", "regions": ["PK"]})
    [config] = loaded.sources
    assert config.url == "https://api.cloudflare.com/client/v4"
    radar = CloudflareRadarAdapter(config, default_catalog())
    assert (radar.window_days, radar.limit) == (28, 100)
    with pytest.raises(SourcesFileError, match="window_days must be at least 1 and at most 364"):
        parse({"name": "R", "kind": "cloudflare_radar", "window_days": 400})
    with pytest.raises(SourcesFileError, match=r"unknown key\(s\) token"):
        parse({"name": "R", "kind": "cloudflare_radar", "token": "in the file, by mistake"})


def test_the_token_is_read_from_the_setting_and_never_shown(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    monkeypatch.delenv("OUTAGEBOT_SOURCES_FILE", raising=False)
    monkeypatch.setenv("OUTAGEBOT_CLOUDFLARE_TOKEN", TOKEN)
    token = token_from_settings()
    assert token is not None and token.get_secret_value() == TOKEN
    assert TOKEN not in repr(token) and TOKEN not in str(token)
    monkeypatch.setenv("OUTAGEBOT_CLOUDFLARE_TOKEN", "  ")
    assert token_from_settings() is None
    monkeypatch.delenv("OUTAGEBOT_CLOUDFLARE_TOKEN")
    assert token_from_settings() is None


# ------------------------------------------------------------------ runs


class HeaderRecordingAPI(FakeAPI):
    """The shared fake API, also keeping the headers of each request."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        super().__init__()

    def _handler(self):
        base = super()._handler()
        api = self

        class Handler(base):  # type: ignore[misc, valid-type]
            def do_GET(self) -> None:
                api.headers.append(dict(self.headers.items()))
                super().do_GET()

        return Handler


@pytest.fixture
def api():
    with HeaderRecordingAPI() as server:
        yield server


def radar(api: FakeAPI, *, token: str | None = TOKEN, regions=("PK",), **defaults: object):
    settings = {"timeout": 0.3, "retries": 0, "backoff": 1, **defaults}
    entry = {
        "name": "Cloudflare Radar",
        "kind": "cloudflare_radar",
        "url": f"{api.url}/client/v4",
        "regions": list(regions),
    }
    loaded = parse_sources(
        {"defaults": settings, "sources": [entry]}, Path("t.toml"), default_catalog(), ADAPTERS
    )
    secret = SecretStr(token) if token is not None else None
    return CloudflareRadarAdapter(loaded.sources[0], default_catalog(), token=lambda: secret)


async def snapshot(db: Database) -> dict[str, object]:
    """Everything a source could have written, except its own health row."""
    tables = ["events", "restrictions", "restriction_steps", "restriction_sources", "sources"]
    counts = {t: await db.scalar(f"SELECT COUNT(*) FROM {t}") for t in tables}
    rows = await db.fetchall('SELECT region, status, start, "end" FROM restrictions ORDER BY start')
    marked = sorted({(s, r) for s, r, _ in await dirty_pairs(db)})
    return {**counts, "restrictions": [tuple(r) for r in rows], "dirty": marked}


async def test_a_run_lands_outages_and_shutdowns_and_sends_the_token_only_in_its_header(
    db, api, caplog
):
    caplog.set_level(logging.DEBUG)  # httpx and httpcore included
    api.route(OUTAGES, ok(FIXTURE))
    report = await run_source(db, radar(api), FixedClock(NOW))
    assert report.ok, report
    assert report.summary == "5 events, 2 restrictions"
    assert report.targets == (("*", "PK"),)
    [asked] = api.asked[OUTAGES]
    assert asked == {
        "location": ["PK"],
        "dateRange": ["28d"],
        "limit": ["100"],
        "format": ["json"],
    }
    [headers] = api.headers
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in caplog.text
    shutdowns = await restrictions_in(db, "PK")
    assert [(r.service, r.kind, r.status, str(r.start)) for r in shutdowns] == [
        ("internet", "shutdown", "active", "2026-11-20"),
        ("internet", "shutdown", "lifted", "2026-11-08"),
    ]
    assert shutdowns[1].authority == AUTHORITY and shutdowns[1].sources == ("Cloudflare Radar",)
    again = await run_source(db, radar(api), FixedClock(NOW))
    assert again.ok and again.new is not None and again.new.total == 0


async def test_an_ongoing_shutdown_that_ends_is_updated_not_duplicated(db, api):
    api.route(OUTAGES, ok(FIXTURE))
    await run_source(db, radar(api), FixedClock(NOW))
    ended = load()
    assert isinstance(ended, dict)
    ended["result"]["annotations"][0]["endDate"] = "2026-11-23T06:00:00Z"
    api.route(OUTAGES, Reply(body=json.dumps(ended).encode()))
    report = await run_source(db, radar(api), FixedClock(NOW))
    assert report.ok and report.new is not None
    assert (report.new.restrictions, report.new.timeline_steps) == (0, 1)
    shutdowns = await restrictions_in(db, "PK")
    latest = shutdowns[0]
    assert (latest.status, str(latest.end)) == ("lifted", "2026-11-23")
    assert latest.timeline[-1].text == "Cloudflare Radar: regional outage in Balochistan ended"


def with_a_new_shutdown() -> Reply:
    body = load()
    assert isinstance(body, dict)
    news = {**body["result"]["annotations"][1], "id": "1720", "startDate": "2026-11-22T08:00:00Z"}
    body["result"]["annotations"].insert(0, news)
    return Reply(body=json.dumps(body).encode())


BAD_DAYS = {
    "server error": (Reply(status=500, body=b'{"success": false}'), {}, "HTTP 500"),
    "refused token": (
        Reply(status=403, body=b'{"success":false,"errors":[{"code":10000}]}'),
        {},
        "HTTP 403",
    ),
    "malformed JSON": (Reply(body=b'{"success": true, "result": {"annot'), {}, "malformed JSON"),
    "oversize, declared": (ok(FIXTURE), {"max_bytes": 2000}, "response larger than 2,000 bytes"),
    "oversize, streamed": (
        Reply(body=fixture(FIXTURE), declare_length=False),
        {"max_bytes": 2000},
        "response larger than 2,000 bytes",
    ),
    "wrong shape": (Reply(body=b'{"success": true, "result": []}'), {}, "unexpected response"),
    "timeout": (Reply(hang=True), {}, "timed out after 0.3 s"),
}


@pytest.mark.parametrize("case", list(BAD_DAYS))
async def test_a_bad_day_marks_the_source_unhealthy_and_writes_nothing(db, api, case):
    reply, defaults, reason = BAD_DAYS[case]
    api.route_by(
        OUTAGES,
        "location",
        {
            "PK": ok(FIXTURE),
            "SD": Reply(body=b'{"result": {"annotations": []}, "success": true, "errors": []}'),
        },
    )
    clock = FixedClock(NOW)
    assert (await run_source(db, radar(api, regions=("PK", "SD")), clock)).ok
    before = await snapshot(db)
    # Pakistan now has news, but Sudan's answer, asked for next in the same run, is bad: the
    # news must not land half-way.
    api.route_by(OUTAGES, "location", {"PK": with_a_new_shutdown(), "SD": reply})
    clock.advance(minutes=10)
    report = await run_source(db, radar(api, regions=("PK", "SD"), **defaults), clock)
    assert not report.ok
    assert report.error is not None and report.error.startswith(reason)
    assert await snapshot(db) == before
    health = await health_of(db, "Cloudflare Radar")
    assert health is not None and health.failing and health.last_error == report.error
    assert health.last_success_at == NOW and health.failing_since == clock.now()
    assert f"GET {OUTAGES}" in (health.last_error_detail or "")
    assert TOKEN not in f"{health.last_error} {health.last_error_detail}"


async def test_without_a_token_the_source_is_skipped_with_a_clear_note(db, api):
    api.route(OUTAGES, ok(FIXTURE))
    clock = FixedClock(NOW)
    assert (await run_source(db, radar(api), clock)).ok
    before = await snapshot(db)
    clock.advance(minutes=10)
    report = await run_source(db, radar(api, token=None), clock)
    assert (report.ok, report.error, report.targets) == (False, "no token configured", ())
    assert api.hits(OUTAGES) == 1  # only the first run asked
    assert await snapshot(db) == before
    health = await health_of(db, "Cloudflare Radar")
    assert health is not None and health.failing and health.last_error == "no token configured"
    assert "OUTAGEBOT_CLOUDFLARE_TOKEN" in (health.last_error_detail or "")


def test_sources_check_says_no_token_and_asks_nothing(monkeypatch, tmp_path, capsys, api):
    for key in list(os.environ):
        if key.startswith("OUTAGEBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(bot.cli.main, "configure_logging", lambda *a, **k: None)
    path = tmp_path / "sources.toml"
    path.write_text(
        f'[[sources]]\nname = "Cloudflare Radar"\nkind = "cloudflare_radar"\n'
        f'url = "{api.url}/client/v4"\nregions = ["PK"]\n',
        encoding="utf-8",
    )
    database = str(tmp_path / "check.sqlite3")
    code = bot.cli.main.main(["--database", database, "sources", "check", "--file", str(path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "failed: no token configured (set OUTAGEBOT_CLOUDFLARE_TOKEN" in out
    assert api.hits(OUTAGES) == 0


# ------------------------------------------------------------------ platforms

PLATFORMS = "radar_annotations_platform_PK.json"


def test_a_blocked_platform_is_a_block_of_that_service_never_an_internet_shutdown():
    events, restrictions = outage_records(
        annotations(load(PLATFORMS)), {"PK"}, source="Cloudflare Radar"
    )
    assert [(e.service, e.text) for e in events] == [
        (
            "Bluesky Social",
            "Cloudflare Radar: platform outage in Bluesky Social (government directed), "
            "2026-11-15 to 2026-11-17",
        ),
        (
            "whatsapp",
            "Cloudflare Radar: platform outage in WhatsApp (technical problem), 2026-11-19",
        ),
        (
            "x",
            "Cloudflare Radar: platform outage in X (Twitter) (government directed), "
            "since 2026-11-21",
        ),
    ]
    assert [(r.service, r.region, r.kind, r.status) for r in restrictions] == [
        ("Bluesky Social", "PK", "block", "lifted"),  # the scope as given: not in the catalog
        ("x", "PK", "block", "active"),  # "X (Twitter)" found through the catalog
    ]
    assert all(r.service != "internet" and r.kind != "shutdown" for r in restrictions)
    x = restrictions[1]
    assert x.note == "Cloudflare Radar: platform (X (Twitter))"
    assert x.timeline[0].text == (
        "Cloudflare Radar: government-directed platform outage in X (Twitter) began: "
        "X blocked nationwide on government orders"
    )


@pytest.mark.parametrize(
    ("outage_type", "scope", "service"),
    [
        ("PLATFORM", "X (Twitter)", "x"),
        ("PLATFORM", "Facebook/Instagram", "facebook"),
        ("PLATFORM", "Mastodon", "Mastodon"),
        ("NETWORK", "Telegram", "telegram"),  # any scope naming a service is that service's
        ("NETWORK", "PTCL", "internet"),
        ("REGIONAL", "Balochistan", "internet"),
        ("PLATFORM", None, "internet"),  # no name to give it: an event, never a guess
    ],
)
def test_a_scope_names_its_service_through_the_catalog(outage_type, scope, service):
    [found] = annotations(
        shaped(scope=scope, outage={"outageType": outage_type, "outageCause": "TECHNICAL_PROBLEM"})
    )
    assert found.service == service


async def test_the_card_of_a_blocked_platform_says_blocked_and_the_internet_card_does_not(
    make_harness, tmp_path, api, monkeypatch
):
    monkeypatch.setenv("OUTAGEBOT_CLOUDFLARE_TOKEN", TOKEN)
    api.route(OUTAGES, ok(PLATFORMS))
    path = sources_file(
        tmp_path, name="Cloudflare Radar", kind="cloudflare_radar", url=f"{api.url}/client/v4"
    )
    async for harness in make_harness(sources_file=path):
        before = (await harness.send("/status internet pk")).plain
        [job] = harness.application.job_queue.get_jobs_by_name(job_name("Cloudflare Radar"))
        await job.callback(BotContext.from_job(job, harness.application))
        card = await harness.send("/status x pk")
        assert "⛔ X is blocked in Pakistan" in card.plain
        [record] = await harness.driver.press(card, "st|b|x|PK")
        # Beside the block already on record, not merged into it and not an internet shutdown.
        assert (
            "📜 Also on record: Blocked in Pakistan since 21 November 2026 (active). "
            "Not stated (Cloudflare Radar: government directed) — Cloudflare Radar"
        ) in record.plain
        internet = (await harness.send("/status internet pk")).plain
        assert "Cloudflare Radar" not in internet and "X (Twitter)" not in internet
        assert internet.count("shut down") == before.count("shut down")

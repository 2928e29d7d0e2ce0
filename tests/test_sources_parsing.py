"""The pure side of outside sources: recorded responses in, records and card lines out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from source_server import FIXTURES

from bot.core.catalog import default_catalog
from bot.core.findings import Blocking, Connectivity, FailingSource, SourceFindings
from bot.render.signals import render_source_lines
from bot.sources import ADAPTERS
from bot.sources.config import SourcesFileError, parse_sources
from bot.sources.evidence import strongest_evidence
from bot.sources.fetching import ShapeError
from bot.sources.ioda import (
    connectivity_line,
    drop_at_start,
    outage_events,
    outage_records,
    signal_reading,
    signal_series,
)
from bot.sources.ooni import blocking_event, blocking_reading, finding_events
from bot.sources.statuspage import component_events, incident_events
from storage.source_readings import ConnectivityReading

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
OUTAGE_START = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def load(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


# ------------------------------------------------------------------ Statuspage


def test_status_page_components_not_operational_become_official_statements():
    events = component_events(
        load("statuspage_summary.json"), service="discord", source="Discord status page"
    )
    assert [(e.text, e.at) for e in events] == [
        ("Official: API — partial outage", datetime(2026, 11, 22, 11, 40, 12, 345000, UTC)),
        ("Official: Voice — degraded performance", datetime(2026, 11, 22, 11, 45, tzinfo=UTC)),
    ]
    assert {(e.service, e.region, e.kind, e.source) for e in events} == {
        ("discord", "global", "statement", "Discord status page")
    }


def test_status_page_incident_updates_are_dated_and_old_incidents_left_out():
    events = incident_events(
        load("statuspage_incidents.json"),
        service="discord",
        source="Discord status page",
        since=NOW - timedelta(days=14),
    )
    assert [e.text for e in events] == [
        "Official: Messages failing to send (major impact) — identified: We have identified the "
        "cause: a faulty configuration change to our message queue. A fix is rolling out.",
        "Official: Messages failing to send (major impact) — investigating: We are investigating "
        "reports of messages failing to send.",
    ]
    assert events[1].at == datetime(2026, 11, 22, 11, 35, 2, 301000, UTC)
    assert events[0].url == "https://stspg.io/abc123"


def test_status_page_without_components_is_an_unexpected_response():
    with pytest.raises(ShapeError, match="components"):
        component_events({"page": {}, "status": {}}, service="discord", source="S")


# ------------------------------------------------------------------ IODA


def series(signal: str):
    found = signal_series(load(f"ioda_signals_{signal}_PK.json"), "PK", signal)
    assert found is not None
    return found


def test_ioda_outage_events_are_read_in_codf_format():
    outages = outage_events(load("ioda_outages_events_PK.json"), "PK")
    assert [(o.signal, o.start, o.end - o.start) for o in outages] == [
        ("ping-slash24", datetime(2026, 11, 21, 20, 0, tzinfo=UTC), timedelta(minutes=30)),
        ("bgp", OUTAGE_START, timedelta(hours=2, minutes=55)),
    ]


def test_ioda_event_states_the_drop_at_its_start_so_the_wording_never_changes():
    outages = outage_events(load("ioda_outages_events_PK.json"), "PK")
    found = {s: series(s) for s in ("bgp", "ping-slash24")}
    events = outage_records(outages, found, source="IODA", url=None)
    assert [(e.service, e.region, e.kind, e.text) for e in events] == [
        (
            "internet",
            "PK",
            "report",
            "IODA: networks answering active probes dropped 25% below normal",
        ),
        ("internet", "PK", "report", "IODA: BGP-visible networks dropped 40% below normal"),
    ]
    # The same series fetched an hour later, from a later window start, states the same drop.
    later = found["bgp"]
    assert drop_at_start(later, OUTAGE_START) == 40


def test_ioda_reading_compares_with_normal_before_an_ongoing_outage():
    outages = outage_events(load("ioda_outages_events_PK.json"), "PK")
    reading = signal_reading(series("bgp"), outages, source="IODA")
    assert reading is not None
    assert reading.outage_since == OUTAGE_START
    assert reading.at == datetime(2026, 11, 22, 11, 55, tzinfo=UTC)
    assert 39 <= reading.drop_pct <= 41
    assert reading.region_name == "Pakistan"


def test_ioda_reading_of_a_steady_signal_with_gaps_is_normal():
    reading = signal_reading(series("merit-nt"), [], source="IODA")
    assert reading is not None and reading.drop_pct < 5 and reading.outage_since is None


def test_ioda_error_in_the_envelope_is_an_unexpected_response():
    with pytest.raises(ShapeError, match="IODA said: invalid datasource"):
        outage_events(
            {"type": "outages.events", "error": "invalid datasource x", "data": None}, "PK"
        )


def reading(signal: str, drop: float, *, since: datetime | None = None) -> ConnectivityReading:
    return ConnectivityReading(
        source="IODA",
        region="PK",
        signal=signal,
        at=NOW - timedelta(minutes=10),
        current=100 - drop,
        baseline=100,
        drop_pct=drop,
        outage_since=since,
    )


def test_connectivity_line_names_the_worst_dropped_signal():
    line = connectivity_line(
        [reading("bgp", 3), reading("ping-slash24", 55), reading("merit-nt", 20)]
    )
    assert line is not None and not line.normal
    assert (line.signal, line.drop_pct) == ("ping-slash24", 55)


def test_connectivity_line_says_normal_by_the_steadiest_signal():
    line = connectivity_line([reading("merit-nt", 2), reading("bgp", 1)])
    assert line is not None and line.normal and line.signal == "bgp"


def test_an_outage_event_of_the_source_counts_even_under_the_threshold():
    line = connectivity_line([reading("bgp", 4, since=OUTAGE_START)])
    assert line is not None and not line.normal and line.since == OUTAGE_START


# ------------------------------------------------------------------ OONI


def ooni_reading(name: str, domain: str):
    return blocking_reading(
        load(name),
        service="x",
        region="PK",
        domain=domain,
        window_end=NOW.date(),
        window_days=7,
        source="OONI",
        now=NOW,
    )


def test_ooni_share_leaves_failed_measurements_out():
    found = ooni_reading("ooni_aggregation_twitter.com_PK.json", "twitter.com")
    assert (found.anomalies, found.measurements) == (1074, 1234)
    assert round(found.anomaly_pct) == 87
    event = blocking_event(found, min_measurements=10, blocked_pct=20)
    assert event is not None
    assert event.text == (
        "OONI: twitter.com anomalous in 87% of 1,234 measurements in PK, last 7 days"
    )
    assert event.at == datetime(2026, 11, 22, tzinfo=UTC)  # the window's end: whole days


def test_ooni_thin_or_clean_evidence_makes_no_event():
    found = ooni_reading("ooni_aggregation_twitter.com_PK.json", "twitter.com")
    assert blocking_event(found, min_measurements=5000, blocked_pct=20) is None
    assert blocking_event(found, min_measurements=10, blocked_pct=90) is None


def test_ooni_aggregation_with_an_axis_is_an_unexpected_response():
    with pytest.raises(ShapeError, match="axis"):
        blocking_reading(
            {"v": 0, "dimension_count": 1, "result": []},
            service="x",
            region="PK",
            domain="x.com",
            window_end=NOW.date(),
            window_days=7,
            source="OONI",
            now=NOW,
        )


def test_ooni_findings_attach_only_to_services_whose_domains_they_name():
    events = finding_events(
        load("ooni_incidents_search_PK.json"),
        region="PK",
        services=[("x", ("x.com", "twitter.com")), ("whatsapp", ("whatsapp.com",))],
        source="OONI",
    )
    assert [(e.service, e.region, e.text, e.at) for e in events] == [
        (
            "x",
            "PK",
            "OONI finding: Pakistan blocked X (formerly Twitter)",
            datetime(2024, 2, 17, tzinfo=UTC),
        )
    ]


def test_strongest_evidence_picks_the_most_blocked_domain_measured_enough():
    readings = [
        ooni_reading("ooni_aggregation_x.com_PK.json", "x.com"),
        ooni_reading("ooni_aggregation_twitter.com_PK.json", "twitter.com"),
    ]
    best = strongest_evidence(readings)
    assert best is not None and best.domain == "twitter.com" and best.enough


# ------------------------------------------------------------------ card lines


def findings(**parts: object) -> SourceFindings:
    return SourceFindings(region="PK", region_name="Pakistan", **parts)  # type: ignore[arg-type]


def test_card_says_the_internet_looks_normal_with_source_signal_and_age():
    normal = Connectivity("bgp", 1.0, None, "IODA", NOW - timedelta(minutes=10), normal=True)
    assert render_source_lines(findings(connectivity=normal), "Asia/Karachi", NOW) == [
        "🌐 Internet in Pakistan looks normal (IODA, BGP, 10 min ago)"
    ]


def test_card_says_how_far_the_internet_dropped_and_since_when_in_local_time():
    drop = Connectivity("bgp", 40.2, OUTAGE_START, "IODA", NOW - timedelta(minutes=5), normal=False)
    assert render_source_lines(findings(connectivity=drop), "Asia/Karachi", NOW) == [
        "🌐 Internet in Pakistan: BGP-visible networks 40% below normal since 14:00 PKT "
        "(09:00 UTC) (IODA, 5 min ago)"
    ]


def test_card_states_blocking_evidence_with_its_numbers():
    blocked = Blocking("twitter.com", 87.03, 1234, 7, "OONI", NOW, enough=True)
    clean = Blocking("x.com", 3.0, 990, 7, "OONI", NOW, enough=True)
    thin = Blocking("x.com", 50.0, 4, 7, "OONI", NOW, enough=False)
    assert render_source_lines(findings(blocking=blocked), "Asia/Karachi", NOW) == [
        "🔒 OONI: twitter.com anomalous in 87% of 1,234 measurements, last 7 days"
    ]
    assert render_source_lines(findings(blocking=clean), "UTC", NOW) == [
        "🔓 OONI: x.com reachable, anomalous in only 3% of 990 measurements, last 7 days"
    ]
    assert render_source_lines(findings(blocking=thin), "UTC", NOW) == [
        "🔍 OONI: too few measurements of x.com to tell (4, last 7 days)"
    ]


def test_card_warns_when_a_source_behind_it_is_failing():
    stale = FailingSource(
        "IODA", NOW - timedelta(hours=1), "timed out after 10 s", NOW - timedelta(hours=3)
    )
    never = FailingSource("OONI", NOW, "HTTP 500", None)
    assert render_source_lines(findings(failing=[stale]), "UTC", NOW) == [
        "⚠️ IODA data stale: last success 3 h ago (timed out after 10 s)",
    ]
    assert render_source_lines(findings(failing=[never]), "UTC", NOW) == [
        "⚠️ OONI has not answered yet (HTTP 500)",
    ]


def test_several_failing_sources_fold_into_one_line_from_the_first_failure():
    failing = [
        FailingSource(source, NOW - timedelta(hours=hours), "HTTP 500", None)
        for source, hours in (("IODA", 2), ("OONI", 1), ("Radar", 1), ("feed", 0))
    ]
    assert render_source_lines(findings(failing=failing), "UTC", NOW) == [
        "⚠️ 4 sources failing since 10:00 UTC: IODA, OONI, Radar, feed"
    ]


def test_card_escapes_what_sources_wrote():
    odd = FailingSource("<b>Feed</b>", NOW, "HTTP 500 & <worse>", None)
    [line] = render_source_lines(findings(failing=[odd]), "UTC", NOW)
    assert "&lt;b&gt;Feed&lt;/b&gt;" in line and "&amp; &lt;worse&gt;" in line


def test_no_source_means_no_lines():
    assert render_source_lines(findings(), "UTC", NOW) == []


# ------------------------------------------------------------------ the sources file


def parse(raw: dict):
    return parse_sources(raw, Path("sources.toml"), default_catalog(), ADAPTERS)


def test_sources_file_fills_defaults_and_resolves_names():
    loaded = parse(
        {
            "defaults": {"interval": 300, "timeout": 5},
            "sources": [
                {"name": "OONI", "kind": "ooni", "services": ["twitter"], "regions": ["Pakistan"]},
                {
                    "name": "Discord status page",
                    "kind": "statuspage",
                    "service": "discord",
                    "url": "https://discordstatus.com/",
                    "interval": 120,
                },
            ],
        }
    )
    ooni, discord = loaded.sources
    assert (ooni.url, ooni.services, ooni.regions, ooni.interval) == (
        "https://api.ooni.io",
        ("x",),
        ("PK",),
        300,
    )
    assert ooni.policy.timeout == 5 and ooni.policy.retries == 2
    assert (discord.url, discord.interval, discord.services) == (
        "https://discordstatus.com",
        120,
        ("discord",),
    )


def test_sources_file_reports_every_problem_at_once():
    with pytest.raises(SourcesFileError) as raised:
        parse(
            {
                "sources": [
                    {"name": "A", "kind": "rss"},
                    {"name": "B", "kind": "ioda", "intreval": 60},
                    {"name": "C", "kind": "ooni", "services": ["twiter"]},
                    {"name": "D", "kind": "statuspage", "url": "https://status.example"},
                    {"name": "E", "kind": "ioda", "signals": ["gtr"]},
                ]
            }
        )
    problems = raised.value.problems
    assert len(problems) == 5
    assert (
        "source 'A': kind must be one of cloudflare_radar, feed, ioda, ooni, statuspage"
        in problems[0]
    )
    assert "unknown key(s) intreval" in problems[1]
    assert "unknown service 'twiter'; did you mean X" in problems[2]
    assert "one service" in problems[3]
    assert "signals: unknown gtr" in problems[4]


def test_sources_file_refuses_a_name_used_twice():
    with pytest.raises(SourcesFileError, match="used twice"):
        parse({"sources": [{"name": "IODA", "kind": "ioda"}, {"name": "IODA", "kind": "ioda"}]})

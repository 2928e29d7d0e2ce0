"""The verdict on a table of situations: one answer, its evidence with its sources, and
contradictions said as such, never settled silently. Pure: a summary and `now` in, a verdict
and its words out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.catalog import default_catalog
from bot.core.detection import Incident, Level
from bot.core.findings import Blocking, Connectivity, FailingSource, SourceFindings
from bot.core.summaries import PairSummary, RegionFigures
from bot.core.verdict import Answer, Conflict, verdict_for
from bot.render.card import FOOTER_ROOM, TELEGRAM_LIMIT, fits, render_card, restriction_head
from bot.render.i18n import _, use_language
from bot.render.telegram_html import html_to_text
from bot.render.verdict import render_verdict
from storage.records import Event, Observation, PartialDate, Restriction, TimelineStep

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
CATALOG = default_catalog()
X, PK, US, GB = (
    CATALOG.service("x"),
    CATALOG.region("PK"),
    CATALOG.region("US"),
    CATALOG.region("GB"),
)


def reading(count: int, ago: timedelta = timedelta(minutes=5), region: str = "PK") -> Observation:
    return Observation("x", region, NOW - ago, count, "Downdetector")


def incident(level: Level, peak: int, *, ended: bool = False) -> Incident:
    top = reading(peak, timedelta(minutes=30))
    return Incident(
        service="x",
        region="PK",
        start=NOW - timedelta(hours=1),
        last_seen=NOW - timedelta(minutes=5),
        end=NOW - timedelta(minutes=5) if ended else None,
        peak=top,
        level=level,
        latest_level=level,
        levels=((NOW - timedelta(hours=1), level),),
    )


def elsewhere(code: str, count: int) -> RegionFigures:
    return RegionFigures(CATALOG.region(code), (reading(count, region=code),))


def statement(text: str, source: str = "NetBlocks") -> Event:
    return Event("x", "global", NOW - timedelta(minutes=20), "statement", text, source)


def restriction(service: str, status: str = "active", source: str = "Dawn") -> Restriction:
    return Restriction(
        service=service,
        region="PK",
        kind="shutdown" if service == "internet" else "block",
        status=status,  # type: ignore[arg-type]
        start=PartialDate(2024, 2),
        end=None if status == "active" else PartialDate(2024, 5),
        authority="PTA",
        grounds="Not stated",
        sources=(source,),
    )


def connectivity(drop: float) -> Connectivity:
    return Connectivity("bgp", drop, None, "IODA", NOW - timedelta(minutes=10), normal=drop < 10)


def blocking(anomaly_pct: float) -> Blocking:
    return Blocking("x.com", anomaly_pct, 120, 7, "OONI", NOW - timedelta(hours=1), enough=True)


@dataclass(frozen=True)
class Situation:
    latest: Observation | None = None
    incident: Incident | None = None
    elsewhere: tuple[RegionFigures, ...] = ()
    events: tuple[Event, ...] = ()
    restrictions: tuple[Restriction, ...] = ()
    connectivity: Connectivity | None = None
    blocking: Blocking | None = None
    failing: tuple[FailingSource, ...] = ()
    routine: int = 0

    def summary(self) -> PairSummary:
        findings = SourceFindings(
            "PK", "Pakistan", self.connectivity, self.blocking, list(self.failing)
        )
        level: Level = self.incident.level if self.incident and not self.incident.end else "normal"
        return PairSummary(
            service=X,
            region=PK,
            made_at=NOW,
            level=level,
            latest=self.latest,
            incident=self.incident,
            typical=40.0,
            counts=(self.latest,) if self.latest else (),
            events=self.events,
            restrictions=self.restrictions,
            elsewhere=self.elsewhere,
            findings=findings,
            routine=self.routine,
        )


@dataclass(frozen=True)
class Expected:
    answer: Answer
    blocked: bool = False
    conflicts: tuple[Conflict, ...] = ()
    sources: tuple[str, ...] = ()
    says: tuple[str, ...] = ()  # what a person reads in the verdict's lines


SCENARIOS: dict[str, tuple[Situation, Expected]] = {
    "global outage: busy in other countries": (
        Situation(
            latest=reading(136),
            incident=incident("outage", 900),
            elsewhere=(elsewhere("US", 40_000), elsewhere("GB", 10_800)),
        ),
        Expected(
            Answer.DOWN_WORLDWIDE,
            sources=("Downdetector",),
            says=(
                "🔴 X is down worldwide (40,000 reports in United States; "
                "10,800 reports in United Kingdom; 136 here — Downdetector)",
            ),
        ),
    ),
    "global outage: the status page says so, no other country yet": (
        Situation(
            latest=reading(300),
            incident=incident("outage", 300),
            events=(statement("Official: major outage, investigating", "X status page"),),
        ),
        Expected(
            Answer.DOWN_WORLDWIDE,
            sources=("Downdetector", "X status page"),
            says=("🗣 X status page: “Official: major outage, investigating”",),
        ),
    ),
    "country-only outage": (
        Situation(latest=reading(500), incident=incident("outage", 700)),
        Expected(
            Answer.DOWN_HERE,
            says=("no other country or status page reports it",),
        ),
    ),
    "internet shutdown measured": (
        Situation(latest=reading(3), connectivity=connectivity(62)),
        Expected(
            Answer.INTERNET_DOWN,
            sources=("Downdetector", "IODA"),
            says=("🌐 The internet in Pakistan is down, not just X (IODA: BGP 62% below normal)",),
        ),
    ),
    "internet shutdown on record explains a local spike": (
        Situation(
            latest=reading(500),
            incident=incident("outage", 700),
            restrictions=(restriction("internet", source="Access Now"),),
        ),
        Expected(
            Answer.INTERNET_DOWN,
            says=("shutdown on record since February 2024 — Access Now",),
        ),
    ),
    "service block, no outage": (
        Situation(latest=reading(4), restrictions=(restriction("x"),)),
        Expected(
            Answer.BLOCKED,
            blocked=True,
            sources=("Dawn",),
            says=("⛔ X is blocked in Pakistan (since February 2024 — Dawn; no outage detected",),
        ),
    ),
    "service block measured only by OONI": (
        Situation(latest=reading(4), blocking=blocking(85)),
        Expected(
            Answer.BLOCKED,
            blocked=True,
            says=("OONI: x.com anomalous in 85% of measurements",),
        ),
    ),
    "service block with a concurrent outage: both said": (
        Situation(
            latest=reading(136),
            incident=incident("outage", 900),
            elsewhere=(elsewhere("US", 40_000),),
            restrictions=(restriction("x"),),
        ),
        Expected(
            Answer.DOWN_WORLDWIDE,
            blocked=True,
            sources=("Downdetector", "Dawn"),
            says=(
                "🔴 X is down worldwide",
                "⛔ X has also been blocked in Pakistan since February 2024.",
            ),
        ),
    ),
    "unconfirmed rise": (
        Situation(latest=reading(80), incident=incident("elevated", 90)),
        Expected(
            Answer.UNCONFIRMED,
            says=(
                "🟠 Reports of X problems in Pakistan are up, not confirmed",
                "below the outage level, and no second source yet",
            ),
        ),
    ),
    "normal": (
        Situation(latest=reading(12)),
        Expected(Answer.NORMAL, says=("🟢 X looks normal in Pakistan (12 reports at",)),
    ),
    "reports up, but no higher than the pair's two surges this week": (
        Situation(latest=reading(180), routine=2),
        Expected(
            Answer.ROUTINE,
            says=("🟡 Reports of X in Pakistan are up, as they often are lately (180 reports at",),
        ),
    ),
    "stale sources: the newest reading is a day old": (
        Situation(
            latest=reading(12, timedelta(days=1)),
            failing=(FailingSource("Downdetector", NOW - timedelta(days=1), "HTTP 500"),),
        ),
        Expected(
            Answer.NO_DATA,
            says=("⚪ Not enough recent data on X in Pakistan (the newest report is from",),
        ),
    ),
    "no data at all": (
        Situation(),
        Expected(Answer.NO_DATA, says=("(no reports on record)",)),
    ),
    "contradiction: a block on record, OONI finds it reachable": (
        Situation(latest=reading(4), restrictions=(restriction("x"),), blocking=blocking(2)),
        Expected(
            Answer.BLOCKED,
            blocked=True,
            conflicts=(Conflict("blocked", "Dawn", "OONI"),),
            says=("⚖️ Sources disagree on whether X is blocked here: Dawn says yes, OONI says no.",),
        ),
    ),
    "contradiction: lifted on record, OONI still measures it blocked": (
        Situation(
            latest=reading(4), restrictions=(restriction("x", "lifted"),), blocking=blocking(70)
        ),
        Expected(
            Answer.BLOCKED,
            blocked=True,
            conflicts=(Conflict("blocked", "OONI", "Dawn"),),
            says=("OONI says yes, Dawn says no.",),
        ),
    ),
    "contradiction: shutdown on record, IODA sees normal connectivity": (
        Situation(
            latest=reading(4),
            restrictions=(restriction("internet", source="Access Now"),),
            connectivity=connectivity(0),
        ),
        Expected(
            Answer.INTERNET_DOWN,
            conflicts=(Conflict("internet", "Access Now", "IODA"),),
            says=("whether the internet here is down: Access Now says yes, IODA says no.",),
        ),
    ),
    "contradiction: a live outage, the status page says all clear": (
        Situation(
            latest=reading(600),
            incident=incident("outage", 700),
            events=(statement("Official: All Systems Operational", "X status page"),),
        ),
        Expected(
            Answer.DOWN_HERE,
            conflicts=(Conflict("outage", "Downdetector", "X status page"),),
            says=("whether X is down: Downdetector says yes, X status page says no.",),
        ),
    ),
}


@pytest.mark.parametrize(("situation", "expected"), SCENARIOS.values(), ids=SCENARIOS.keys())
def test_the_verdict_for_each_situation(situation: Situation, expected: Expected) -> None:
    verdict = verdict_for(situation.summary(), NOW)
    assert verdict.answer is expected.answer
    assert verdict.blocked is expected.blocked
    assert verdict.conflicts == expected.conflicts
    for source in expected.sources:
        assert source in verdict.sources
    said = html_to_text("\n".join(render_verdict(verdict, X, PK, NOW)))
    for words in expected.says:
        assert words in said, said


def test_every_answer_is_in_the_table() -> None:
    answers = {expected.answer for _situation, expected in SCENARIOS.values()}
    assert answers == set(Answer)


# ------------------------------------------------------------------ the card, full to the brim


def test_a_card_with_every_optional_part_full_keeps_verdict_numbers_and_ban_line() -> None:
    """All sources failing with long errors, forty long claims, a long legal record, other
    countries, problems people reported, in Urdu: the card still opens with the verdict, keeps
    its numbers and its ban line, folds the failing sources into one line, and fits."""
    long = "ابلاغ " * 150  # a paragraph, in the script the card is read in
    failing = tuple(
        FailingSource(source, NOW - timedelta(hours=2), "timed out after 10 s; " + long, None)
        for source in ("IODA", "OONI", "Cloudflare Radar", "Indus Daily feed")
    )
    block = Restriction(
        service="x",
        region="PK",
        kind="block",
        status="active",
        start=PartialDate(2024, 2),
        end=None,
        authority="PTA " + long,
        grounds="National security " + long,
        timeline=tuple(
            TimelineStep(PartialDate(2024, 1 + n % 12), f"Hearing {n}: {long}", "Dawn")
            for n in range(60)
        ),
        sources=("Dawn", "Sindh High Court"),
        note=long,
    )
    claims = tuple(
        Event("x", "PK", NOW - timedelta(minutes=n), "claim", f"{n}: {long}", f"Minister {n}")
        for n in range(40)
    )
    counts = tuple(reading(100 + n, timedelta(minutes=5 * n)) for n in range(40))
    situation = Situation(
        latest=counts[0],
        incident=incident("outage", 900),
        elsewhere=(elsewhere("US", 40_000), elsewhere("GB", 10_800)),
        events=(*claims, statement("Official: major outage. " + long, "X status page")),
        restrictions=(block, restriction("x", "lifted"), restriction("internet", "lifted")),
        connectivity=connectivity(5),
        blocking=blocking(87),
        failing=failing,
    )
    summary = replace(
        situation.summary(),
        counts=counts,
        problems=(("app", 500, 0.6), ("website", 250, 0.3), ("login", 80, 0.1)),
    )
    with use_language("ur"):
        card = render_card(summary, now=NOW)
        verdict = render_verdict(verdict_for(summary, NOW), X, PK, NOW)
        latest_words = _("Latest: {count}, {time} — {source}").split("{")[0]
        peak_words = _("Peak: {count}, {time} — {source}").split("{")[0]
        ban = restriction_head(block, summary, NOW)
    assert fits(card, TELEGRAM_LIMIT - FOOTER_ROOM)
    lines = card.splitlines()
    assert lines[1 : 1 + len(verdict)] == verdict  # the verdict first, whole
    assert any(line.startswith(latest_words) for line in lines)
    assert any(line.startswith(peak_words) for line in lines)
    assert any(line.startswith(ban) for line in lines)
    [folded] = [line for line in lines if line.startswith("⚠️")]
    for source in ("IODA", "OONI", "Cloudflare Radar", "Indus Daily feed"):
        assert source in folded
    assert long.strip() not in card  # a source's paragraph never crowds the card out

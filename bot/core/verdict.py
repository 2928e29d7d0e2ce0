"""The answer a person wants first: is it the service, the country's internet, or a block?

A pure function of what the bot already knows about a pair and its neighbours (the level here,
counts elsewhere in the same period, the worldwide word of monitors and status pages, the
country's connectivity, blocking measurements, restrictions on record, how fresh each is). It
returns one of a few answers with the evidence that led there, each piece keeping its source,
so the card, alerts and channel posts can say the same thing and say who says so.

Evidence that points two ways is kept as a conflict and said as such: the verdict never picks
one side silently.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.core.findings import BLOCKED_PCT, Blocking, Connectivity, FailingSource
from bot.core.summaries import PairSummary, RegionFigures
from storage.records import Event, Observation, Restriction

# A reading older than this says nothing about "now": the answer is "not enough data".
FRESH_FOR = timedelta(hours=6)
# Elsewhere counts below this are background noise, not a sign the outage reaches there.
ELSEWHERE_FLOOR = 50
# How many other countries the verdict names; the card's button shows the rest.
ELSEWHERE_SHOWN = 2
# A status page's word that means the company sees no problem (any other state means one).
OFFICIAL_PREFIX = "Official: "
OFFICIAL_CLEAR = ("operational", "resolved", "completed", "postmortem")


class Answer(StrEnum):
    DOWN_WORLDWIDE = "down_worldwide"
    DOWN_HERE = "down_here"
    INTERNET_DOWN = "internet_down"
    BLOCKED = "blocked"
    UNCONFIRMED = "unconfirmed"
    ROUTINE = "routine"  # reports are up, but no higher than the pair's usual surges
    NORMAL = "normal"
    NO_DATA = "no_data"


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two sources saying opposite things about one question, both kept, in their words."""

    question: str  # "blocked", "internet", "outage"
    says_yes: str  # who says it is so (a source's name)
    says_no: str  # who says it is not


@dataclass(frozen=True, slots=True)
class Verdict:
    answer: Answer
    here: Observation | None = None  # the local reading the answer rests on
    peak: Observation | None = None  # the incident's peak here
    elsewhere: tuple[RegionFigures, ...] = ()  # other countries, busiest first
    statement: Event | None = None  # a monitor's or status page's worldwide word
    connectivity: Connectivity | None = None
    blocking: Blocking | None = None
    block: Restriction | None = None  # an active restriction of this service here
    shutdown: Restriction | None = None  # an active internet shutdown here
    conflicts: tuple[Conflict, ...] = ()
    failing: tuple[FailingSource, ...] = ()
    latest: Observation | None = None  # the newest reading, for "not enough data" answers

    @property
    def blocked(self) -> bool:
        """Blocked here, by a record or by measurements: said beside any outage answer."""
        return self.block is not None or _measured_blocked(self.blocking)

    @property
    def sources(self) -> tuple[str, ...]:
        """Every source the verdict rests on, in the order the sentence names them."""
        names: list[str] = []
        for row in (self.here, self.peak):
            if row is not None:
                names.append(row.source)
        for figures in self.elsewhere:
            names.append(figures.peak.source)
        if self.statement is not None:
            names.append(self.statement.source)
        for found in (self.connectivity, self.blocking):
            if found is not None:
                names.append(found.source)
        for restriction in (self.block, self.shutdown):
            if restriction is not None:
                names.extend(restriction.sources)
        return tuple(dict.fromkeys(names))


def _measured_blocked(blocking: Blocking | None) -> bool:
    return blocking is not None and blocking.enough and blocking.anomaly_pct >= BLOCKED_PCT


def _measured_reachable(blocking: Blocking | None) -> bool:
    return blocking is not None and blocking.enough and blocking.anomaly_pct < BLOCKED_PCT


def worldwide_statement(summary: PairSummary) -> Event | None:
    """The newest word on the service everywhere (a monitor, a status page), claims excluded."""
    said = [
        event
        for event in summary.events
        if event.region == "global" and event.kind != "claim" and event.precision == "minute"
    ]
    return max(said, key=lambda event: event.at, default=None)


def _official_down(event: Event | None) -> bool | None:
    """What a status page says: True (a problem), False (all clear), None (not a status page)."""
    if event is None or not event.text.startswith(OFFICIAL_PREFIX):
        return None
    return not any(word in event.text.lower() for word in OFFICIAL_CLEAR)


def _busy_elsewhere(summary: PairSummary) -> tuple[RegionFigures, ...]:
    return tuple(f for f in summary.elsewhere if f.peak.count >= ELSEWHERE_FLOOR)[:ELSEWHERE_SHOWN]


def _active_shutdown(summary: PairSummary) -> Restriction | None:
    return next(
        (r for r in summary.restrictions if r.service == "internet" and r.status == "active"),
        None,
    )


def verdict_for(summary: PairSummary, now: datetime) -> Verdict:
    """The one answer for this pair at `now`, with the evidence that led there.

    Order matters where answers overlap: a country whose internet is down explains a service
    being unreachable, so it comes first; a service down worldwide is down here too, whatever
    else holds; a block is said beside an outage, never instead of it.
    """
    findings = summary.findings
    connectivity = findings.connectivity if findings else None
    blocking = findings.blocking if findings else None
    failing = tuple(findings.failing) if findings else ()
    block = summary.active_block
    shutdown = _active_shutdown(summary)
    statement = worldwide_statement(summary)
    official = _official_down(statement)
    latest = summary.latest
    fresh = latest is not None and now - latest.at <= FRESH_FOR
    incident = summary.incident
    live = summary.active and incident is not None

    conflicts: list[Conflict] = []
    if block is not None and _measured_reachable(blocking):
        assert blocking is not None
        conflicts.append(Conflict("blocked", "; ".join(block.sources), blocking.source))
    if _measured_blocked(blocking) and block is None and summary.restrictions:
        lifted = summary.restrictions[0]
        if lifted.service == summary.service.key and lifted.status == "lifted":
            assert blocking is not None
            conflicts.append(Conflict("blocked", blocking.source, "; ".join(lifted.sources)))
    if shutdown is not None and connectivity is not None and connectivity.normal:
        conflicts.append(Conflict("internet", "; ".join(shutdown.sources), connectivity.source))
    if live and official is False and statement is not None:
        assert latest is not None
        conflicts.append(Conflict("outage", latest.source, statement.source))

    # What every answer carries; each answer below adds the evidence it rests on.
    base = Verdict(
        Answer.NO_DATA,
        connectivity=connectivity,
        blocking=blocking,
        block=block,
        shutdown=shutdown,
        conflicts=tuple(conflicts),
        failing=failing,
        latest=latest,
    )
    internet_down = (connectivity is not None and not connectivity.normal) or shutdown is not None
    if internet_down:
        return replace(base, answer=Answer.INTERNET_DOWN, here=latest if fresh else None)
    if live:
        assert incident is not None
        elsewhere = _busy_elsewhere(summary)
        outage = replace(base, here=latest, peak=incident.peak, statement=statement)
        if elsewhere or official:
            return replace(outage, answer=Answer.DOWN_WORLDWIDE, elsewhere=elsewhere)
        if incident.level == "outage":
            return replace(outage, answer=Answer.DOWN_HERE)
        return replace(outage, answer=Answer.UNCONFIRMED)
    if official:
        return replace(base, answer=Answer.DOWN_WORLDWIDE, statement=statement)
    if block is not None or _measured_blocked(blocking):
        return replace(base, answer=Answer.BLOCKED)
    if fresh:
        quiet = Answer.ROUTINE if summary.routine else Answer.NORMAL
        return replace(base, answer=quiet, here=latest)
    return base

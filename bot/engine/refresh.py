"""The outage engine's I/O side: reads records, runs the pure core, keeps prepared summaries.

`/status` reads a prepared summary from memory; the refresh job recomputes only the pairs that
got new data (marked in `dirty_pairs` by whoever wrote it, this process or a cron import), the
pairs with a live incident (time alone can resolve them), and a few summaries a day old (so
"blocked for 2 years 9 months" keeps counting). Handlers never see SQL.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from bot.core.baseline import with_quiet_buckets
from bot.core.catalog import Catalog, Region, Service
from bot.core.detection import Change, Detector, Incident, Thresholds, timed
from bot.core.summaries import CONTEXT, QUIET_WINDOW, PairSummary, focus_window, summarize
from bot.render import i18n
from bot.render.card import CARD_FORMAT, overview_lines, prepare_summary, render_card
from bot.sources.evidence import source_lines_for
from storage.crowd import CROWD_SOURCE as CROWD
from storage.crowd import problem_shares
from storage.database import Connection, Database
from storage.detection_marks import detection_mark, save_marks
from storage.dirty import clear_dirty, dirty_pairs, known_pairs
from storage.events import events_between
from storage.incidents import recent_incidents, save_incident
from storage.observations import observations_for, peaks_elsewhere
from storage.prepared import load_prepared, save_prepared
from storage.records import IncidentRecord, Observation, PreparedSummary
from storage.restrictions import restrictions_for

log = logging.getLogger(__name__)

CROWD_SOURCE = CROWD.name
# Date-only records are stored at 00:00 UTC of their day; widen reads so they are not missed.
DAY = timedelta(days=1)
# Summaries older than this are recomputed even without new data, a few per run.
SWEEP_AFTER = timedelta(days=1)
SWEEP_PER_RUN = 50
# Detectors kept in memory between refreshes, most recently used; a pair not kept is restored
# from the state stored with its mark (rebuilt from its readings and incident if it has none):
# about a millisecond for a dense pair (bench/refresh_surge.py). A dense pair's kept
# Detector is up to about 1 MB (what was typical for every reading of its weeks), so 64 stay
# well inside the bot's memory target.
KEEP_DETECTORS = 64
# Stored incidents a rebuilt Detector keeps out of its baseline (six weeks rarely hold more).
REBUILD_INCIDENTS = 100

Pair = tuple[str, str]


@dataclass
class RefreshHealth:
    last_success: datetime | None = None
    last_error: str | None = None
    failing_since: datetime | None = None
    pairs_last_run: int = 0

    @property
    def failing(self) -> bool:
        return self.failing_since is not None


@dataclass(frozen=True, slots=True)
class Transition:
    """An incident opened, got worse, came back within its cooldown, or ended: what alerts are
    made of. The incident carries its stored id, which never changes once it is alerted."""

    kind: Literal["opened", "escalated", "resolved", "reopened"]
    incident: IncidentRecord
    previous_level: str | None = None


@dataclass(frozen=True, slots=True)
class RefreshReport:
    pairs: int
    transitions: tuple[Transition, ...] = ()
    queued: int = 0  # outbox messages the listeners wrote


@dataclass(frozen=True, slots=True)
class RefreshBatch:
    """What one refresh found, handed to listeners inside its transaction."""

    now: datetime
    transitions: tuple[Transition, ...]
    summaries: dict[tuple[str, str], PairSummary]


# A listener writes what follows from a refresh (alerts, channel posts) in the same transaction
# as the refresh itself, so a transition and its messages land together or not at all. It
# returns how many outbox messages it queued.
Listener = Callable[[Connection, RefreshBatch], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Card:
    """The card for a pair, and whether it came prepared (with its age) or was made now."""

    html: str
    made_at: datetime
    prepared: bool


@dataclass
class _Index:
    by_service: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    by_region: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add(self, service: str, region: str) -> None:
        self.by_service[service].add(region)
        self.by_region[region].add(service)


class Summaries:
    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        rules: Thresholds | None = None,
        *,
        baseline_weeks: int = 6,
        bucket: timedelta = timedelta(minutes=15),
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.rules = rules or Thresholds()
        self.baseline_weeks = baseline_weeks
        self.bucket = bucket
        self.prepared: dict[Pair, PreparedSummary] = {}
        self.index = _Index()
        self.live: set[Pair] = set()
        # Pairs whose stored card is in an older layout: computed on demand, re-prepared first.
        self.outdated: set[Pair] = set()
        self.health = RefreshHealth()
        self.listeners: list[Listener] = []
        self.detectors: OrderedDict[Pair, Detector] = OrderedDict()
        # One refresh at a time: two would read the same previous incident and both queue its
        # alert (the scheduled tick and a new leader's immediate refresh can meet).
        self._refreshing = asyncio.Lock()

    # ------------------------------------------------------------------ reading

    async def load(self) -> int:
        """Warm the memory from the stored summaries (a restart, or another replica's work)."""
        for row in await load_prepared(self.db):
            self._keep(row)
        return len(self.prepared)

    async def follow(self) -> int:
        """Take in what the leader's refreshes stored since the last look; how many changed.

        A replica that does not lead never refreshes, so this is how its /status stays as
        fresh as the leader's (within one follow interval).
        """
        newest = max((row.made_at for row in self.prepared.values()), default=None)
        rows = await load_prepared(self.db, since=newest)
        changed = 0
        for row in rows:
            if self.prepared.get((row.service, row.region)) != row:
                self._keep(row)
                changed += 1
        return changed

    async def card(self, service: Service, region: Region, now: datetime) -> Card:
        prepared = self.prepared.get((service.key, region.code))
        english = i18n.current() == i18n.DEFAULT  # prepared cards are rendered in English
        current = (service.key, region.code) not in self.outdated
        if prepared is not None and prepared.made_at <= now and english and current:
            return Card(prepared.card, prepared.made_at, prepared=True)
        # Not prepared yet (first minutes after start) or asked about the past (`--at`).
        summary, _ = await self.compute(service, region, now)
        return Card(render_card(summary, now=now), now, prepared=False)

    async def service_lines(self, service: Service, now: datetime) -> list[str]:
        """Overview lines for a service in every region on record, busiest first."""
        keys = [(service.key, code) for code in self.index.by_service.get(service.key) or ()]
        return await self._overview(
            keys,
            now,
            walked=lambda: self.for_service(service, now),
            by="region",
            name=lambda row: self._region_name(row.region),
            line=lambda row: row.service_line,
        )

    async def region_lines(self, region: Region, now: datetime) -> list[str]:
        """Overview lines for every service on record in a region, busiest first."""
        keys = [(key, region.code) for key in self.index.by_region.get(region.code) or ()]
        return await self._overview(
            keys,
            now,
            walked=lambda: self.for_region(region, now),
            by="service",
            name=lambda row: self._service_name(row.service),
            line=lambda row: row.region_line,
        )

    async def _overview(
        self,
        keys: list[Pair],
        now: datetime,
        *,
        walked: Callable[[], Awaitable[list[PairSummary]]],
        by: str,
        name: Callable[[PreparedSummary], str],
        line: Callable[[PreparedSummary], str],
    ) -> list[str]:
        """From the prepared summaries when they are current and in the default language;
        otherwise from summaries computed now (`walked`)."""
        rows = [self.prepared[key] for key in keys]
        stale = not rows or any(row.made_at > now for row in rows)
        if stale or i18n.current() != i18n.DEFAULT:
            return overview_lines(await walked(), by=by)
        rows = [row for row in rows if row.has_data]
        rows.sort(key=lambda row: (tuple(-v for v in row.rank), name(row)))
        return [line(row) for row in rows]

    def _region_name(self, code: str) -> str:
        return self.catalog.region(code).name

    def _service_name(self, key: str) -> str:
        return self.catalog.service(key).name

    # ------------------------------------------------------------------ computing

    async def compute(
        self, service: Service, region: Region, now: datetime
    ) -> tuple[PairSummary, list[Incident]]:
        """A pair's summary as of `now`, walked afresh from a bounded read (asking about the
        past, or before the first refresh): the refresh keeps its own Detector instead."""
        observations = await self._observations(service, region, now)
        detector = Detector(self.rules)
        for row in self._readings(observations, now):
            detector.step(row)
        detector.settle(now)
        incidents = detector.incidents()
        summary = await self._summary(service, region, observations, incidents, detector, now)
        return summary, incidents

    async def _observations(
        self,
        service: Service,
        region: Region,
        now: datetime,
        since: datetime | None = None,
        timed_since: datetime | None = None,
    ) -> list[Observation]:
        limit = self.baseline_weeks * 7 * int(DAY / self.bucket) + 200
        return await observations_for(
            self.db,
            service.key,
            region.code,
            until=now,
            limit=limit,
            since=since,
            timed_since=timed_since,
        )

    def _readings(self, observations: list[Observation], now: datetime) -> list[Observation]:
        series = with_quiet_buckets(observations, source=CROWD_SOURCE, now=now, bucket=self.bucket)
        return [row for row in timed(series) if row.at <= now]

    async def _summary(
        self,
        service: Service,
        region: Region,
        observations: list[Observation],
        incidents: list[Incident],
        detector: Detector,
        now: datetime,
    ) -> PairSummary:
        routine = 0 if detector.open else detector.routine()
        # A routine surge running is what the card talks about, not the last incident before it.
        window = focus_window(observations, [] if routine else incidents, now)
        events = []
        elsewhere: dict[str, list[Observation]] = defaultdict(list)
        if window:
            events = await events_between(
                self.db, service.key, [region.code, "global"], window.start - DAY, window.end
            )
        if window and incidents:  # "elsewhere, same period" is for an incident, not a quiet day
            for row in await peaks_elsewhere(
                self.db, service.key, window.start, window.end, exclude_region=region.code
            ):
                elsewhere[row.region].append(row)
        restrictions = await restrictions_for(self.db, region.code, [service.key, "internet"])
        problems = []
        if window and any(row.source == CROWD_SOURCE for row in observations):
            problems = await problem_shares(
                self.db, service.key, region.code, window.start, window.end + self.bucket
            )
        latest_timed = next(
            (row for row in reversed(observations) if row.precision == "minute"), None
        )
        summary = summarize(
            service=service,
            region=region,
            observations=observations,
            incidents=incidents,
            window=window,
            events=events,
            restrictions=restrictions,
            elsewhere=[
                (self.catalog.region(code), rows)
                for code, rows in elsewhere.items()
                if self._known_region(code)
            ],
            typical=detector.typical_at(latest_timed.at) if latest_timed else None,
            problems=problems,
            now=now,
        )
        typical_series = tuple(
            (row.at, value)
            for row in summary.counts
            if row.precision == "minute" and (value := detector.typical.get(row.at)) is not None
        )
        findings = await source_lines_for(self.db, service.key, region.code, catalog=self.catalog)
        return replace(
            summary,
            typical_series=typical_series,
            findings=None if findings.empty else findings,
            routine=routine,
            routine_window=self.rules.routine_window,
        )

    def _known_region(self, code: str) -> bool:
        try:
            self.catalog.region(code)
        except KeyError:
            return False
        return True

    async def for_service(self, service: Service, now: datetime) -> list[PairSummary]:
        """Every region with data for this service, busiest first (computed, not prepared)."""
        pairs = {pair for pair in await known_pairs(self.db) if pair[0] == service.key}
        summaries = [
            (await self.compute(service, self.catalog.region(code), now))[0]
            for _, code in pairs
            if self._known_region(code)
        ]
        return sorted(summaries, key=lambda s: (tuple(-v for v in s.busyness()), s.region.name))

    async def for_region(self, region: Region, now: datetime) -> list[PairSummary]:
        pairs = {pair for pair in await known_pairs(self.db) if pair[1] == region.code}
        summaries = [
            (await self.compute(self.catalog.service(key), region, now))[0]
            for key, _ in pairs
            if key in {s.key for s in self.catalog.services}
        ]
        return sorted(summaries, key=lambda s: (tuple(-v for v in s.busyness()), s.service.name))

    # ------------------------------------------------------------------ refreshing

    async def refresh_safely(self, now: datetime) -> RefreshReport | None:
        """One refresh; a failure keeps the last good summaries and is retried next run."""
        try:
            async with self._refreshing:
                report = await self.refresh(now)
        except Exception as error:
            log.exception("refresh failed; keeping the last good summaries")
            self.detectors.clear()  # they may have judged readings the database never recorded
            self.health.last_error = f"{type(error).__name__}: {error}"
            self.health.failing_since = self.health.failing_since or now
            return None
        self.health.last_success = now
        self.health.last_error = None
        self.health.failing_since = None
        self.health.pairs_last_run = report.pairs
        return report

    async def refresh(self, now: datetime) -> RefreshReport:
        # Prepared cards, alerts and channel posts are written in English, whoever asked last.
        with i18n.use_language(i18n.DEFAULT):
            return await self._refresh(now)

    async def _refresh(self, now: datetime) -> RefreshReport:
        marks = await dirty_pairs(self.db)
        pairs = await self._pairs_to_refresh(marks, now)
        prepared: list[PreparedSummary] = []
        advances: list[_Advance] = []
        summaries: dict[Pair, PairSummary] = {}
        for service_key, region_code in sorted(pairs):
            try:
                service = self.catalog.service(service_key)
                region = self.catalog.region(region_code)
            except KeyError:
                log.warning("skipping %s/%s: not in the catalog", service_key, region_code)
                continue
            pair = (service_key, region_code)
            mark, saved = await detection_mark(self.db, *pair)
            detector, told = await self._continuing(pair, mark, saved, now)
            observations = await self._needed(service, region, now, mark, detector, told)
            advance = await self._advance(pair, detector, told, observations, now, mark)
            if saved is None and advance.store is None and mark is not None:
                # Kept in memory but stored without its state (by an older version): store it.
                advance = replace(advance, store=(*pair, mark, advance.detector.state()))
            advances.append(advance)
            current = advance.detector.current
            incidents = [current.snapshot()] if current is not None else []
            summary = await self._summary(
                service, region, observations, incidents, advance.detector, now
            )
            summaries[(service_key, region_code)] = summary
            prepared.append(prepare_summary(summary, now=now))
        queued = 0
        transitions: list[Transition] = []
        async with self.db.transaction() as connection:
            for advance in advances:
                transitions += await self._record(connection, advance, now)
            await save_marks(connection, [a.store for a in advances if a.store is not None])
            await save_prepared(connection, prepared)
            await clear_dirty(connection, marks)
            batch = RefreshBatch(now, tuple(transitions), summaries)
            for listener in self.listeners:
                queued += await listener(connection, batch)
        for row in prepared:
            self._keep(row)
        return RefreshReport(len(prepared), tuple(transitions), queued)

    async def _continuing(
        self, pair: Pair, mark: datetime | None, saved: bytes | None, now: datetime
    ) -> tuple[Detector | None, list[IncidentRecord] | None]:
        """The pair's Detector as judged up to `mark`: kept in memory, or restored from its
        stored state with the stored incident it must take over (the second value; None for
        a kept one). (None, None): it must be rebuilt from the readings."""
        kept = self.detectors.pop(pair, None)
        if kept is not None and kept.decided == mark:
            return kept, None
        if mark is None or saved is None:
            return None, None
        try:
            restored = Detector.restored(saved, self.rules)
        except Exception:  # a damaged state costs a rebuild, never the refresh
            log.warning("rebuilding %s/%s: its stored detector state is unreadable", *pair)
            return None, None
        if restored is None or restored.decided != mark:
            return None, None
        told = await recent_incidents(self.db, service=pair[0], region=pair[1], until=now, limit=1)
        return restored, told

    async def _needed(
        self,
        service: Service,
        region: Region,
        now: datetime,
        mark: datetime | None,
        detector: Detector | None,
        told: list[IncidentRecord] | None,
    ) -> list[Observation]:
        """With this pair's Detector kept or restored, the refresh reads only what the card
        shows (the latest day, and the latest incident's stretch) and the readings not judged
        yet, not the weeks behind the baseline: its cost follows the new data, not the history.
        Otherwise it reads the bounded history, to rebuild the Detector."""
        if detector is None or mark is None:
            return await self._observations(service, region, now)
        recent = mark - QUIET_WINDOW - DAY
        # The card's quiet window ends at the newest reading, never before the mark: a timed
        # reading older than a window before the mark is not shown, only date-only ones (stored
        # at 00:00) need the day more. For a dense pair that halves what is read and walked.
        timed = mark - QUIET_WINDOW
        if told is not None:  # restored: it will take over the newest stored incident
            span = (told[0].opened_at, told[0].resolved_at) if told else None
        else:
            current = detector.current
            span = (current.start, current.end) if current and current.start else None
        if span is None:
            return await self._observations(service, region, now, recent, timed)
        start = span[0] - CONTEXT - DAY
        end = (span[1] or now) + CONTEXT + DAY
        if end >= recent:
            return await self._observations(service, region, now, start)
        stretch = await self._observations(service, region, end, start)
        return stretch + await self._observations(service, region, now, recent, timed)

    async def _advance(
        self,
        pair: Pair,
        detector: Detector | None,
        told: list[IncidentRecord] | None,
        observations: list[Observation],
        now: datetime,
        mark: datetime | None,
    ) -> _Advance:
        """Judge the pair's readings that no refresh judged yet, continuing from what is stored.

        Readings up to the stored mark were judged before and alerted on: a Detector kept from
        the last refresh continues as it is; one restored from its stored state takes over the
        stored incident (`told`); otherwise one is rebuilt from the readings without judging
        them again (`Detector.warm`, for the baseline) and takes over the stored incident, so a
        newer baseline cannot move that incident's start or open it twice. A crowd bucket is
        judged once it is complete. The new mark carries the state to store with it.
        """
        readings = self._readings(observations, now)
        rebuilt = detector is None
        if told is not None and detector is not None:
            detector.resume(_resumed(told[0], readings) if told else None)
        if detector is None:
            detector = Detector(self.rules, remember=0)
            if mark is not None:
                told = await recent_incidents(
                    self.db, service=pair[0], region=pair[1], until=now, limit=REBUILD_INCIDENTS
                )
                detector.warm(
                    [row for row in readings if row.at <= mark],
                    [(row.opened_at, row.resolved_at) for row in told],
                )
                detector.resume(_resumed(told[0], readings) if told else None)
        current = detector.current
        was_open = current.id if current is not None and detector.open else None
        changes: list[Change] = []
        for row in readings:
            if mark is not None and row.at <= mark:
                continue
            if row.source == CROWD_SOURCE and row.at + self.bucket > now:
                break
            changes += detector.step(row)
        changes += detector.settle(now)
        self.detectors[pair] = detector
        while len(self.detectors) > KEEP_DETECTORS:
            self.detectors.popitem(last=False)
        moved = detector.decided if detector.decided != mark else None
        new_mark = (pair[0], pair[1], moved) if moved is not None else None
        store = None
        if detector.decided is not None and (moved is not None or rebuilt):
            store = (pair[0], pair[1], detector.decided, detector.state())
        return _Advance(pair, detector, changes, was_open, new_mark, store)

    async def _record(
        self, connection: Connection, advance: _Advance, now: datetime
    ) -> list[Transition]:
        """Store what the advance changed and say which changes are news for alerts.

        A change older than `quiet_after` is history (a first refresh over an imported past),
        stored but not announced; an incident's end is announced only if its start was.
        """
        latest: dict[object, Incident] = {}
        for change in advance.changes:
            latest[_identity(change.incident)] = change.incident
        current = advance.detector.current
        if current is not None and (advance.changes or advance.mark is not None):
            latest[_identity(current.snapshot())] = current.snapshot()
        ids: dict[object, int] = {}
        for key, incident in latest.items():
            saved = await save_incident(connection, incident_record(incident))
            assert saved.id is not None
            ids[key] = saved.id
        if current is not None and current.id is None and current.start is not None:
            current.id = ids.get(("new", current.start))
        # Announced: an incident that was open before this refresh (its start was told), or
        # one that opened recently and is still open now. One that began and ended between
        # two looks (an import of the past hour) is stored, not announced.
        announced = {advance.was_open} if advance.was_open is not None else set()
        still_open = current.id if current is not None and advance.detector.open else None
        news: list[Transition] = []
        for change in advance.changes:
            key = _identity(change.incident)
            record = replace(incident_record(change.incident), id=ids[key])
            if change.kind == "resolved":
                if ids[key] not in announced:
                    continue
            elif ids[key] != still_open or now - change.at > self.rules.quiet_after:
                continue
            news.append(Transition(change.kind, record, change.previous_level))
        return news

    async def _pairs_to_refresh(
        self, marks: list[tuple[str, str, int]], now: datetime
    ) -> set[Pair]:
        if not self.prepared:
            await self.load()
        pairs: set[Pair] = set()
        if not self.prepared:
            pairs |= await known_pairs(self.db)  # first run on this database
        for service, region, _ in marks:
            if service != "*" and region != "*":
                pairs.add((service, region))
            if region in ("global", "*"):  # a worldwide statement: every region's card
                pairs |= {(service, code) for code in self.index.by_service.get(service, ())}
            if service in ("internet", "*"):  # a shutdown or a country's reading: every card
                pairs |= {(key, region) for key in self.index.by_region.get(region, ())}
        pairs |= self.live
        pairs |= self.outdated  # cards stored by an older version of the bot
        old = [pair for pair, row in self.prepared.items() if now - row.made_at > SWEEP_AFTER]
        pairs |= set(sorted(old, key=lambda pair: self.prepared[pair].made_at)[:SWEEP_PER_RUN])
        return pairs

    def _keep(self, row: PreparedSummary) -> None:
        pair = (row.service, row.region)
        self.prepared[pair] = row
        # An older layout's card still gives the overviews their lines, but is never served.
        if row.card_format != CARD_FORMAT:
            self.outdated.add(pair)
        else:
            self.outdated.discard(pair)
        self.index.add(*pair)
        if row.level != "normal":
            self.live.add(pair)
        else:
            self.live.discard(pair)


@dataclass(frozen=True, slots=True)
class _Advance:
    """One pair's refresh: the detector after it, what changed, the new mark if it moved, and
    what to store for the next refresh (the mark with the detector's state) if anything."""

    pair: Pair
    detector: Detector
    changes: list[Change]
    was_open: int | None  # the id of the incident open before this refresh
    mark: tuple[str, str, datetime] | None
    store: tuple[str, str, datetime, bytes | None] | None = None  # the mark and state to store


def _identity(incident: Incident) -> object:
    """Stored incidents by id; one opened in this refresh by its start, until it is saved."""
    return incident.id if incident.id is not None else ("new", incident.start)


def _resumed(record: IncidentRecord, readings: list[Observation]) -> Incident:
    """A stored incident as the detector continues it, its peak reading found again if kept."""
    peak = next(
        (row for row in readings if row.at == record.peak_at and row.count == record.peak_count),
        Observation(record.service, record.region, record.peak_at, record.peak_count, ""),
    )
    levels = tuple((at, level) for at, level in record.levels)
    return Incident(
        service=record.service,
        region=record.region,
        start=record.opened_at,
        last_seen=record.last_seen,
        end=record.resolved_at,
        peak=peak,
        level=record.level,  # type: ignore[arg-type]
        latest_level=levels[-1][1] if levels else record.level,  # type: ignore[arg-type]
        levels=levels,  # type: ignore[arg-type]
        id=record.id,
    )


def incident_record(incident: Incident) -> IncidentRecord:
    return IncidentRecord(
        service=incident.service,
        region=incident.region,
        opened_at=incident.start,
        last_seen=incident.last_seen,
        resolved_at=incident.end,
        peak_count=incident.peak.count,
        peak_at=incident.peak.at,
        level=incident.level,
        levels=incident.levels,
        id=incident.id,
    )

"""Running a source once: fetch and parse everything, then land it all, or land nothing.

The order is what keeps a bad day contained. Every request of a run is made and every response
parsed before anything is written; one failure (a timeout, a 500, a body too big, JSON of the
wrong shape) ends the run with only the source's health row changed. What did come back lands
through `import_dataset`, the same transaction files use (idempotent on natural keys, marking
pairs dirty for the refresh job), then the readings and the health row together. A crash
between those two leaves the events in and the readings one run old; the next run repeats the
import harmlessly and brings the readings up to date.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx

from bot.core.clock import Clock
from bot.sources.adapter import Adapter, SourceResult
from bot.sources.fetching import USER_AGENT, Fetcher, Sleep, SourceError
from storage.database import Database
from storage.imports import import_dataset
from storage.records import ImportCounts
from storage.source_health import Pair, record_failure, record_success, watched_pairs

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunReport:
    """How one run went, for the logs, the check table and tests."""

    name: str
    kind: str
    targets: tuple[Pair, ...]
    ok: bool
    summary: str  # "14 events, 2 readings" or the failure's reason
    error: str | None = None
    detail: str | None = None
    items: int = 0
    new: ImportCounts | None = None
    seconds: float = 0.0
    requests: int = 0


def http_client(timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        follow_redirects=True,
        timeout=timeout,
    )


async def collect(
    adapter: Adapter,
    targets: Sequence[Pair],
    now: datetime,
    *,
    sleep: Sleep | None = None,
) -> tuple[SourceResult, int]:
    """Everything the source says about `targets`, and how many requests it took.

    Raises SourceError for anything the source did wrong; an adapter's own bug surfaces as
    SourceError too, so it is reported like any failure instead of escaping into the job.
    """
    policy = adapter.config.policy
    async with http_client(policy.timeout) as client:
        fetcher = Fetcher(client, policy) if sleep is None else Fetcher(client, policy, sleep=sleep)
        try:
            result = await adapter.collect(fetcher, targets, now)
        except SourceError:
            raise
        except Exception as error:  # a parser bug must not look like a network problem
            log.exception("source %s: unexpected error while reading", adapter.config.name)
            raise SourceError(f"internal error ({type(error).__name__})", str(error)) from error
        return result, fetcher.requests


async def run_source(
    db: Database, adapter: Adapter, clock: Clock, *, sleep: Sleep | None = None
) -> RunReport:
    """Run once and record the outcome. Never raises, except for cancellation."""
    config = adapter.config
    started = time.perf_counter()
    targets: list[Pair] | None = None
    try:
        targets = adapter.targets(await watched_pairs(db))
        result, requests = await collect(adapter, targets, clock.now(), sleep=sleep)
        new = await import_dataset(db, result.dataset)
        await record_success(
            db,
            config.name,
            config.kind,
            clock.now(),
            items=result.items,
            targets=targets,
            connectivity=result.connectivity,
            blocking=result.blocking,
        )
    except SourceError as error:
        return await _failed(db, adapter, targets, error, started, clock)
    except Exception as error:
        log.exception("source %s: could not store what it said", config.name)
        failure = SourceError(f"could not store it ({type(error).__name__})", str(error))
        return await _failed(db, adapter, targets, failure, started, clock)
    report = RunReport(
        name=config.name,
        kind=config.kind,
        targets=tuple(targets or ()),
        ok=True,
        summary=result.summary(),
        items=result.items,
        new=new,
        seconds=time.perf_counter() - started,
        requests=requests,
    )
    log.info(
        "source %s: %s (%d new records) from %d requests",
        config.name,
        report.summary,
        new.total,
        requests,
    )
    return report


async def _failed(
    db: Database,
    adapter: Adapter,
    targets: Sequence[Pair] | None,
    error: SourceError,
    started: float,
    clock: Clock,
) -> RunReport:
    config = adapter.config
    log.warning("source %s failed: %s", config.name, error)
    try:
        await record_failure(
            db,
            config.name,
            config.kind,
            clock.now(),
            reason=error.reason,
            detail=error.detail,
            targets=targets,
        )
    except Exception:  # the database itself failing: logged, the job goes on next time
        log.exception("source %s: could not record its failure", config.name)
    return RunReport(
        name=config.name,
        kind=config.kind,
        targets=tuple(targets or ()),
        ok=False,
        summary=error.reason,
        error=error.reason,
        detail=error.detail,
        seconds=time.perf_counter() - started,
    )


async def check_source(
    adapter: Adapter, targets: Sequence[Pair], now: datetime, *, sleep: Sleep | None = None
) -> RunReport:
    """Try the source once without storing anything: `outagebot sources check`."""
    config = adapter.config
    started = time.perf_counter()
    try:
        result, requests = await collect(adapter, targets, now, sleep=sleep)
    except SourceError as error:
        return RunReport(
            name=config.name,
            kind=config.kind,
            targets=tuple(targets),
            ok=False,
            summary=error.reason,
            error=error.reason,
            detail=error.detail,
            seconds=time.perf_counter() - started,
        )
    return RunReport(
        name=config.name,
        kind=config.kind,
        targets=tuple(targets),
        ok=True,
        summary=result.summary(),
        items=result.items,
        seconds=time.perf_counter() - started,
        requests=requests,
    )

"""The one shape every outside source has, and the careful HTTP client they all share.

An adapter turns HTTP responses into a `SourceResult`: a `Dataset` (events, observations,
restrictions) that lands through the same import path as files, plus the latest structured
readings the card needs. Fetching is the only I/O; each adapter's parsing is pure (bytes or
JSON and `now` in, records out), so it is tested on recorded responses without a network.

`Fetcher` is where the network's bad days are handled once for every source: a deadline for the
whole request (a server dripping a byte at a time cannot hold a run hostage, which httpx's
per-read timeout alone would allow), a cap on the body read while streaming, and retries with
exponential backoff and jitter for what is worth retrying (timeouts, lost connections, 429 and
5xx), never for what will fail the same way again (other 4xx, oversize, malformed bodies).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar

import httpx

from bot.core.catalog import Catalog
from storage.records import Dataset
from storage.source_health import Pair, Watched
from storage.source_readings import BlockingReading, ConnectivityReading

USER_AGENT = "outagebot/0.1 (+https://github.com/outagebot)"

# Statuses worth another try: the server said "later" or broke on its side.
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


class SourceError(Exception):
    """Why a source gave nothing usable this run.

    `reason` is short enough for a card line ("timed out after 10 s"); `detail` adds which
    request and how many attempts, for the admins' /sources.
    """

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason} ({self.detail})" if self.detail else self.reason


class ShapeError(SourceError):
    """The body parsed but is not shaped like the API's documented response."""

    def __init__(self, what: str) -> None:
        super().__init__(f"unexpected response: {what}")


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    timeout: float = 10.0  # seconds for one request, connect to last byte
    retries: int = 2  # further attempts after a retryable failure
    backoff: float = 2.0  # seconds before the first retry; doubles each time, plus jitter
    max_bytes: int = 2_000_000  # a larger body is abandoned while streaming


Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")


class Fetcher:
    """GET with a deadline, a size cap and retries; counts what it did for the run's report."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        policy: FetchPolicy,
        *,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.policy = policy
        self._sleep = sleep
        self._jitter = jitter
        self.requests = 0
        self.bytes = 0

    async def get_json(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        body = await self.get_bytes(url, params, headers=headers)
        try:
            return json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SourceError(f"malformed JSON ({error})", _where(url)) from None

    async def get_parsed(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        parse: Callable[[Any], T],
        *,
        headers: Mapping[str, str] | None = None,
    ) -> T:
        """JSON through a pure parser; a ShapeError is told which request it came from."""
        data = await self.get_json(url, params, headers=headers)
        try:
            return parse(data)
        except ShapeError as error:
            error.detail = error.detail or _where(url)
            raise

    async def get_bytes(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """The body; `headers` add to or override the client's (an API token, a feed's Accept).

        Header values never reach an error message or a log line here, so a token passed in
        them stays out of the health records.
        """
        attempts = self.policy.retries + 1
        for attempt in range(attempts):
            try:
                return await self._once(url, params, headers)
            except _Retryable as failure:
                if attempt + 1 >= attempts:
                    tries = f"{attempts} attempts" if attempts > 1 else "1 attempt"
                    raise SourceError(failure.reason, f"{_where(url)}, {tries}") from None
                await self._sleep(self._delay(attempt, failure.retry_after))
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        base = self.policy.backoff * (2**attempt)
        delay = base + self._jitter() * self.policy.backoff  # jitter: runs don't retry in step
        if retry_after is not None:
            delay = max(delay, min(retry_after, 8 * self.policy.backoff))
        return delay

    async def _once(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None = None,
    ) -> bytes:
        self.requests += 1
        limit = self.policy.max_bytes
        try:
            async with asyncio.timeout(self.policy.timeout):
                async with self.client.stream(
                    "GET", url, params=params, headers=headers
                ) as response:
                    status = response.status_code
                    if status in RETRYABLE_STATUSES:
                        raise _Retryable(f"HTTP {status}", _retry_after(response))
                    if status >= 400:
                        raise SourceError(f"HTTP {status}", _where(url))
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > limit:
                        raise SourceError(_too_big(limit), _where(url))
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > limit:
                            raise SourceError(_too_big(limit), _where(url))
                        chunks.append(chunk)
                    self.bytes += size
                    return b"".join(chunks)
        except TimeoutError:
            raise _Retryable(f"timed out after {_seconds(self.policy.timeout)}") from None
        except httpx.TimeoutException:
            raise _Retryable(f"timed out after {_seconds(self.policy.timeout)}") from None
        except httpx.TransportError as error:
            raise _Retryable(f"connection failed ({type(error).__name__})") from None
        except httpx.RequestError as error:  # undecodable body, redirect loop: no use retrying
            raise SourceError(f"request failed ({type(error).__name__})", _where(url)) from None


def _where(url: str) -> str:
    return f"GET {httpx.URL(url).path or '/'}"


def _too_big(limit: int) -> str:
    return f"response larger than {limit:,} bytes"


def _seconds(value: float) -> str:
    return f"{value:g} s"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "").strip()
    return float(value) if value.isdigit() else None


@dataclass(frozen=True, slots=True)
class SourceResult:
    """What one run brought: records for the import path and the latest readings for the card."""

    dataset: Dataset = field(default_factory=Dataset)
    connectivity: tuple[ConnectivityReading, ...] = ()
    blocking: tuple[BlockingReading, ...] = ()

    @property
    def items(self) -> int:
        data = self.dataset
        return (
            len(data.observations)
            + len(data.events)
            + len(data.restrictions)
            + len(self.connectivity)
            + len(self.blocking)
        )

    def summary(self) -> str:
        """`14 events, 3 readings` for the check table and the logs."""
        data = self.dataset
        parts = [
            (len(data.observations), "observation"),
            (len(data.events), "event"),
            (len(data.restrictions), "restriction"),
            (len(self.connectivity) + len(self.blocking), "reading"),
        ]
        said = [f"{count} {noun}{'s' if count != 1 else ''}" for count, noun in parts if count]
        return ", ".join(said) or "nothing new to say"


class ConfigProblem(ValueError):
    """A sources-file entry that cannot work, phrased for the person who wrote it."""


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One `[[sources]]` entry, with the defaults filled in and names resolved to ids."""

    name: str
    kind: str
    url: str
    interval: float
    policy: FetchPolicy
    max_targets: int
    services: tuple[str, ...] | None = None  # service keys; None = what the bot watches
    regions: tuple[str, ...] | None = None  # region codes; None = what the bot watches
    options: Mapping[str, Any] = field(default_factory=dict)  # the kind's own settings


class Adapter(Protocol):
    """A kind of source. New kinds (Cloudflare Radar, RSS feeds) implement this and register."""

    kind: ClassVar[str]
    default_url: ClassVar[str | None]
    option_names: ClassVar[frozenset[str]]

    config: SourceConfig

    def targets(self, watched: Watched) -> list[Pair]:
        """The (service, region) pairs this run covers; '*' where it covers all of one side."""
        ...

    async def collect(
        self, fetcher: Fetcher, targets: Sequence[Pair], now: datetime
    ) -> SourceResult:
        """Fetch and parse everything for `targets`; raise SourceError if any part fails."""
        ...


AdapterFactory = Callable[[SourceConfig, Catalog], Adapter]


# ------------------------------------------------------------ helpers the adapters share


def option_number(
    options: Mapping[str, Any],
    key: str,
    default: float,
    *,
    minimum: float,
    maximum: float | None = None,
) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigProblem(f"{key} must be a number, not {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum:g}" if maximum is not None else ""
        raise ConfigProblem(f"{key} must be at least {minimum:g}{upper}")
    return float(value)


def option_flag(options: Mapping[str, Any], key: str, default: bool) -> bool:
    value = options.get(key, default)
    if not isinstance(value, bool):
        raise ConfigProblem(f"{key} must be true or false, not {value!r}")
    return value


def option_choices(
    options: Mapping[str, Any], key: str, default: Sequence[str], allowed: Sequence[str]
) -> tuple[str, ...]:
    value = options.get(key, list(default))
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ConfigProblem(f"{key} must be a non-empty list, e.g. {key} = {list(default)!r}")
    unknown = [v for v in value if v not in allowed]
    if unknown:
        raise ConfigProblem(f"{key}: unknown {', '.join(unknown)} (known: {', '.join(allowed)})")
    return tuple(dict.fromkeys(value))


EVERY = "*"


def watched_regions(watched: Watched) -> set[str]:
    """Concrete regions in the watched pairs; a '*' region means every region on record."""
    regions: set[str] = set()
    for _, region in watched.pairs:
        regions |= set(watched.regions_on_record) if region == EVERY else {region}
    return regions


def watched_services(watched: Watched, catalog: Catalog) -> set[str]:
    """Concrete services in the watched pairs; a '*' service means every service."""
    services: set[str] = set()
    for service, _ in watched.pairs:
        services |= {s.key for s in catalog.services} if service == EVERY else {service}
    return services


def watched_concrete_pairs(watched: Watched, catalog: Catalog) -> set[Pair]:
    every_service = {s.key for s in catalog.services}
    pairs: set[Pair] = set()
    for service, region in watched.pairs:
        services = every_service if service == EVERY else {service}
        regions = set(watched.regions_on_record) if region == EVERY else {region}
        pairs |= {(s, r) for s in services for r in regions}
    return pairs


def chosen_pairs(config: SourceConfig, watched: Watched, catalog: Catalog) -> set[Pair]:
    """The pairs a source covers: its own `services` × `regions`, a side left out filled in
    from what the bot watches; both left out, exactly the watched pairs."""
    if config.services is None and config.regions is None:
        return watched_concrete_pairs(watched, catalog)
    services = (
        set(config.services) if config.services is not None else watched_services(watched, catalog)
    )
    regions = set(config.regions) if config.regions is not None else watched_regions(watched)
    return {(s, r) for s in services for r in regions}


def capped(targets: Sequence[Pair] | set[Pair], limit: int) -> list[Pair]:
    """Sorted, at most `limit`: a wildcard never turns one run into hundreds of requests."""
    return sorted(targets)[:limit]

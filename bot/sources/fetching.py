"""The careful HTTP client every outside source shares.

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
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

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

"""The in-process Bot API with faults injected: Telegram errors and lost connections on demand.

Only tests need to make Telegram fail, so this lives with them rather than in bot/offline,
which `outagebot console` and `ask` use.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from telegram.error import NetworkError, TimedOut

from bot.offline.botapi import DEFAULT_DESCRIPTIONS, InProcessBotAPI


@dataclass
class _Failure:
    error_code: int
    description: str
    parameters: dict | None
    remaining: int


@dataclass
class _LostConnection:
    remaining: int
    timed_out: bool


class FaultyBotAPI(InProcessBotAPI):
    """InProcessBotAPI plus `fail_next` and `fail_network_next`."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._failures: dict[str, deque[_Failure]] = {}
        self._lost: dict[str, deque[_LostConnection]] = {}

    def fail_next(
        self,
        method: str,
        *,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with a Telegram error response.

        ``description`` defaults to Telegram's wording for the code (e.g. 429 "Too Many
        Requests: retry after N", 403 "Forbidden: bot was blocked by the user").
        """
        parameters: dict[str, int] = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = migrate_to_chat_id
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            elif error_code == 400 and migrate_to_chat_id is None:
                raise ValueError("a 400 error needs a description, e.g. 'Bad Request: ...'")
            else:
                description = DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
        self._failures.setdefault(method.lower(), deque()).append(
            _Failure(error_code, description, parameters or None, times)
        )

    def fail_network_next(self, method: str, times: int = 1, *, timed_out: bool = False) -> None:
        """Make the next ``times`` calls of ``method`` raise NetworkError (or TimedOut)."""
        self._lost.setdefault(method.lower(), deque()).append(_LostConnection(times, timed_out))

    def injected_answer(self, method: str) -> tuple[int, bytes] | None:
        lost = self._lost.get(method)
        if lost:
            lost[0].remaining -= 1
            timed_out = lost[0].timed_out
            if lost[0].remaining <= 0:
                lost.popleft()
            if timed_out:
                raise TimedOut(f"injected timeout in {method}")
            raise NetworkError(f"injected network error in {method}")
        failures = self._failures.get(method)
        if failures:
            failure = failures[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                failures.popleft()
            return self._error(failure.error_code, failure.description, failure.parameters)
        return None

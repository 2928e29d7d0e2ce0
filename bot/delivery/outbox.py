"""Draining the outbox into Telegram within its limits, surviving every error it can answer.

A row is marked sent only after Telegram accepted it, and each mark commits before the next
send, so a crash loses nothing and a restart resends nothing that was marked sent. What is
unknowable stays so: if the process dies while a request is in flight, that one message was not
acknowledged and goes again after the restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.core.clock import Clock
from bot.delivery.ratelimit import SendLimits
from storage.database import Database
from storage.outbox import (
    OutboxRow,
    channel_post,
    claim_due,
    drop_pending_for_chat,
    mark_failed,
    mark_sent,
    move_pending,
    postpone,
    retry_later,
)
from storage.subscriptions import drop_chat, move_chat

log = logging.getLogger(__name__)

EDIT_INTERVAL = timedelta(minutes=1)  # a channel post is edited at most once a minute
POLL_SECONDS = 1.0  # rows written by another process are seen within this
MAX_ATTEMPTS = 6  # network errors and 5xx: give up (and keep the row as failed) after this
STOP_GRACE_SECONDS = 10.0  # for a sendMessage in flight at stop (PTB: 5 s per phase)


def process_name() -> str:
    """Who holds a claim: enough to find the process (host, pid) and never reused (nonce)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Delivery:
    def __init__(
        self,
        bot: Bot,
        db: Database,
        clock: Clock,
        *,
        limits: SendLimits | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        holder: str | None = None,
    ) -> None:
        self.bot = bot
        self.holder = holder or process_name()
        self.db = db
        self.clock = clock
        self.limits = limits or SendLimits()
        self.max_attempts = max_attempts
        self.monotonic = monotonic
        self.sleep = sleep
        self.wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._in_flight = False  # a row between "send" and "recorded as sent"

    # ------------------------------------------------------------------ running

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self.run_forever(), name="outbox-delivery")

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop after the row in flight, if any, is sent and recorded (at most `grace` s).

        Cancelling a sendMessage that Telegram may already have accepted leaves its row unsent,
        and the next leader sends it again: on a planned restart that duplicate is avoidable.
        Nothing new is started once stopping; waiting between rows is cut short.
        """
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        if self._in_flight:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(task), timeout=grace)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def run_forever(self) -> None:
        while not self._stopping:
            self.wake.clear()
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox delivery pass failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), timeout=POLL_SECONDS)

    async def drain(self) -> int:
        """Deliver everything due now, a batch at a time; return how many Telegram accepted."""
        accepted = 0
        while not self._stopping:
            rows = await claim_due(self.db, self.holder, self.clock.now())
            if not rows:
                return accepted
            done, handled = await self._deliver_batch(rows)
            accepted += done
            if not handled:
                return accepted
        return accepted

    async def _deliver_batch(self, rows: list[OutboxRow]) -> tuple[int, int]:
        """Send the batch in order, each as soon as its chat is free; (accepted, handled)."""
        pending = list(rows)
        accepted = handled = 0
        while pending and not self._stopping:
            now = self.monotonic()
            choice, wait = None, float("inf")
            for index, row in enumerate(pending):
                delay = self.limits.delay(row.chat_id, now)
                if delay == 0:
                    choice = index
                    break
                wait = min(wait, delay)
            if choice is None:
                await self.sleep(wait)
                continue
            row = pending.pop(choice)
            handled += 1
            self._in_flight = True
            try:
                if await self.deliver(row):
                    accepted += 1
            finally:
                self._in_flight = False
        return accepted, handled

    # ------------------------------------------------------------------ one row

    async def deliver(self, row: OutboxRow) -> bool:
        """Try one row; True when Telegram accepted it."""
        now = self.clock.now()
        try:
            message_id = await self._send(row)
        except _NotYet as wait:
            await postpone(self.db, row, now + wait.delay, wait.reason)
            return False
        except RetryAfter as error:
            seconds = _seconds(error.retry_after)
            self.limits.pause(self.monotonic() + seconds)
            log.warning("Telegram asked to wait %.0f s; outbox row %d waits", seconds, row.id)
            await postpone(self.db, row, now + timedelta(seconds=seconds), f"RetryAfter {seconds}")
            return False
        except ChatMigrated as error:
            await self._migrated(row, error.new_chat_id)
            return False
        except Forbidden as error:
            await self._forbidden(row, str(error))
            return False
        except BadRequest as error:
            if "message is not modified" in str(error).lower():
                await mark_sent(self.db, row, None, now)
                return True
            log.warning("outbox row %d refused by Telegram: %s", row.id, error)
            await mark_failed(self.db, row, f"BadRequest: {error}")
            return False
        except (NetworkError, TelegramError) as error:  # network, timeouts and 5xx
            await self._network_error(row, error)
            return False
        self.limits.record(row.chat_id, self.monotonic())
        await mark_sent(self.db, row, message_id, self.clock.now())
        return True

    async def _send(self, row: OutboxRow) -> int | None:
        if row.kind == "edit":
            return await self._edit(row)
        message = await self.bot.send_message(
            row.chat_id,
            row.text,
            parse_mode=ParseMode.HTML,
            disable_notification=row.silent,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
        return message.message_id

    async def _edit(self, row: OutboxRow) -> int | None:
        post = await channel_post(self.db, row.post_key or "")
        if post is None or post[1] is None:
            raise _NotYet(timedelta(seconds=5), "waiting for the post to be sent")
        chat_id, message_id, last_edit = post
        now = self.clock.now()
        if last_edit is not None and now < last_edit + EDIT_INTERVAL:
            raise _NotYet(last_edit + EDIT_INTERVAL - now, "edits at most once a minute")
        await self.bot.edit_message_text(
            row.text,
            chat_id=chat_id,
            message_id=message_id,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
        return message_id

    async def _forbidden(self, row: OutboxRow, reason: str) -> None:
        """Blocked or removed: stop writing to that chat at all."""
        async with self.db.transaction() as connection:
            dropped = await drop_chat(connection, row.chat_id)
            await drop_pending_for_chat(connection, row.chat_id, f"Forbidden: {reason}")
        log.info("chat %d: %s; dropped %d subscriptions", row.chat_id, reason, dropped)

    async def _migrated(self, row: OutboxRow, new_chat_id: int) -> None:
        """A group became a supergroup: follow it, subscriptions and pending messages alike."""
        async with self.db.transaction() as connection:
            await move_chat(connection, row.chat_id, new_chat_id)
            await move_pending(connection, row.chat_id, new_chat_id)
        log.info("chat %d moved to %d; its messages follow", row.chat_id, new_chat_id)

    async def _network_error(self, row: OutboxRow, error: Exception) -> None:
        attempt = row.attempts + 1
        reason = f"{type(error).__name__}: {error}"
        if attempt >= self.max_attempts:
            log.warning("outbox row %d failed %d times, giving up: %s", row.id, attempt, reason)
            await mark_failed(self.db, row, reason)
            return
        backoff = min(2.0**attempt, 300.0) * random.uniform(0.75, 1.25)  # jitter spreads retries
        await retry_later(self.db, row, self.clock.now() + timedelta(seconds=backoff), reason)


class _NotYet(Exception):
    def __init__(self, delay: timedelta, reason: str) -> None:
        super().__init__(reason)
        self.delay = delay
        self.reason = reason


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)

"""Many chats at once, each chat in order: how updates are processed when a crowd arrives.

PTB processes polled updates one at a time unless told otherwise, so every answer waits for the
previous answer's round trip to Telegram. Processing them all concurrently would answer a crowd
faster but lets one person's quick second message overtake the first (a /report answered before
the /status that prompted it, a /subscribe racing its /unsubscribe). This processor runs
different chats side by side and one chat's updates strictly in arrival order.

One person writing in several chats (a private chat and a group) is not serialised here: what
must be exact for a person, like the hourly report limit, is decided inside one database
transaction (storage/crowd.py), which holds under any interleaving and across replicas.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def ordering_key(update: object) -> tuple[str, int] | None:
    """What an update must wait its turn behind: its chat, else its sender; None for neither.

    Telegram numbers a private chat like its person, so the two keys are kept apart.
    """
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:  # inline queries: the person asking
        return ("user", update.effective_user.id)
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """At most `max_concurrent_updates` updates in flight, never two of the same chat.

    The bound counts updates waiting for their chat's turn too (PTB takes its semaphore before
    `do_process_update` runs), so one chat flooding the bot can hold at most that many slots,
    each one freed as soon as that chat's earlier update is answered.
    """

    __slots__ = ("_turns",)

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        # A lock per chat with updates in flight, and how many of them hold or wait for it;
        # the entry goes when the last one is done, so the map stays as small as the crowd.
        self._turns: dict[tuple[str, int], tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        if key is None:
            await coroutine
            return
        lock, users = self._turns.get(key) or (asyncio.Lock(), 0)
        self._turns[key] = (lock, users + 1)
        try:
            async with lock:  # asyncio.Lock wakes its waiters first come, first served
                await coroutine
        finally:
            lock, users = self._turns[key]
            if users == 1:
                del self._turns[key]
            else:
                self._turns[key] = (lock, users - 1)

    @property
    def chats_in_flight(self) -> int:
        """How many chats have an update being processed or waiting (for tests and logs)."""
        return len(self._turns)

    async def initialize(self) -> None:
        """Nothing to open: locks are made as chats arrive."""

    async def shutdown(self) -> None:
        """Nothing to close: PTB awaits in-flight updates before shutting the processor down."""

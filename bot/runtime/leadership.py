"""Which replica does the scheduled work, and what changes when that changes.

Every replica answers updates; only the leader refreshes summaries, polls sources, sends the
daily digest and drains the outbox (so Telegram's global limit is counted in one place). The
others check every `interval` seconds whether the leader is gone and one of them takes over, so
the work stops for at most that long plus the time the database needs to notice (immediate
for a killed process, KEEPALIVES' ten seconds for a vanished machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from storage.leases import Lock

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]


class Leadership:
    def __init__(self, lock: Lock, *, interval: float = 2.0) -> None:
        self.lock = lock
        self.interval = interval
        self.is_leader = False
        self.elected: list[Hook] = []  # run in order when this process becomes the leader
        self.deposed: list[Hook] = []  # run when it stops being one (or shuts down as one)
        self._task: asyncio.Task[None] | None = None

    async def campaign(self) -> bool:
        """One look: take the lead if it is free, or notice having lost it."""
        if self.is_leader:
            if not await self.lock.held():
                log.warning("lost the leader lock; scheduled work stops here")
                await self._change(False)
        elif await self.lock.try_acquire():
            log.info("this replica now leads: it runs the scheduled work")
            await self._change(True)
        return self.is_leader

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="leadership")

    async def stop(self) -> None:
        """Step down (a graceful shutdown hands the work over at once) and stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self.is_leader:
            await self._change(False)
        await self.lock.release()

    async def _watch(self) -> None:
        while True:
            try:
                await self.campaign()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("leadership check failed; trying again")
            await asyncio.sleep(self.interval)

    async def _change(self, leading: bool) -> None:
        self.is_leader = leading
        for hook in self.elected if leading else self.deposed:
            try:
                await hook()
            except Exception:
                log.exception("leadership hook %r failed", hook)

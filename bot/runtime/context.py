"""The context every handler and job receives, typed: `context.state` instead of string keys.

PTB builds one per update or job through `ContextTypes`; subclassing `CallbackContext` is its
documented way to add properties, and `BotData` replaces the untyped `bot_data` dict.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import CallbackContext, ContextTypes, ExtBot

from bot.runtime.state import BotData, BotState


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    @property
    def state(self) -> BotState:
        return self.bot_data.ready()


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)

Job = Callable[[BotContext], Coroutine[Any, Any, Any]]


def leader_only(job: Job) -> Job:
    """A JobQueue callback that runs on the leader and is skipped quietly elsewhere."""

    async def run(context: BotContext) -> Any:
        state = context.bot_data.state
        leadership = state.leadership if state is not None else None
        if leadership is not None and not leadership.is_leader:
            return None
        return await job(context)

    run.__name__ = job.__name__
    run.__doc__ = job.__doc__
    return run

"""Wiring the channel at start: its numeric id, and the refresh listener that posts to it."""

from __future__ import annotations

import logging
from functools import partial

from telegram import Bot
from telegram.error import TelegramError
from telegram.ext import Application

from bot.engine.channel_posts import queue_channel_posts
from bot.runtime.state import BotState

log = logging.getLogger(__name__)


async def channel_chat_id(bot: Bot, configured: int | str | None) -> int | None:
    """The channel as a number: the outbox stores chats as integers and the rate limiter tells
    groups from people by the sign, so an @username is looked up once, here, with getChat.
    """
    if configured is None:
        return None
    if isinstance(configured, int):
        return configured
    name = configured.strip()
    if name.lstrip("-").isdigit():
        return int(name)
    try:
        chat = await bot.get_chat(name)
    except TelegramError as error:
        log.warning(
            "channel %s could not be looked up (%s); channel posts, the digest and /broadcast "
            "are off until the bot restarts",
            name,
            error,
        )
        return None
    return chat.id


async def connect_channel(application: Application, services: BotState) -> int | None:
    """Find the channel and, if there is one, post incidents to it from every refresh."""
    settings = services.settings
    chat_id = await channel_chat_id(application.bot, settings.channel_id)
    application.bot_data.channel_id = chat_id
    if chat_id is not None:
        services.summaries.listeners.append(
            partial(
                queue_channel_posts,
                channel_id=chat_id,
                min_level=settings.channel_min_level,
                bot_username=application.bot.username,
            )
        )
    return chat_id

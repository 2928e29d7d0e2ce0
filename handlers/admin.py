"""/broadcast: the bot's admins (OUTAGEBOT_ADMIN_IDS) post to its channel through the outbox."""

from __future__ import annotations

import re

from telegram import Message, Update

from bot.core.arguments import UsageError
from bot.engine.channel_posts import queue_broadcast
from bot.render.card import TELEGRAM_LIMIT
from bot.render.i18n import _
from bot.render.telegram_html import html_to_text, utf16_len
from bot.render.texts import (
    BROADCAST_ADMINS_ONLY,
    BROADCAST_ALREADY_QUEUED,
    BROADCAST_NO_CHANNEL,
    BROADCAST_QUEUED,
    BROADCAST_USAGE,
    broadcast_too_long,
)
from bot.runtime.context import BotContext
from handlers.common import message_of

# The command, then any whitespace (a newline too): what follows is the message.
_AFTER_COMMAND = re.compile(r"\A\s*/\S*\s*(.*)\Z", re.DOTALL)


async def broadcast(update: Update, context: BotContext) -> None:
    """/broadcast <text> — queued for the channel; the outbox sends it within Telegram's limits."""
    app = context.state
    channel_id = admins_channel(update, context)  # may raise UsageError: not an admin, no channel
    message = message_of(update)
    text = broadcast_html(message)  # may raise UsageError: empty, too long
    # The date joins the update id: update ids start again from 1 in each console session (the
    # in-process Bot API), while an update Telegram delivers twice keeps both.
    key = f"broadcast:{update.update_id}:{int(message.date.timestamp())}"
    queued = await queue_broadcast(app, channel_id, text, key, app.clock.now())
    if queued and app.delivery is not None:
        app.delivery.wake.set()
    await message.reply_html(_(BROADCAST_QUEUED) if queued else _(BROADCAST_ALREADY_QUEUED))


def admins_channel(update: Update, context: BotContext) -> int:
    """The channel's id, for the bot's admins only; a non-admin learns nothing about it."""
    user = update.effective_user
    if user is None or user.id not in context.state.settings.admin_ids:
        raise UsageError(_(BROADCAST_ADMINS_ONLY))
    channel_id: int | None = context.bot_data.channel_id
    if channel_id is None:
        raise UsageError(_(BROADCAST_NO_CHANNEL))
    return channel_id


def broadcast_html(message: Message) -> str:
    """The text after the command as HTML: escaped, with the admin's bold, links and so on kept.

    Checked here rather than by Telegram: a refusal in the outbox would come after "queued".
    """
    match = _AFTER_COMMAND.match(message.text_html or "")
    text = match[1].strip() if match else ""
    if not text:
        raise UsageError(_(BROADCAST_USAGE))
    length = utf16_len(html_to_text(text))
    if length > TELEGRAM_LIMIT:
        raise UsageError(broadcast_too_long(length, TELEGRAM_LIMIT))
    return text

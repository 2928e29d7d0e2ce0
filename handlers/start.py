"""/start and /help."""

from __future__ import annotations

from telegram import Update

from bot.render.texts import help_text, start_text
from bot.runtime.cards import parse_deep_link, send_card
from bot.runtime.context import BotContext
from handlers.common import message_of


async def start(update: Update, context: BotContext) -> None:
    """/start, or a deep link t.me/<bot>?start=status-x-pk that opens on that card."""
    pair = parse_deep_link(context.args[0], context.state) if context.args else None
    if pair is not None:
        await send_card(message_of(update), context.state, *pair)
        return
    user = update.effective_user
    await message_of(update).reply_html(start_text(user.first_name if user else None))


async def help_command(update: Update, context: BotContext) -> None:
    await message_of(update).reply_html(help_text())

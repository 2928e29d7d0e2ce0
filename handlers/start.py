"""/start and /help."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot.render.texts import help_text, start_text
from handlers.card import parse_deep_link, send_card
from handlers.common import services


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, or a deep link t.me/<bot>?start=status-x-pk that opens on that card."""
    pair = parse_deep_link(context.args[0], services(context)) if context.args else None
    if pair is not None:
        await send_card(update, context, *pair)
        return
    user = update.effective_user
    await update.effective_message.reply_html(start_text(user.first_name if user else None))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_html(help_text())

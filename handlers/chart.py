"""/chart: reports vs typical as a picture (the card's Chart button sends the same)."""

from __future__ import annotations

from telegram import Update

from bot.core.arguments import parse_full_pair
from bot.render.i18n import _
from bot.render.texts import CHART_USAGE
from bot.runtime.charts import send_chart
from bot.runtime.context import BotContext
from handlers.common import argument_text, message_of


async def chart(update: Update, context: BotContext) -> None:
    """/chart <service> <region> — reports vs typical as a picture."""
    app = context.state
    usage = _(CHART_USAGE)
    service, region = parse_full_pair(argument_text(update), app.catalog, usage=usage)
    await send_chart(message_of(update), app, context.bot_data, service, region)

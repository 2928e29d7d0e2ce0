"""/status: what is down, where, how badly, since when, and whether it is blocked."""

from __future__ import annotations

from telegram import Update

from bot.core.arguments import parse_pair
from bot.render.card import render_region_overview, render_service_overview
from bot.render.i18n import _
from bot.render.texts import STATUS_USAGE
from bot.runtime.cards import send_card
from bot.runtime.context import BotContext
from handlers.common import argument_text, message_of


async def status(update: Update, context: BotContext) -> None:
    """/status <service> [region] | /status <region>"""
    app = context.state
    query = parse_pair(argument_text(update), app.catalog, usage=_(STATUS_USAGE))
    now = app.clock.now()
    if query.service and query.region:
        await send_card(message_of(update), app, query.service, query.region)
        return
    if query.service:
        lines = await app.summaries.service_lines(query.service, now)
        text = render_service_overview(lines, query.service.name, query.service.key)
    else:
        assert query.region is not None
        text = render_region_overview(
            await app.summaries.region_lines(query.region, now), query.region
        )
    await message_of(update).reply_html(text)

"""/incidents [service] [region]: recent incidents with duration and peak."""

from __future__ import annotations

from telegram import Update

from bot.core.arguments import parse_pair
from bot.engine import recent_incidents
from bot.render.i18n import _
from bot.render.incidents import render_incidents
from bot.render.texts import INCIDENTS_USAGE
from bot.runtime.context import BotContext
from handlers.common import argument_text, message_of


async def incidents(update: Update, context: BotContext) -> None:
    app = context.state
    text = argument_text(update)
    query = parse_pair(text, app.catalog, usage=_(INCIDENTS_USAGE)) if text else None
    service = query.service if query else None
    region = query.region if query else None
    now = app.clock.now()
    found = await recent_incidents(
        app.db,
        service=service.key if service else None,
        region=region.code if region else None,
        until=now,
    )
    text = render_incidents(found, app.catalog, now, service, region)
    await message_of(update).reply_html(text)

"""/chart and the card's Chart button: reports vs typical as a picture."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Update
from telegram.constants import ParseMode

from bot.core.arguments import parse_full_pair
from bot.core.catalog import Region, Service
from bot.render.card import flag, named, region_label
from bot.render.i18n import _, name
from bot.render.texts import CHART_USAGE
from bot.runtime.context import BotContext
from handlers.common import argument_text

log = logging.getLogger(__name__)


async def chart(update: Update, context: BotContext) -> None:
    """/chart <service> <region> — reports vs typical as a picture."""
    app = context.state
    usage = _(CHART_USAGE)
    service, region = parse_full_pair(argument_text(update), app.catalog, usage=usage)
    await send_chart(update, context, service, region)


async def send_chart(update: Update, context: BotContext, service: Service, region: Region) -> None:
    """The chart as a new photo in the chat the command or button came from."""
    app = context.state
    now = app.clock.now()
    summary, _found = await app.summaries.compute(service, region, now)
    names = {"service": named(service.name), "region": region_label(region)}
    command = f"/status {service.key} {region.code.lower()}"
    if not any(row.precision == "minute" for row in summary.counts):
        await update.effective_message.reply_html(
            _("No timed readings to chart for {service} in {region} yet. See {command}.").format(
                command=command, **names
            )
        )
        return
    # matplotlib costs ~45 MB and a second to import: only a process that draws pays for it.
    from bot.render.chart import ChartCache, render_chart

    cache: ChartCache = context.bot_data.charts
    key = ChartCache.key(summary, now)
    png = cache.get(key)
    if png is None:
        started = time.perf_counter()
        # Drawing takes ~0.15 s of CPU: off the event loop, so other chats are not kept waiting.
        png = await asyncio.to_thread(render_chart, summary, now=now, rules=app.summaries.rules)
        log.debug(
            "chart for %s/%s drawn in %.0f ms",
            service.key,
            region.code,
            (time.perf_counter() - started) * 1000,
        )
        cache.put(key, png)
    pair = _("{service} in {region}").format(**names)
    caption = f"{flag(region)} <b>{pair}</b>: " + _(
        "reports vs typical, local time ({zone}). Details: {command}"
    ).format(zone=name(region.timezone), command=command)
    await update.effective_message.reply_photo(png, caption=caption, parse_mode=ParseMode.HTML)

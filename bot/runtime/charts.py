"""The chart as a photo: drawn off the event loop, cached, sent where /chart or a card asked."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Message
from telegram.constants import ParseMode

from bot.core.catalog import Region, Service
from bot.render.card import flag, named, region_label
from bot.render.i18n import _, name
from bot.runtime.state import BotData, BotState

log = logging.getLogger(__name__)


async def send_chart(
    message: Message, app: BotState, data: BotData, service: Service, region: Region
) -> None:
    """The chart as a new photo in the chat of `message`."""
    now = app.clock.now()
    summary, _found = await app.summaries.compute(service, region, now)
    names = {"service": named(service.name), "region": region_label(region)}
    command = f"/status {service.key} {region.code.lower()}"
    if not any(row.precision == "minute" for row in summary.counts):
        await message.reply_html(
            _("No timed readings to chart for {service} in {region} yet. See {command}.").format(
                command=command, **names
            )
        )
        return
    # matplotlib costs ~45 MB and a second to import: only a process that draws pays for it.
    from bot.render.chart import ChartCache, render_chart

    cache = data.charts
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
    await message.reply_photo(png, caption=caption, parse_mode=ParseMode.HTML)

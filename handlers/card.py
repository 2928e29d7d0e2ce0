"""The status card's buttons, /chart, deep links and inline mode: one card, many ways in.

Callback data stays under Telegram's 64 bytes: `st|<action>|<service>|<region>[|<hash>]`.
A stale or forged button gets a polite answer on the button, never an exception.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from datetime import datetime
from uuid import uuid4

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.core.arguments import UsageError, parse_full_pair, parse_pair
from bot.core.catalog import Region, Service, UnknownName
from bot.engine.history import read_history
from bot.render.card import (
    flag,
    freshness_footer,
    named,
    region_label,
    render_region_overview,
    render_service_overview,
    with_footer,
)
from bot.render.i18n import _, name, region_name
from bot.render.telegram_html import html_to_text
from bot.render.texts import CHART_USAGE, unknown_name_text
from bot.render.timeline import parse_timeline, render_timeline
from bot.runtime.context import BotContext
from bot.runtime.state import BotState
from bot.subscriptions.texts import ADMINS_ONLY_SHORT
from handlers.common import argument_text
from handlers.subscriptions import chat_title, is_admin
from handlers.timeline import page_keyboard
from storage import subscriptions as store

log = logging.getLogger(__name__)

PREFIX = "st"
ACTIONS = {"r": "refresh", "t": "timeline", "c": "chart", "s": "subscribe", "u": "unsubscribe"}
DEEP_LINK = "status-{service}-{region}"
INLINE_CACHE_SECONDS = 30


# ---------------------------------------------------------------- the card and its keyboard


async def card_text(
    app: BotState, service: Service, region: Region, now: datetime
) -> tuple[str, str]:
    """The card with its freshness line, and a short fingerprint of the card itself."""
    card = await app.summaries.card(service, region, now)
    footer = freshness_footer(
        card.made_at,
        now,
        region.timezone,
        prepared=card.prepared,
        failing_since=app.summaries.health.failing_since,
    )
    fingerprint = hashlib.sha1(card.html.encode()).hexdigest()[:8]
    return with_footer(card.html, footer), fingerprint


async def is_subscribed(app: BotState, chat_id: int, service: Service, region: Region) -> bool:
    return any(
        s.service == service.key and s.region == region.code
        for s in await store.subscriptions_of(app.db, chat_id)
    )


def card_keyboard(
    service: Service, region: Region, fingerprint: str, *, subscribed: bool
) -> InlineKeyboardMarkup:
    pair = f"{service.key}|{region.code}"
    toggle = ("🔕 " + _("Unsubscribe"), "u") if subscribed else ("🔔 " + _("Subscribe"), "s")
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "🔄 " + _("Refresh"), callback_data=f"{PREFIX}|r|{pair}|{fingerprint}"
                ),
                InlineKeyboardButton("🕒 " + _("Timeline"), callback_data=f"{PREFIX}|t|{pair}"),
                InlineKeyboardButton("📈 " + _("Chart"), callback_data=f"{PREFIX}|c|{pair}"),
            ],
            [InlineKeyboardButton(toggle[0], callback_data=f"{PREFIX}|{toggle[1]}|{pair}")],
        ]
    )


async def send_card(update: Update, context: BotContext, service: Service, region: Region) -> None:
    app = context.state
    text, fingerprint = await card_text(app, service, region, app.clock.now())
    chat = update.effective_chat
    subscribed = chat is not None and await is_subscribed(app, chat.id, service, region)
    markup = card_keyboard(service, region, fingerprint, subscribed=subscribed)
    await update.effective_message.reply_html(text, reply_markup=markup)


# ---------------------------------------------------------------- buttons


class _Stale(Exception):
    """Button data that no longer (or never did) name a card: answered politely, not raised."""


def _parse(data: str, app: BotState) -> tuple[str, Service, Region, str | None]:
    parts = data.split("|")
    if len(parts) not in (4, 5) or parts[0] != PREFIX or parts[1] not in ACTIONS:
        raise _Stale
    try:
        service, region = app.catalog.service(parts[2]), app.catalog.region(parts[3])
    except KeyError:
        raise _Stale from None
    return parts[1], service, region, parts[4] if len(parts) == 5 else None


async def card_button(update: Update, context: BotContext) -> None:
    button = update.callback_query
    app = context.state
    try:
        action, service, region, fingerprint = _parse(button.data or "", app)
    except _Stale:
        await button.answer(_("This button no longer works: send /status again."))
        return
    if action == "r":
        await _refresh(update, app, service, region, fingerprint)
    elif action == "t":
        await button.answer()
        await _timeline(update, app, service, region)
    elif action == "c":
        await button.answer(_("Drawing the chart…"))
        await _chart(update, context, service, region)
    else:
        await _toggle(update, context, app, service, region, subscribe=action == "s")


async def _refresh(
    update: Update, app: BotState, service: Service, region: Region, fingerprint: str | None
) -> None:
    button = update.callback_query
    now = app.clock.now()
    text, latest = await card_text(app, service, region, now)
    if latest == fingerprint:
        await button.answer(_("No change since this card was made."))
        return
    chat = update.effective_chat
    subscribed = chat is not None and await is_subscribed(app, chat.id, service, region)
    await button.answer(_("Updated."))
    try:
        await button.edit_message_text(
            text, reply_markup=card_keyboard(service, region, latest, subscribed=subscribed)
        )
    except BadRequest as error:
        if "message is not modified" not in error.message.lower():
            raise


async def _timeline(update: Update, app: BotState, service: Service, region: Region) -> None:
    now = app.clock.now()
    query = parse_timeline(f"{service.key} {region.code}", app.catalog, now=now)
    newest = render_timeline(await read_history(app.db, query, now=now))[-1]
    await update.effective_message.reply_html(newest.text, reply_markup=page_keyboard(newest))


async def _toggle(
    update: Update,
    context: BotContext,
    app: BotState,
    service: Service,
    region: Region,
    *,
    subscribe: bool,
) -> None:
    button = update.callback_query
    chat = update.effective_chat
    if chat is None or not await is_admin(update, context):
        await button.answer(_(ADMINS_ONLY_SHORT), show_alert=True)
        return
    if subscribe:
        await store.subscribe(
            app.db,
            chat.id,
            kind=chat.type,
            title=chat_title(chat),
            service=service.key,
            region=region.code,
            min_level="elevated",
            at=app.clock.now(),
            limit=50,
        )
        note = _("Subscribed: alerts for {service} in {region}.")
    else:
        await store.unsubscribe_topic(app.db, chat.id, service.key, region.code)
        note = _("Unsubscribed from {service} in {region}.")
    await button.answer(note.format(service=name(service.name), region=_plain_region(region)))
    fingerprint = (button.data or "").split("|")[4] if (button.data or "").count("|") == 4 else ""
    markup = button.message.reply_markup if button.message else None
    current = _fingerprint_of(markup) or fingerprint
    try:
        await button.edit_message_reply_markup(
            card_keyboard(service, region, current, subscribed=subscribe)
        )
    except BadRequest as error:
        if "message is not modified" not in error.message.lower():
            raise


def _plain_region(region: Region) -> str:
    """A country's name for plain text (a toast, an inline result's title): not escaped."""
    return name(region_name(region.code, region.name))


def _fingerprint_of(markup: InlineKeyboardMarkup | None) -> str:
    for row in markup.inline_keyboard if markup else ():
        for key in row:
            data = key.callback_data if isinstance(key.callback_data, str) else ""
            if data.startswith(f"{PREFIX}|r|") and data.count("|") == 4:
                return data.rsplit("|", 1)[1]
    return ""


# ---------------------------------------------------------------- charts


async def chart(update: Update, context: BotContext) -> None:
    """/chart <service> <region> — reports vs typical as a picture."""
    app = context.state
    usage = _(CHART_USAGE)
    service, region = parse_full_pair(argument_text(update), app.catalog, usage=usage)
    await _chart(update, context, service, region)


async def _chart(update: Update, context: BotContext, service: Service, region: Region) -> None:
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


# ---------------------------------------------------------------- deep links


def deep_link_payload(service: Service, region: Region) -> str:
    return DEEP_LINK.format(service=service.key, region=region.code.lower())


def parse_deep_link(payload: str, app: BotState) -> tuple[Service, Region] | None:
    parts = payload.split("-")
    if len(parts) != 3 or parts[0] != "status":
        return None
    service = app.catalog.find_service(parts[1])
    region = app.catalog.find_region(parts[2])
    return (service, region) if service and region else None


# ---------------------------------------------------------------- inline mode


async def inline_status(update: Update, context: BotContext) -> None:
    """`@bot x pakistan` in any chat: cards to send, or did-you-mean suggestions."""
    query = update.inline_query
    app = context.state
    text = (query.query or "").strip()
    now = app.clock.now()
    results: list[InlineQueryResultArticle] = []
    if text:
        try:
            pair = parse_pair(text, app.catalog, usage="")
        except UnknownName as error:
            results = _suggestions(error, text, app)
        except UsageError:
            results = []
        else:
            results = [await _inline_result(app, pair.service, pair.region, now)]
    if not text or not results:
        results = results or [_hint()]
    # Personal: results are in the asker's language, so Telegram must not share one person's
    # cached answer with another.
    await query.answer(results, cache_time=INLINE_CACHE_SECONDS, is_personal=True)


async def _inline_result(
    app: BotState, service: Service | None, region: Region | None, now: datetime
) -> InlineQueryResultArticle:
    if service and region:
        text, _fingerprint = await card_text(app, service, region, now)
        title = f"{flag(region)} " + _("{service} in {region}").format(
            service=name(service.name), region=_plain_region(region)
        )
    elif service:
        text = render_service_overview(
            await app.summaries.service_lines(service, now), service.name, service.key
        )
        title = _("{service} everywhere").format(service=name(service.name))
    else:
        assert region is not None
        text = render_region_overview(await app.summaries.region_lines(region, now), region)
        title = f"{flag(region)} " + _("Everything in {region}").format(
            region=_plain_region(region)
        )
    plain = html_to_text(text).splitlines()
    return InlineQueryResultArticle(
        id=uuid4().hex,
        title=title,
        description=" ".join(plain[1:3])[:120],
        input_message_content=InputTextMessageContent(
            text,
            parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        ),
    )


def _suggestions(error: UnknownName, text: str, app: BotState) -> list[InlineQueryResultArticle]:
    message = unknown_name_text(error)
    typed = name(error.text)
    return [
        InlineQueryResultArticle(
            id=uuid4().hex,
            title=_("Did you mean {name}?").format(name=name(option)),
            description=_("I don't know “{text}”. Try typing {name}.").format(
                text=typed, name=name(option)
            ),
            input_message_content=InputTextMessageContent(message, parse_mode=ParseMode.HTML),
        )
        for option in error.suggestions
    ] or [
        InlineQueryResultArticle(
            id=uuid4().hex,
            title=_("Nothing matches “{text}”").format(text=name(text)),
            description=_("Try a service and a country, e.g. x pakistan"),
            input_message_content=InputTextMessageContent(message, parse_mode=ParseMode.HTML),
        )
    ]


def _hint() -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id="hint",
        title=_("Type a service and a country"),
        description=_("For example: x pakistan · youtube uk · whatsapp"),
        input_message_content=InputTextMessageContent(
            _("Try me inline: type <code>@bot x pakistan</code> in any chat."),
            parse_mode=ParseMode.HTML,
        ),
    )

"""The status card and its buttons: a short card, the details one tap away, edited in place.

Callback data stays under Telegram's 64 bytes: `st|<action>|<service>|<region>[|<hash>]`.
A stale or forged button gets a polite answer on the button, never an exception. A card sent
through inline mode has no chat the bot can write to, only an `inline_message_id`: its views
are edits through that id, and what needs a chat (a chart, a subscription) says where to go.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.core.catalog import Region, Service
from bot.engine.history import read_history
from bot.render.card import freshness_footer, window_days, with_footer
from bot.render.details import render_ban_record, render_said, render_sources
from bot.render.i18n import N_, _, name, region_name
from bot.render.timeline import TimelineQuery, Window, render_timeline
from bot.runtime.context import BotContext
from bot.runtime.state import BotState
from bot.subscriptions.texts import ADMINS_ONLY_SHORT
from bot.subscriptions.toggle import is_subscribed, subscribe_topic, unsubscribe_topic
from handlers.chart import send_chart
from handlers.common import CARD_PREFIX, back_to_card
from handlers.subscriptions import chat_title, is_admin
from handlers.timeline import page_keyboard

STALE = N_("This button no longer works: send /status again.")
NEEDS_A_CHAT = N_("Open a chat with me and send {command}: I can only do that there.")

# Action letters; the views replace the card's text, the rest act on it.
REFRESH, CARD, TIMELINE, SAID, BANS, SOURCES, CHART = "r", "k", "t", "w", "b", "o", "c"
SUBSCRIBE, UNSUBSCRIBE = "s", "u"
ACTIONS = {REFRESH, CARD, TIMELINE, SAID, BANS, SOURCES, CHART, SUBSCRIBE, UNSUBSCRIBE}
VIEWS = (
    (TIMELINE, N_("🕒 Timeline")),
    (SAID, N_("💬 What was said")),
    (BANS, N_("📜 Ban record")),
    (SOURCES, N_("📚 Sources")),
    (CHART, N_("📈 Chart")),
)


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


def card_keyboard(
    service: Service, region: Region, fingerprint: str, *, subscribed: bool | None
) -> InlineKeyboardMarkup:
    """The views, Refresh, and (where there is a chat to subscribe) Subscribe or Unsubscribe."""
    pair = f"{service.key}|{region.code}"
    keys = [
        InlineKeyboardButton(_(label), callback_data=f"{CARD_PREFIX}|{action}|{pair}")
        for action, label in VIEWS
    ]
    refresh = InlineKeyboardButton(
        "🔄 " + _("Refresh"), callback_data=f"{CARD_PREFIX}|{REFRESH}|{pair}|{fingerprint}"
    )
    rows = [keys[:3], [*keys[3:], refresh]]
    if subscribed is not None:
        toggle = (
            ("🔕 " + _("Unsubscribe"), UNSUBSCRIBE)
            if subscribed
            else ("🔔 " + _("Subscribe"), SUBSCRIBE)
        )
        rows.append(
            [InlineKeyboardButton(toggle[0], callback_data=f"{CARD_PREFIX}|{toggle[1]}|{pair}")]
        )
    return InlineKeyboardMarkup(rows)


async def _keyboard(
    update: Update, app: BotState, service: Service, region: Region, fingerprint: str
) -> InlineKeyboardMarkup:
    chat = update.effective_chat
    subscribed = (
        await is_subscribed(app.db, chat.id, service.key, region.code) if chat is not None else None
    )
    return card_keyboard(service, region, fingerprint, subscribed=subscribed)


async def send_card(update: Update, context: BotContext, service: Service, region: Region) -> None:
    app = context.state
    text, fingerprint = await card_text(app, service, region, app.clock.now())
    markup = await _keyboard(update, app, service, region, fingerprint)
    await update.effective_message.reply_html(text, reply_markup=markup)


# ---------------------------------------------------------------- buttons


class _Stale(Exception):
    """Button data that no longer (or never did) name a card: answered politely, not raised."""


def _parse(data: str, app: BotState) -> tuple[str, Service, Region, str | None]:
    parts = data.split("|")
    if len(parts) not in (4, 5) or parts[0] != CARD_PREFIX or parts[1] not in ACTIONS:
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
        await button.answer(_(STALE))
        return
    in_chat = button.message is not None
    command = f"/{{what}} {service.key} {region.code.lower()}"
    if action == REFRESH:
        await _refresh(update, app, service, region, fingerprint)
    elif action == CARD:
        await button.answer()
        text, latest = await card_text(app, service, region, app.clock.now())
        await _edit(update, text, await _keyboard(update, app, service, region, latest))
    elif action == CHART and not in_chat:
        await button.answer(
            _(NEEDS_A_CHAT).format(command=command.format(what="chart")), show_alert=True
        )
    elif action == CHART:
        await button.answer(_("Drawing the chart…"))
        await send_chart(update, context, service, region)
    elif action in (SUBSCRIBE, UNSUBSCRIBE) and not in_chat:
        await button.answer(
            _(NEEDS_A_CHAT).format(command=command.format(what="subscribe")), show_alert=True
        )
    elif action in (SUBSCRIBE, UNSUBSCRIBE):
        await _toggle(update, context, app, service, region, subscribe=action == SUBSCRIBE)
    else:
        await button.answer()
        await _show_view(update, app, action, service, region)


async def _edit(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Replace the card's text in place, in a chat or through an inline message id alike."""
    try:
        await update.callback_query.edit_message_text(text, reply_markup=markup)
    except BadRequest as error:
        # Two quick presses of one button ask for what is already shown; nothing to do.
        if "message is not modified" not in error.message.lower():
            raise


async def _show_view(
    update: Update, app: BotState, action: str, service: Service, region: Region
) -> None:
    """One of the card's details in place of the card, with a way back to it."""
    now = app.clock.now()
    summary, _incidents = await app.summaries.compute(service, region, now)
    back = InlineKeyboardMarkup([[back_to_card(service.key, region.code)]])
    if action == TIMELINE:
        days = window_days(summary)
        window = (
            Window.local_days(*days, region.timezone)
            if days
            else Window.last_hours(24, now, region.timezone)
        )
        query = TimelineQuery(service, region, window, from_card=True)
        # The card shows the newest entries, so the timeline opens where they are.
        page = render_timeline(await read_history(app.db, query, now=now))[-1]
        await _edit(update, page.text, page_keyboard(page, query))
        return
    if action == SAID:
        text = render_said(summary)
    elif action == BANS:
        text = render_ban_record(summary, now)
    else:
        text = render_sources(summary, now, failing_since=app.summaries.health.failing_since)
    await _edit(update, text, back)


async def _refresh(
    update: Update, app: BotState, service: Service, region: Region, fingerprint: str | None
) -> None:
    button = update.callback_query
    text, latest = await card_text(app, service, region, app.clock.now())
    if latest == fingerprint:
        await button.answer(_("No change since this card was made."))
        return
    await button.answer(_("Updated."))
    await _edit(update, text, await _keyboard(update, app, service, region, latest))


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
        await subscribe_topic(
            app.db,
            chat.id,
            kind=chat.type,
            title=chat_title(chat),
            service=service.key,
            region=region.code,
            at=app.clock.now(),
        )
        note = _("Subscribed: alerts for {service} in {region}.")
    else:
        await unsubscribe_topic(app.db, chat.id, service.key, region.code)
        note = _("Unsubscribed from {service} in {region}.")
    await button.answer(note.format(service=name(service.name), region=plain_region(region)))
    markup = button.message.reply_markup if button.message else None
    current = _fingerprint_of(markup)
    try:
        await button.edit_message_reply_markup(
            card_keyboard(service, region, current, subscribed=subscribe)
        )
    except BadRequest as error:
        if "message is not modified" not in error.message.lower():
            raise


def plain_region(region: Region) -> str:
    """A country's name for plain text (a toast, an inline result's title): not escaped."""
    return name(region_name(region.code, region.name))


def _fingerprint_of(markup: InlineKeyboardMarkup | None) -> str:
    for row in markup.inline_keyboard if markup else ():
        for key in row:
            data = key.callback_data if isinstance(key.callback_data, str) else ""
            if data.startswith(f"{CARD_PREFIX}|{REFRESH}|") and data.count("|") == 4:
                return data.rsplit("|", 1)[1]
    return ""


async def unknown_button(update: Update, context: BotContext) -> None:
    """Any button no other handler knows (an older version's, or junk): answered, so the
    person's client stops its spinner, and told what to do."""
    await update.callback_query.answer(_(STALE))


# ---------------------------------------------------------------- deep links


def parse_deep_link(payload: str, app: BotState) -> tuple[Service, Region] | None:
    parts = payload.split("-")
    if len(parts) != 3 or parts[0] != "status":
        return None
    service = app.catalog.find_service(parts[1])
    region = app.catalog.find_region(parts[2])
    return (service, region) if service and region else None

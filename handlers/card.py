"""The status card's buttons: the details one tap away, edited in place, with a way back.

The card itself (its text, keyboard and callback layout) lives in bot/runtime/cards.py, shared
with /status, /start and inline mode. A stale or forged button gets a polite answer on the
button, never an exception. A card sent through inline mode has no chat the bot can write to,
only an `inline_message_id`: its views are edits through that id, and what needs a chat (a
chart, a subscription) says where to go.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.core.catalog import Region, Service
from bot.engine.history import read_history
from bot.render.card import window_days
from bot.render.details import render_ban_record, render_said, render_sources
from bot.render.i18n import N_, _, name
from bot.render.timeline import TimelineQuery, Window, render_timeline
from bot.runtime.cards import (
    ACTIONS,
    BANS,
    CARD,
    CARD_PREFIX,
    CHART,
    REFRESH,
    SAID,
    SUBSCRIBE,
    TIMELINE,
    UNSUBSCRIBE,
    back_to_card,
    card_keyboard,
    card_markup,
    card_text,
    page_keyboard,
    plain_region,
)
from bot.runtime.charts import send_chart
from bot.runtime.context import BotContext
from bot.runtime.state import BotState
from bot.subscriptions.texts import ADMINS_ONLY_SHORT
from bot.subscriptions.toggle import subscribe_topic, unsubscribe_topic
from handlers.common import buttons_of, chat_title, is_admin, query_of

# The callback data this module's buttons carry, for its CallbackQueryHandler.
BUTTONS = buttons_of(CARD_PREFIX)

STALE = N_("This button no longer works: send /status again.")
NEEDS_A_CHAT = N_("Open a chat with me and send {command}: I can only do that there.")

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
    button = query_of(update)
    app = context.state
    try:
        action, service, region, fingerprint = _parse(button.data or "", app)
    except _Stale:
        await button.answer(_(STALE))
        return
    # A card sent inline has no message the bot can see, only an inline message id.
    message = button.message if isinstance(button.message, Message) else None
    chat_id = message.chat.id if message is not None else None
    command = f"/{{what}} {service.key} {region.code.lower()}"
    if action == REFRESH:
        await _refresh(update, app, chat_id, service, region, fingerprint)
    elif action == CARD:
        await button.answer()
        text, latest = await card_text(app, service, region, app.clock.now())
        await _edit(update, text, await card_markup(app, chat_id, service, region, latest))
    elif action == CHART and message is None:
        await button.answer(
            _(NEEDS_A_CHAT).format(command=command.format(what="chart")), show_alert=True
        )
    elif action == CHART and message is not None:
        await button.answer(_("Drawing the chart…"))
        await send_chart(message, app, context.bot_data, service, region)
    elif action in (SUBSCRIBE, UNSUBSCRIBE) and message is None:
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
        await query_of(update).edit_message_text(text, reply_markup=markup)
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
    update: Update,
    app: BotState,
    chat_id: int | None,
    service: Service,
    region: Region,
    fingerprint: str | None,
) -> None:
    button = query_of(update)
    text, latest = await card_text(app, service, region, app.clock.now())
    if latest == fingerprint:
        await button.answer(_("No change since this card was made."))
        return
    await button.answer(_("Updated."))
    await _edit(update, text, await card_markup(app, chat_id, service, region, latest))


async def _toggle(
    update: Update,
    context: BotContext,
    app: BotState,
    service: Service,
    region: Region,
    *,
    subscribe: bool,
) -> None:
    button = query_of(update)
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
    markup = button.message.reply_markup if isinstance(button.message, Message) else None
    current = _fingerprint_of(markup)
    try:
        await button.edit_message_reply_markup(
            card_keyboard(service, region, current, subscribed=subscribe)
        )
    except BadRequest as error:
        if "message is not modified" not in error.message.lower():
            raise


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
    await query_of(update).answer(_(STALE))

"""The status card as a Telegram message: its text, its keyboard, and how it is sent.

/status, /start's deep links, inline mode and the card's own buttons all send or edit the same
card, and the timeline's pages opened from it carry a way back: the callback layout and the
keyboards live here, below every handler, so no handler reaches into another one for them.

Callback data stays under Telegram's 64 bytes: `st|<action>|<service>|<region>[|<hash>]`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.core.catalog import Region, Service
from bot.render.card import freshness_footer, with_footer
from bot.render.i18n import N_, _, name, region_name
from bot.render.timeline import Page, TimelineQuery
from bot.runtime.state import BotState
from bot.subscriptions.toggle import is_subscribed

CARD_PREFIX = "st"
BACK_TO_CARD = N_("« Back to the card")

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


def back_to_card(service_key: str, region_code: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        _(BACK_TO_CARD), callback_data=f"{CARD_PREFIX}|{CARD}|{service_key}|{region_code}"
    )


def plain_region(region: Region) -> str:
    """A country's name for plain text (a toast, an inline result's title): not escaped."""
    return name(region_name(region.code, region.name))


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
        label, action = (
            ("🔕 " + _("Unsubscribe"), UNSUBSCRIBE)
            if subscribed
            else ("🔔 " + _("Subscribe"), SUBSCRIBE)
        )
        rows.append([InlineKeyboardButton(label, callback_data=f"{CARD_PREFIX}|{action}|{pair}")])
    return InlineKeyboardMarkup(rows)


async def card_markup(
    app: BotState, chat_id: int | None, service: Service, region: Region, fingerprint: str
) -> InlineKeyboardMarkup:
    """The card's keyboard for a chat (with its subscription toggle) or an inline message."""
    subscribed = (
        await is_subscribed(app.db, chat_id, service.key, region.code)
        if chat_id is not None
        else None
    )
    return card_keyboard(service, region, fingerprint, subscribed=subscribed)


async def send_card(message: Message, app: BotState, service: Service, region: Region) -> None:
    """The card as a reply to `message`, with its buttons."""
    text, fingerprint = await card_text(app, service, region, app.clock.now())
    markup = await card_markup(app, message.chat.id, service, region, fingerprint)
    await message.reply_html(text, reply_markup=markup)


def parse_deep_link(payload: str, app: BotState) -> tuple[Service, Region] | None:
    """`status-x-pk` from t.me/<bot>?start=status-x-pk, or None for any other payload."""
    parts = payload.split("-")
    if len(parts) != 3 or parts[0] != "status":
        return None
    service = app.catalog.find_service(parts[1])
    region = app.catalog.find_region(parts[2])
    return (service, region) if service and region else None


def page_keyboard(page: Page, query: TimelineQuery | None = None) -> InlineKeyboardMarkup | None:
    """A timeline page's Older / Newer, and for a timeline opened from a card, the way back."""
    rows = []
    if page.buttons:
        rows.append(
            [InlineKeyboardButton(label, callback_data=data) for label, data in page.buttons]
        )
    if query is not None and query.from_card:
        rows.append([back_to_card(query.service.key, query.region.code)])
    return InlineKeyboardMarkup(rows) if rows else None

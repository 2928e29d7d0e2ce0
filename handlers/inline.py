"""Inline mode: `@bot x pakistan` in any chat offers the card to send there."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from telegram import (
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode

from bot.core.arguments import UsageError, parse_pair
from bot.core.catalog import Region, Service, UnknownName
from bot.render.card import flag, render_region_overview, render_service_overview
from bot.render.i18n import _, name
from bot.render.telegram_html import html_to_text
from bot.render.texts import unknown_name_text
from bot.runtime.cards import card_keyboard, card_text, plain_region
from bot.runtime.context import BotContext
from bot.runtime.state import BotState

INLINE_CACHE_SECONDS = 30


async def inline_status(update: Update, context: BotContext) -> None:
    """`@bot x pakistan` in any chat: cards to send, or did-you-mean suggestions."""
    query = update.inline_query
    if query is None:
        raise LookupError("this handler was wired to an update without an inline query")
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
    markup = None
    if service and region:
        text, fingerprint = await card_text(app, service, region, now)
        markup = card_keyboard(service, region, fingerprint, subscribed=None)
        title = f"{flag(region)} " + _("{service} in {region}").format(
            service=name(service.name), region=plain_region(region)
        )
    elif service:
        text = render_service_overview(
            await app.summaries.service_lines(service, now), service.name, service.key
        )
        title = _("{service} everywhere").format(service=name(service.name))
    else:
        assert region is not None
        text = render_region_overview(await app.summaries.region_lines(region, now), region)
        title = f"{flag(region)} " + _("Everything in {region}").format(region=plain_region(region))
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
        reply_markup=markup,
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

"""/subscribe, /unsubscribe, /subscriptions and /quiet: which alerts a chat gets, and when they
arrive without sound.

Anyone may read a chat's subscriptions; in a group only its admins may change them, since the
alerts land in everyone's chat.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import MessageHandler, filters

from bot import subscriptions as store
from bot.core.arguments import UsageError
from bot.render.i18n import _
from bot.runtime.context import BotContext
from bot.runtime.state import BotState
from bot.subscriptions import Subscription
from bot.subscriptions.requests import (
    MAX_SUBSCRIPTIONS,
    StaleButton,
    Topic,
    default_zone,
    is_quiet,
    parse_quiet,
    parse_subscribe,
    parse_unsubscribe,
    resolve_zone,
    topic_of,
    unsubscribe_target,
)
from bot.subscriptions.texts import (
    ADMINS_ONLY,
    ADMINS_ONLY_SHORT,
    ALREADY_GONE,
    STALE_BUTTON,
    UNSUBSCRIBE_PREFIX,
    all_subscriptions_name,
    nothing_to_unsubscribe,
    render_not_subscribed,
    render_quiet_current,
    render_quiet_off,
    render_quiet_set,
    render_subscribed,
    render_subscriptions,
    render_unsubscribe_list,
    render_unsubscribed,
    render_unsubscribed_all,
    subscription_name,
    topic_name,
)
from handlers.common import (
    argument_text,
    buttons_of,
    chat_of,
    chat_title,
    is_admin,
    message_of,
    query_of,
)

# The callback data this module's buttons carry, for its CallbackQueryHandler.
UNSUBSCRIBE_BUTTONS = buttons_of(UNSUBSCRIBE_PREFIX)


async def subscribe(update: Update, context: BotContext) -> None:
    """/subscribe <service> [region] [elevated|outage] — a second time changes the level."""
    await require_admin(update, context)
    app = context.state
    request = parse_subscribe(argument_text(update), app.catalog)  # may raise UsageError
    chat = chat_of(update)
    outcome = await store.subscribe(
        app.db,
        chat.id,
        kind=chat.type,
        title=chat_title(chat),
        service=request.topic.service_key,
        region=request.topic.region_key,
        min_level=request.level,
        at=app.clock.now(),
        limit=MAX_SUBSCRIPTIONS,
    )
    text = render_subscribed(outcome, request.topic, request.level, limit=MAX_SUBSCRIPTIONS)
    await message_of(update).reply_html(text)


async def unsubscribe(update: Update, context: BotContext) -> None:
    """/unsubscribe — a button per subscription; /unsubscribe <names> or `all` — by name."""
    await require_admin(update, context)
    app = context.state
    request = parse_unsubscribe(argument_text(update), app.catalog)
    chat_id = chat_of(update).id
    message = message_of(update)
    if request is None:
        entries = await subscriptions_with_topics(app, chat_id)
        if not entries:
            await message.reply_html(nothing_to_unsubscribe())
            return
        text, buttons = render_unsubscribe_list(entries)
        await message.reply_html(text, reply_markup=keyboard(buttons))
    elif request.topic is None:
        await message.reply_html(
            render_unsubscribed_all(await store.unsubscribe_all(app.db, chat_id))
        )
    else:
        topic = request.topic
        removed = await store.unsubscribe_topic(
            app.db, chat_id, topic.service_key, topic.region_key
        )
        entries = await subscriptions_with_topics(app, chat_id)
        if removed is None:
            await message.reply_html(render_not_subscribed(topic, entries))
        else:
            await message.reply_html(render_unsubscribed(topic_name(topic), len(entries)))


async def unsubscribe_button(update: Update, context: BotContext) -> None:
    """A press on the /unsubscribe list: remove that one (or all), then show what is left.

    The error handler answers by replying to a message, which is wrong for a button press, so
    stale, forged and refused presses are answered here, on the button.
    """
    button = query_of(update)
    chat = update.effective_chat
    if chat is None or button.message is None:  # sent in inline mode, or the message is gone
        await button.answer(_(STALE_BUTTON))
        return
    try:
        target = unsubscribe_target(button.data or "")
    except StaleButton as stale:
        await button.answer(str(stale))
        return
    if not await is_admin(update, context):
        await button.answer(_(ADMINS_ONLY_SHORT), show_alert=True)
        return
    app = context.state
    removed = await _remove(app, chat.id, target)
    await button.answer(_("Stopped: {name}.").format(name=removed) if removed else _(ALREADY_GONE))
    text, buttons = render_unsubscribe_list(
        await subscriptions_with_topics(app, chat.id), removed=removed
    )
    try:
        await button.edit_message_text(text, reply_markup=keyboard(buttons))
    except BadRequest as error:
        # A press of a button already acted on can leave the list as it was. PTB capitalises
        # Telegram's description ("Message is not modified: …"), hence lower().
        if "message is not modified" not in error.message.lower():
            raise


async def _remove(app: BotState, chat_id: int, target: int | None) -> str | None:
    """Remove what a button names; the name of what went, None if it was gone already."""
    if target is None:
        count = await store.unsubscribe_all(app.db, chat_id)
        if count == 0:
            return None
        return all_subscriptions_name(count)
    removed = await store.unsubscribe(app.db, chat_id, target)
    if removed is None:
        return None
    return subscription_name(removed, topic_of(removed, app.catalog))


async def subscriptions(update: Update, context: BotContext) -> None:
    """/subscriptions — open to everyone in the chat: reading changes nothing."""
    app = context.state
    chat_id = chat_of(update).id
    entries = await subscriptions_with_topics(app, chat_id)
    settings = await store.chat_settings(app.db, chat_id)
    text = render_subscriptions(entries, settings, now=app.clock.now())
    await message_of(update).reply_html(text)


async def quiet(update: Update, context: BotContext) -> None:
    """/quiet 22:00-07:00 [zone] or /quiet off; /quiet alone shows the setting to anyone."""
    app = context.state
    chat = chat_of(update)
    now = app.clock.now()
    text = argument_text(update)
    settings = await store.chat_settings(app.db, chat.id)
    if not text:
        await message_of(update).reply_html(render_quiet_current(settings, now))
        return
    await require_admin(update, context)
    request = parse_quiet(text)  # may raise UsageError
    assert request is not None
    had_quiet_hours = settings is not None and settings.quiet_start is not None
    if request.off:
        if had_quiet_hours:
            await store.set_quiet_hours(
                app.db,
                chat.id,
                kind=chat.type,
                title=chat_title(chat),
                timezone=None,
                start=None,
                end=None,
            )
        await message_of(update).reply_html(render_quiet_off(had_quiet_hours))
        return
    zone_name = await quiet_zone(app, chat.id, request.zone, settings)
    await store.set_quiet_hours(
        app.db,
        chat.id,
        kind=chat.type,
        title=chat_title(chat),
        timezone=zone_name,
        start=request.start,
        end=request.end,
    )
    assert request.start is not None and request.end is not None
    quiet_now = is_quiet(now, zone_name, request.start, request.end)
    text = render_quiet_set(request.start, request.end, zone_name, now, quiet_now)
    await message_of(update).reply_html(text)


async def quiet_zone(
    app: BotState, chat_id: int, typed: str | None, settings: store.ChatSettings | None
) -> str:
    """The zone typed, else the chat's stored zone, else its first country's, else UTC."""
    if typed:
        return resolve_zone(typed, app.catalog)  # may raise UsageError
    stored = settings.timezone if settings else None
    return default_zone(stored, await store.subscriptions_of(app.db, chat_id), app.catalog)


async def chat_migrated(update: Update, context: BotContext) -> None:
    """A group became a supergroup: its alerts and quiet hours follow it to the new id.

    Telegram posts the news in both chats; moving twice is harmless, so either is enough.
    """
    message = message_of(update)
    if message.migrate_to_chat_id:
        old, new = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat_id
    else:
        return
    await store.move_chat(context.state.db, old, new)


# ---------------------------------------------------------------- shared by the handlers


async def require_admin(update: Update, context: BotContext) -> None:
    """Refuse (through the one error path) anyone who may not change this chat's alerts."""
    if not await is_admin(update, context):
        raise UsageError(_(ADMINS_ONLY))


async def subscriptions_with_topics(
    app: BotState, chat_id: int
) -> list[tuple[Subscription, Topic | None]]:
    found = await store.subscriptions_of(app.db, chat_id)
    return [(subscription, topic_of(subscription, app.catalog)) for subscription in found]


def keyboard(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """One button per row: subscription names are too long to sit side by side."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data)] for label, data in buttons]
    )


# Built here so the registry needs no MessageHandler import of its own for one service message.
CHAT_MIGRATED = MessageHandler(filters.StatusUpdate.MIGRATE, chat_migrated)

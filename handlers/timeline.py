"""/timeline: every reading and event for a pair in a window, paged with « Older / Newer »."""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest

from bot.engine.history import read_history
from bot.render.timeline import (
    BUTTON_PREFIX,
    StaleButton,
    page_of,
    parse_button,
    parse_timeline,
    render_timeline,
)
from bot.runtime.cards import page_keyboard
from bot.runtime.context import BotContext
from handlers.common import argument_text, buttons_of, message_of, query_of

# The callback data this module's buttons carry, for its CallbackQueryHandler.
BUTTONS = buttons_of(BUTTON_PREFIX)


async def timeline(update: Update, context: BotContext) -> None:
    """/timeline <service> <region> [hours|date] — opens on the newest page."""
    app = context.state
    now = app.clock.now()
    query = parse_timeline(argument_text(update), app.catalog, now=now)  # may raise UsageError
    history = await read_history(app.db, query, now=now)
    newest = render_timeline(history)[-1]
    await message_of(update).reply_html(newest.text, reply_markup=page_keyboard(newest))


async def timeline_page(update: Update, context: BotContext) -> None:
    """A « Older / Newer » press: the same window, another page, edited in place.

    The error handler answers by replying to a message, which is wrong for a button press, so
    stale or forged buttons are answered here, on the button.
    """
    button = query_of(update)
    app = context.state
    try:
        query, number = parse_button(button.data or "", app.catalog)
        page = page_of(await read_history(app.db, query, now=app.clock.now()), number)
    except StaleButton as stale:
        await button.answer(str(stale))
        return
    await button.answer()
    try:
        await button.edit_message_text(page.text, reply_markup=page_keyboard(page, query))
    except BadRequest as error:
        # Two quick presses of one button ask for the page already shown; nothing to do.
        if "message is not modified" not in error.message.lower():
            raise

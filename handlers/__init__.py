"""Every command the bot answers, registered in one place."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    TypeHandler,
)

from handlers.admin import broadcast
from handlers.card import BUTTONS as card_buttons
from handlers.card import card_button, unknown_button
from handlers.chart import chart
from handlers.errors import on_error
from handlers.incidents import incidents
from handlers.inline import inline_status
from handlers.language import BUTTONS as language_buttons
from handlers.language import language, language_button, set_reply_language
from handlers.report import report
from handlers.sources import sources
from handlers.start import help_command, start
from handlers.status import status
from handlers.subscriptions import (
    CHAT_MIGRATED,
    UNSUBSCRIBE_BUTTONS,
    quiet,
    subscribe,
    subscriptions,
    unsubscribe,
    unsubscribe_button,
)
from handlers.timeline import BUTTONS as timeline_buttons
from handlers.timeline import timeline, timeline_page


def register(application: Application) -> None:
    # Group -1 runs first for every update: the language the rest of it is rendered in.
    application.add_handler(TypeHandler(Update, set_reply_language), group=-1)
    application.add_handler(CommandHandler("language", language))
    application.add_handler(CallbackQueryHandler(language_button, pattern=language_buttons))
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("status", status))
    application.add_handler(CommandHandler("timeline", timeline))
    application.add_handler(CallbackQueryHandler(timeline_page, pattern=timeline_buttons))
    application.add_handler(CommandHandler("report", report))
    application.add_handler(CommandHandler("incidents", incidents))
    application.add_handler(CommandHandler("subscribe", subscribe))
    application.add_handler(CommandHandler("unsubscribe", unsubscribe))
    application.add_handler(CallbackQueryHandler(unsubscribe_button, pattern=UNSUBSCRIBE_BUTTONS))
    application.add_handler(CommandHandler("subscriptions", subscriptions))
    application.add_handler(CommandHandler("quiet", quiet))
    application.add_handler(CommandHandler("broadcast", broadcast))
    application.add_handler(CommandHandler("sources", sources))
    application.add_handler(CHAT_MIGRATED)
    application.add_handler(CommandHandler("chart", chart))
    application.add_handler(CallbackQueryHandler(card_button, pattern=card_buttons))
    application.add_handler(InlineQueryHandler(inline_status))
    # Last: a button no handler above knows still gets an answer, so its spinner stops.
    application.add_handler(CallbackQueryHandler(unknown_button))
    application.add_error_handler(on_error)

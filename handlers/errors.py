"""The one error path: bad input becomes a helpful reply; anything else is logged, not shown."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.core.arguments import UsageError
from bot.core.catalog import UnknownName
from bot.engine import DatabaseUnavailable
from bot.render.i18n import _
from bot.render.texts import SOMETHING_WENT_WRONG, STORAGE_FAILING, unknown_name_text
from bot.runtime.context import BotContext

log = logging.getLogger(__name__)


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    if isinstance(error, UnknownName):
        reply = unknown_name_text(error)
    elif isinstance(error, UsageError):
        reply = str(error)
    elif isinstance(error, DatabaseUnavailable):
        # The disk or the file, not the code: the one line that says which and what to do.
        log.error("%s", error)
        reply = _(STORAGE_FAILING)
    else:
        log.error("error while handling an update", exc_info=error)
        reply = _(SOMETHING_WENT_WRONG)
    if isinstance(update, Update) and update.effective_message:
        try:
            await update.effective_message.reply_html(reply)
        except TelegramError:
            log.warning("could not send the error reply", exc_info=True)

"""Every command the bot answers, registered in one place."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from handlers.errors import on_error
from handlers.start import help_command, start
from handlers.status import status


def register(application: Application) -> None:
    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("help", help_command))
    application.add_handler(CommandHandler("status", status))
    application.add_error_handler(on_error)

"""/sources: the bot's admins (OUTAGEBOT_ADMIN_IDS) see each outside source and its health."""

from __future__ import annotations

from telegram import Update

from bot.core.arguments import UsageError
from bot.runtime.context import BotContext
from bot.runtime.state import SourcesSetup
from bot.sources import all_health, targets_of
from bot.sources.texts import (
    NO_SOURCES,
    SOURCES_ADMINS_ONLY,
    file_problems_text,
    sources_status_text,
)
from handlers.common import message_of


async def sources(update: Update, context: BotContext) -> None:
    """/sources — configured sources with last success, last error and items last run."""
    app = context.state
    user = update.effective_user
    if user is None or user.id not in app.settings.admin_ids:
        raise UsageError(SOURCES_ADMINS_ONLY)
    setup: SourcesSetup = context.bot_data.sources or SourcesSetup()
    message = message_of(update)
    if setup.error is not None:
        await message.reply_html(file_problems_text(setup.error))
        return
    if setup.file is None:
        await message.reply_html(NO_SOURCES)
        return
    health = {row.name: row for row in await all_health(app.db)}
    configs = setup.file.sources
    targets = {config.name: await targets_of(app.db, config.name) for config in configs}
    text = sources_status_text(configs, health, targets, app.clock.now(), path=str(setup.file.path))
    await message.reply_html(text)

"""/report: one person says a service is down where they are, like Downdetector's button."""

from __future__ import annotations

from telegram import Update

from bot.core.arguments import UsageError
from bot.crowd.reports import file_report, parse_report
from bot.crowd.texts import REPORTS_NEED_A_PERSON, render_report_outcome
from bot.render.i18n import _
from bot.runtime.context import BotContext
from handlers.common import argument_text, message_of


async def report(update: Update, context: BotContext) -> None:
    """/report <service> <region> [problem] — counted once per person per pair per bucket."""
    app = context.state
    query = parse_report(argument_text(update), app.catalog)
    user_id = reporter_id(update)
    now = app.clock.now()
    outcome = await file_report(app.db, app.settings, query, user_id=user_id, now=now)
    text = render_report_outcome(
        outcome,
        query.service,
        query.region,
        query.problem,
        bucket_minutes=app.settings.bucket_minutes,
        now=now,
    )
    await message_of(update).reply_html(text)


def reporter_id(update: Update) -> int:
    """The person behind the message; in a group that is the sender, never the chat.

    A message sent as a channel or by an anonymous admin carries a placeholder user shared by
    everyone who does so, which would merge strangers into one reporter.
    """
    message = message_of(update)
    user = update.effective_user
    if user is None or (message is not None and message.sender_chat is not None):
        raise UsageError(_(REPORTS_NEED_A_PERSON))
    return user.id

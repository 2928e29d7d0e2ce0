"""Which language to answer in: chosen with /language, else Telegram's language_code."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.engine import choose_language, chosen_language
from bot.render import i18n
from bot.render.i18n import _
from bot.runtime.context import BotContext
from handlers.common import argument_text, buttons_of, message_of, query_of

# Callback data of the /language buttons: `lang|<code>`.
LANGUAGE_PREFIX = "lang"
BUTTONS = buttons_of(LANGUAGE_PREFIX)


async def set_reply_language(update: Update, context: BotContext) -> None:
    """Runs before every handler (group -1): the rest of the update renders in this language."""
    user = update.effective_user
    if user is None:
        i18n.set_language(i18n.DEFAULT)
        return
    # Read once per person until the next follow tick empties this (bot.runtime.jobs.follow_job):
    # this runs before every update, /status included, and a choice may be made on another replica.
    known: dict[int, str | None] = context.bot_data.chosen_languages
    if user.id not in known:
        known[user.id] = await chosen_language(context.state.db, user.id)
    i18n.set_language(known[user.id] or i18n.language_for(user.language_code))


def _keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(label, callback_data=f"{LANGUAGE_PREFIX}|{code}")
                for code, label in i18n.LANGUAGES.items()
            ]
        ]
    )


async def language(update: Update, context: BotContext) -> None:
    """/language [en|ur] — without an argument, buttons to choose."""
    wanted = argument_text(update).strip().lower()
    if wanted:
        code = i18n.language_for(wanted) if wanted in i18n.LANGUAGES else None
        if code is None:
            await message_of(update).reply_html(_("Choose a language:"), reply_markup=_keyboard())
            return
        await _choose(update, context, code)
        await message_of(update).reply_html(_confirmation(code))
        return
    await message_of(update).reply_html(_("Choose a language:"), reply_markup=_keyboard())


async def language_button(update: Update, context: BotContext) -> None:
    button = query_of(update)
    code = (button.data or "").partition("|")[2]
    if code not in i18n.LANGUAGES:
        await button.answer(_("This button no longer works."))
        return
    await _choose(update, context, code)
    await button.answer()
    await button.edit_message_text(_confirmation(code))


def _confirmation(code: str) -> str:
    return _("I'll answer you in {language} from now on.").format(language=i18n.LANGUAGES[code])


async def _choose(update: Update, context: BotContext, code: str) -> None:
    user = update.effective_user
    if user is not None:
        await choose_language(context.state.db, user.id, code)
        context.bot_data.chosen_languages[user.id] = code
    i18n.set_language(code)

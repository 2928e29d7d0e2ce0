"""Reaching the shared services from a handler, and the argument text of a command."""

from __future__ import annotations

from telegram import CallbackQuery, Chat, InlineKeyboardButton, Message, Update

from bot.render.i18n import N_, _

# The status card's callback data starts with this (handlers/card.py answers it); it lives here
# because the timeline's pages, opened from a card, carry a button back to it.
CARD_PREFIX = "st"
BACK_TO_CARD = N_("« Back to the card")


def back_to_card(service_key: str, region_code: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        _(BACK_TO_CARD), callback_data=f"{CARD_PREFIX}|k|{service_key}|{region_code}"
    )


def argument_text(update: Update) -> str:
    """What follows the command (`/status@outagebot x pk` → `x pk`), quotes intact."""
    message = update.effective_message
    text = (message.text or message.caption or "") if message else ""
    head, _, rest = text.partition(" ")
    return rest.strip() if head.startswith("/") else text.strip()


def message_of(update: Update) -> Message:
    """The message a command or button came with; its handler only fires on one."""
    if update.effective_message is None:
        raise LookupError("this handler was wired to an update without a message")
    return update.effective_message


def chat_of(update: Update) -> Chat:
    if update.effective_chat is None:
        raise LookupError("this handler was wired to an update without a chat")
    return update.effective_chat


def query_of(update: Update) -> CallbackQuery:
    if update.callback_query is None:
        raise LookupError("this handler was wired to an update without a callback query")
    return update.callback_query

"""What every handler needs besides its typed context: the argument text of a command."""

from __future__ import annotations

from telegram import CallbackQuery, Chat, Message, Update


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

"""Small PTB-facing helpers every handler may use: the argument text of a command, the
update's message, chat or button, and who may change a chat's alerts."""

from __future__ import annotations

import re

from telegram import CallbackQuery, Chat, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest

from bot.runtime.context import BotContext

_ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})


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


async def is_admin(update: Update, context: BotContext) -> bool:
    """Whether the sender may change the chat's alerts: anyone in a private chat, the admins in
    a group.

    An anonymous admin's message is sent as the group itself (`sender_chat` is the chat) and
    only admins can do that. Telegram answers BadRequest about people it does not know as
    members, who are not admins either.
    """
    chat = update.effective_chat
    if chat is None:
        return False
    if chat.type == ChatType.PRIVATE:
        return True
    message = None if update.callback_query else update.effective_message
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    user = update.effective_user
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except BadRequest:
        return False
    return member.status in _ADMIN_STATUSES


def chat_title(chat: Chat) -> str | None:
    """A group's title; nothing for a private chat, whose "title" would be a person's name."""
    return None if chat.type == ChatType.PRIVATE else chat.title


def buttons_of(prefix: str) -> str:
    """The CallbackQueryHandler pattern for one handler's buttons: `<prefix>|…`."""
    return rf"^{re.escape(prefix)}\|"

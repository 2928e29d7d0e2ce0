"""What Telegram allows, from PTB's own data-only modules: message length and deep links.

The one module below the runtime that imports `telegram` (its constants and helpers, never the
API), so the numbers and the link format are PTB's rather than copies that could drift; the
import contract in .importlinter names this module as the only exception.
"""

from __future__ import annotations

from telegram.constants import MessageLimit
from telegram.helpers import create_deep_linked_url

TELEGRAM_LIMIT: int = MessageLimit.MAX_TEXT_LENGTH  # 4,096 characters of a text message


def deep_link(bot_username: str, payload: str) -> str:
    """https://t.me/<bot>?start=<payload>: opens a chat with the bot, sending /start payload."""
    return create_deep_linked_url(bot_username, payload)

"""Reaching the shared services from a handler, and the argument text of a command."""

from __future__ import annotations

from telegram import InlineKeyboardButton, Update

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

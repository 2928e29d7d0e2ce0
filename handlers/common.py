"""What every handler needs besides its typed context: the argument text of a command."""

from __future__ import annotations

from telegram import Update


def argument_text(update: Update) -> str:
    """What follows the command (`/status@outagebot x pk` → `x pk`), quotes intact."""
    message = update.effective_message
    text = (message.text or message.caption or "") if message else ""
    head, _, rest = text.partition(" ")
    return rest.strip() if head.startswith("/") else text.strip()

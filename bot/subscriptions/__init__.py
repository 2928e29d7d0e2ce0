"""Subscriptions: what a chat watches, its quiet hours, and the words people use for both.

Handlers reach the stored subscriptions through this room's public face (re-exported below)
rather than through storage, so the room is the one place that knows where they live.
"""

from storage.subscriptions import (
    ChatSettings,
    Subscription,
    chat_settings,
    move_chat,
    set_quiet_hours,
    subscribe,
    subscriptions_of,
    unsubscribe,
    unsubscribe_all,
    unsubscribe_topic,
)

__all__ = [
    "ChatSettings",
    "Subscription",
    "chat_settings",
    "move_chat",
    "set_quiet_hours",
    "subscribe",
    "subscriptions_of",
    "unsubscribe",
    "unsubscribe_all",
    "unsubscribe_topic",
]

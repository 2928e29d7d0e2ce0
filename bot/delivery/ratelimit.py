"""Telegram's sending limits as a pure calculator: times are passed in, nothing sleeps here.

Telegram's published limits (core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-
this): about 30 messages a second overall, one a second to a chat, 20 a minute to a group.
Written by hand rather than PTB's AIORateLimiter: the delivery loop needs to *choose* the next
row whose chat is free instead of blocking on one busy group, and a RetryAfter must pause the
whole loop, which the loop can only do if it knows the limits itself.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class SendLimits:
    per_second: int = 30
    chat_interval: float = 1.0
    group_per_minute: int = 20
    _recent: deque[float] = field(default_factory=deque)
    _last_by_chat: dict[int, float] = field(default_factory=dict)
    _groups: dict[int, deque[float]] = field(default_factory=dict)
    _paused_until: float = 0.0

    def delay(self, chat_id: int, now: float) -> float:
        """Seconds to wait before a message to this chat keeps within every limit."""
        self._forget(now)
        waits = [self._paused_until - now]
        if len(self._recent) >= self.per_second:
            waits.append(self._recent[0] + 1.0 - now)
        last = self._last_by_chat.get(chat_id)
        if last is not None:
            waits.append(last + self.chat_interval - now)
        group = self._groups.get(chat_id)
        if chat_id < 0 and group is not None and len(group) >= self.group_per_minute:
            waits.append(group[0] + 60.0 - now)
        return max(0.0, *waits)

    def record(self, chat_id: int, now: float) -> None:
        self._recent.append(now)
        self._last_by_chat[chat_id] = now
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(now)

    def pause(self, until: float) -> None:
        """Telegram said RetryAfter: nothing goes out before `until`."""
        self._paused_until = max(self._paused_until, until)

    def _forget(self, now: float) -> None:
        while self._recent and self._recent[0] <= now - 1.0:
            self._recent.popleft()
        if len(self._last_by_chat) > 256:  # only the last second matters: memory stays flat
            self._last_by_chat = {
                chat: at for chat, at in self._last_by_chat.items() if at > now - self.chat_interval
            }
        for chat, times in list(self._groups.items()):
            while times and times[0] <= now - 60.0:
                times.popleft()
            if not times:
                del self._groups[chat]

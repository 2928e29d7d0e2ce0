"""Everything a person reads, as Telegram HTML or plain text: pure functions of data, `now` and the
language. Also the one reader of Telegram's own limits (telegram_limits.py).
"""

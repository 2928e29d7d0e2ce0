"""Getting queued messages to Telegram: the outbox drain and Telegram's sending limits."""

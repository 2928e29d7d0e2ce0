"""outagebot: what is down, where, how badly, since when, and whether it is blocked."""

import os

# Opt in to PTB's future RetryAfter.retry_after (a timedelta); bot.delivery.outbox handles
# both forms.
os.environ.setdefault("PTB_TIMEDELTA", "1")

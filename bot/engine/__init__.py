"""The I/O side of the core: refreshing summaries, reading history, queueing alerts and posts.

Pure decisions live in bot.core; this room feeds them records from storage and stores what they
decide. Handlers read past incidents and language choices through here, never from storage.
"""

from storage.database import DatabaseUnavailable
from storage.incidents import recent_incidents
from storage.languages import choose_language, chosen_language

__all__ = ["DatabaseUnavailable", "choose_language", "chosen_language", "recent_incidents"]

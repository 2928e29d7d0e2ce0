"""Crowd reports, the domain side: what a /report says, who counts as the same person, filing it.

People write the problem in their own words ("log in", "dm", "site"), so a few synonyms fold to
Downdetector's handful of problem kinds; anything else is refused with the list rather than
guessed, because a wrong kind would skew the breakdown everyone sees.
"""

from __future__ import annotations

import hashlib
import hmac
import shlex
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from bot.config.settings import Settings
from bot.core.arguments import UsageError, parse_full_pair, words
from bot.core.catalog import Catalog, Region, Service, UnknownName, normalise
from bot.crowd.keys import reporter_key
from bot.crowd.texts import REPORT_USAGE, unknown_problem_text
from bot.render.i18n import N_, _
from bot.render.texts import unknown_name_text
from storage.crowd import ROLLING_WINDOW, Reporter, ReportOutcome, record_report
from storage.database import Database

# The words /report takes, in any language; the card shows them translated, as `_(problem)`.
PROBLEMS: Final[tuple[str, ...]] = (
    N_("app"),
    N_("website"),
    N_("login"),
    N_("feed"),
    N_("messages"),
    N_("other"),
)
DEFAULT_PROBLEM: Final = "other"

# Keys are compacted (normalised, spaces removed), so "log in", "log-in" and "LOGIN" all match.
_SYNONYMS: Final[dict[str, str]] = {
    **{problem: problem for problem in PROBLEMS},
    "apps": "app",
    "site": "website",
    "web": "website",
    "signin": "login",
    "logon": "login",
    "timeline": "feed",
    "dm": "messages",
    "dms": "messages",
    "chat": "messages",
    "message": "messages",
}


@dataclass(frozen=True, slots=True)
class ReportQuery:
    service: Service
    region: Region
    problem: str


def problem_named(text: str) -> str | None:
    """The problem kind a word (or two, like "log in") stands for, or None."""
    return _SYNONYMS.get(normalise(text).replace(" ", ""))


def parse_report(text: str, catalog: Catalog) -> ReportQuery:
    """`<service> <region> [problem]`, the pair in either order, like /status.

    The last word (or two) is the problem only if what is left is still a pair: "x dm" is X in
    Dominica, "x pk dm" is X in Pakistan with messages.
    """
    tokens = words(text)
    if not tokens:
        raise UsageError(_(REPORT_USAGE))
    tail_error: UsageError | None = None
    for size in (2, 1):
        rest, problem = tokens[:-size], problem_named(" ".join(tokens[-size:]))
        if problem and rest:
            try:
                return ReportQuery(*_pair(rest, catalog), problem)
            except UsageError as error:
                tail_error = tail_error or error
    try:
        return ReportQuery(*_pair(tokens, catalog), DEFAULT_PROBLEM)
    except UsageError:
        if tail_error is not None:  # "x app": the problem was clear, the pair was not
            raise tail_error from None
        if len(tokens) > 1 and _is_pair(tokens[:-1], catalog):
            raise UsageError(unknown_problem_text(tokens[-1], PROBLEMS)) from None
        raise


def _pair(tokens: list[str], catalog: Catalog) -> tuple[Service, Region]:
    """A full pair; an unknown name becomes a reply whose example is /report, not /status."""
    try:
        return parse_full_pair(shlex.join(tokens), catalog, usage=_(REPORT_USAGE))
    except UnknownName as error:
        raise UsageError(unknown_name_text(error, command="/report")) from None


def _is_pair(tokens: list[str], catalog: Catalog) -> bool:
    try:
        _pair(tokens, catalog)
    except UsageError:
        return False
    return True


def reporter(key: bytes, user_id: int, now: datetime) -> Reporter:
    """Who is reporting, as the rate limit needs them and no more.

    The hash is keyed (HMAC), because Telegram user ids are few enough to hash them all and
    look a plain digest up, and it covers the hour as well as the id, so one person's hashes in
    different hours cannot be linked: the stored hash is this hour's; the previous hour's is
    also theirs while a report from then is still in the rolling window.
    """
    hour = int(now.timestamp()) // int(ROLLING_WINDOW.total_seconds())
    this_hour, last_hour = (_keyed(key, f"{h}:{user_id}") for h in (hour, hour - 1))
    lock = int.from_bytes(bytes.fromhex(_keyed(key, f"lock:{user_id}")[:8]), "big", signed=True)
    return Reporter(stored=this_hour, known_as=(this_hour, last_hour), lock=lock)


def _keyed(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


async def file_report(
    db: Database, settings: Settings, query: ReportQuery, *, user_id: int, now: datetime
) -> ReportOutcome:
    """Count one person's report under the settings' bucket size and hourly limit."""
    return await record_report(
        db,
        service=query.service.key,
        region=query.region.code,
        reporter=reporter(reporter_key(settings), user_id, now),
        problem=query.problem,
        at=now,
        bucket_minutes=settings.bucket_minutes,
        per_hour=settings.reports_per_hour,
    )

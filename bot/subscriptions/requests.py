"""Subscriptions, the pure side: what a /subscribe, /unsubscribe or /quiet says, and whether a
chat's quiet hours are on at an instant.

No I/O and no clock: `now` comes in. The alert fan-out imports `is_quiet` from here to decide
whether an alert goes out with `disable_notification`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.arguments import UsageError, parse_pair, words
from bot.core.catalog import Catalog, UnknownName, normalise
from bot.render.i18n import _
from bot.render.texts import unknown_name_text
from bot.subscriptions.texts import (
    QUIET_USAGE,
    STALE_BUTTON,
    SUBSCRIBE_USAGE,
    UNSUBSCRIBE_PREFIX,
    UNSUBSCRIBE_USAGE,
    equal_quiet_times_text,
    not_a_time_text,
    unknown_zone_text,
)
from bot.subscriptions.topics import Topic
from storage.subscriptions import EVERY, Subscription

DEFAULT_LEVEL: Final = "elevated"
# A chat's list must fit one message and its /unsubscribe keyboard one keyboard (Telegram
# refuses keyboards past about 100 buttons); 50 lines of the list are about 3,000 characters.
MAX_SUBSCRIPTIONS: Final = 50

_LEVEL_WORDS: Final[dict[str, str]] = {
    "elevated": "elevated",
    "outage": "outage",
    "outages": "outage",
}
# Words for "every service" / "every region". `all` and `everywhere` are also aliases of the
# Global region in /status, but whoever subscribes to "x everywhere" means every country; the
# wildcard covers Global too, so nobody gets fewer alerts than they asked for.
_EVERY_WORDS: Final = frozenset({"all", "any", "anywhere", "everywhere", "everything", "*"})
_OFF_WORDS: Final = frozenset({"off", "none", "stop", "no"})
# What /unsubscribe takes for "all of them", rather than for the one "any service anywhere".
_ALL_WORDS: Final = frozenset({"all", "everything"})
# Up to 18 digits: far beyond any id we will reach, and never an integer too big to bind.
_BUTTON: Final = re.compile(rf"{UNSUBSCRIBE_PREFIX}\|(?:(\d{{1,18}})|all)")
_CLOCK: Final = re.compile(r"(\d{1,2})[:.h](\d{2})")
_RANGE: Final = re.compile(r"(?P<start>[^\s\-–—]+)\s*(?:-|–|—|\bto\b)\s*(?P<end>[^\s\-–—]+)")


@dataclass(frozen=True, slots=True)
class SubscribeRequest:
    topic: Topic
    level: str


@dataclass(frozen=True, slots=True)
class UnsubscribeRequest:
    """One subscription named by what it watches, or (`topic` None) all of the chat's."""

    topic: Topic | None


class StaleButton(Exception):
    """An /unsubscribe button whose data is not ours; the message is for the presser.

    Old messages and forged updates must get a polite answer, never an exception in the log.
    """


@dataclass(frozen=True, slots=True)
class QuietRequest:
    """Quiet hours asked for: `start`/`end` as HH:MM, both None for "off"; `zone` as typed."""

    start: str | None
    end: str | None
    zone: str | None = None

    @property
    def off(self) -> bool:
        return self.start is None


# ---------------------------------------------------------------- /subscribe, /unsubscribe


def parse_subscribe(text: str, catalog: Catalog) -> SubscribeRequest:
    """`<service> [region] [elevated|outage]`, a whole service (`x`) or a whole region
    (`pakistan`); the level word, when there is one, comes last."""
    tokens = words(text)
    level = DEFAULT_LEVEL
    if tokens and (named := _LEVEL_WORDS.get(normalise(tokens[-1]))):
        tokens, level = tokens[:-1], named
    return SubscribeRequest(parse_topic(tokens, catalog, usage=_(SUBSCRIBE_USAGE)), level)


def parse_topic(
    tokens: Sequence[str], catalog: Catalog, *, usage: str, command: str = "/subscribe"
) -> Topic:
    """A service, a region, or both, in either order; `all`/`everywhere` for the missing side."""
    if not tokens:
        raise UsageError(usage)
    folded = [normalise(token) for token in tokens]
    if all(word in _EVERY_WORDS for word in folded):
        return Topic(None, None)
    # "x everywhere", "all pakistan": a wildcard word beside one known name fills the other side.
    candidates = []
    if folded[-1] in _EVERY_WORDS:
        candidates.append(tokens[:-1])
    if folded[0] in _EVERY_WORDS:
        candidates.append(tokens[1:])
    for rest in candidates:
        try:
            query = parse_pair(shlex.join(rest), catalog, usage=usage)
        except (UsageError, UnknownName):
            continue
        if (query.service is None) != (query.region is None):
            return Topic(query.service, query.region)
    try:
        query = parse_pair(shlex.join(tokens), catalog, usage=usage)
    except UnknownName as error:
        raise UsageError(unknown_name_text(error, command=command)) from None
    return Topic(query.service, query.region)


def parse_unsubscribe(text: str, catalog: Catalog) -> UnsubscribeRequest | None:
    """`<service> [region]`, or `all`; None when nothing was named (offer the list instead).

    A trailing level word is allowed and ignored, so a /subscribe line edited into an
    /unsubscribe still works.
    """
    tokens = words(text)
    if not tokens:
        return None
    if normalise(" ".join(tokens)) in _ALL_WORDS:
        return UnsubscribeRequest(None)
    if _LEVEL_WORDS.get(normalise(tokens[-1])):
        tokens = tokens[:-1]
    topic = parse_topic(tokens, catalog, usage=_(UNSUBSCRIBE_USAGE), command="/unsubscribe")
    return UnsubscribeRequest(topic)


def unsubscribe_target(data: str) -> int | None:
    """The subscription id an /unsubscribe button carries, None for "all"; StaleButton else."""
    match = _BUTTON.fullmatch(data)
    if match is None:
        raise StaleButton(_(STALE_BUTTON))
    return int(match.group(1)) if match.group(1) else None


def topic_of(subscription: Subscription, catalog: Catalog) -> Topic | None:
    """The stored keys as catalogue entries; None if the catalogue no longer knows one."""
    try:
        service = None if subscription.service == EVERY else catalog.service(subscription.service)
        region = None if subscription.region == EVERY else catalog.region(subscription.region)
    except KeyError:
        return None
    return Topic(service, region)


# ---------------------------------------------------------------- /quiet


def parse_quiet(text: str) -> QuietRequest | None:
    """`22:00-07:00 [zone]` or `off`; None when nothing was given (show the current setting)."""
    text = text.strip()
    if not text:
        return None
    if normalise(text) in _OFF_WORDS:
        return QuietRequest(None, None)
    match = _RANGE.match(text)
    if match is None:
        raise UsageError(_(QUIET_USAGE))
    start, end = parse_clock(match.group("start")), parse_clock(match.group("end"))
    if start == end:
        raise UsageError(equal_quiet_times_text(start))
    zone_text = " ".join(words(text[match.end() :])) or None
    return QuietRequest(start, end, zone_text)


def parse_clock(word: str) -> str:
    """`7:00`, `07:00`, `7.00` or `7h00` as `07:00`; UsageError for anything else."""
    match = _CLOCK.fullmatch(word.strip())
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise UsageError(not_a_time_text(word))
    return f"{int(match.group(1)):02d}:{match.group(2)}"


@cache
def _zones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def resolve_zone(text: str, catalog: Catalog) -> str:
    """An IANA zone name for what was typed: `Asia/Karachi`, `UTC`, or a country (`pakistan`).

    An IANA name written as tzdata spells it wins (so `EST` is the zone, not Estonia's code);
    then a country, using the catalogue's zone for it; then an IANA name in any case.
    """
    text = text.strip()
    names = _zones_by_folded_name()
    if text in names.values() and ("/" in text or text.isupper()):
        return text
    if "/" not in text and (region := catalog.find_region(text)):
        return region.timezone
    if (name := names.get(text.casefold())) is not None:
        return name
    suggestions = [] if "/" in text else catalog.suggest_regions(text)
    raise UsageError(unknown_zone_text(text, suggestions))


def default_zone(
    stored: str | None, subscriptions: Sequence[Subscription], catalog: Catalog
) -> str:
    """The zone /quiet uses when none is given: the one the chat chose before, else the zone of
    its first subscription to a country, else UTC."""
    if stored:
        return stored
    for subscription in subscriptions:
        if subscription.region == EVERY:
            continue
        try:
            return catalog.region(subscription.region).timezone
        except KeyError:
            continue
    return "UTC"


def _minutes(clock: str) -> int | None:
    match = _CLOCK.fullmatch(clock)
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


def _zone_or_utc(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")


def is_quiet(
    now: datetime, timezone: str | None, quiet_start: str | None, quiet_end: str | None
) -> bool:
    """Whether `now` falls in the chat's quiet hours, read on the chat's clock (UTC if none).

    The range includes its start and excludes its end; a start after the end crosses midnight
    (22:00–07:00). No quiet hours, or a stored value that is not a time, mean never quiet: an
    alert that arrives with sound beats one that is held back by a bad row. A zone tzdata no
    longer knows falls back to UTC for the same reason.
    """
    if now.tzinfo is None:
        raise ValueError("naive datetime: give a time zone or offset")
    if quiet_start is None or quiet_end is None:
        return False
    start, end = _minutes(quiet_start), _minutes(quiet_end)
    if start is None or end is None or start == end:
        return False
    here = now.astimezone(_zone_or_utc(timezone))
    minute = here.hour * 60 + here.minute
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end

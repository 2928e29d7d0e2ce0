"""/timeline as pure functions: the window asked for, the pages of what happened in it, and the
data its page buttons carry.

No I/O and no clock: `now` comes in, HTML pages come out; bot/engine/history.py reads the records.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from bot.core.arguments import UsageError, parse_full_pair, words
from bot.core.catalog import Catalog, Region, Service
from bot.render.card import TELEGRAM_LIMIT, cite, esc, flag, named, region_label, reports_text
from bot.render.i18n import N_, _, name, ngettext
from bot.render.telegram_html import html_to_text, utf16_len
from bot.render.texts import TIMELINE_USAGE
from bot.render.timefmt import clock_pair, day_text, local, offset_label, zone, zone_label
from storage.records import Event, Observation
from storage.timeline import Latest, Span

DEFAULT_HOURS = 24
# Thirty days: a month of 15-minute buckets is already a few dozen pages.
MAX_HOURS = 720
# Dates outside these years are typos, and year 1 or 9999 would overflow in a zone conversion.
FIRST_YEAR, LAST_YEAR = 1970, 2999

BUTTON_PREFIX = "tl"
FROM_CARD = "k"  # the last part of a page button opened from a card
OLDER, NEWER = N_("« Older"), N_("Newer »")
STALE_BUTTON = N_("This button no longer matches a timeline. Send /timeline again for a fresh one.")
GONE_PAGE = N_("That page is gone (the data changed). Send /timeline again for a fresh one.")

# A source can write any length; one line must still fit a page on its own, with room to spare.
_MAX_TEXT = 700
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DAYS = re.compile(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})")
_HOURS = re.compile(r"(\d{1,6})h?", re.IGNORECASE)
_HOURS_TOKEN = re.compile(r"(\d{1,3})@(\d{1,11})")


class StaleButton(Exception):
    """A page button whose data is not (or no longer) a timeline; the message is for the presser.

    Buttons outlive code and data: an old message, a changed page count, or a forged update
    must get a polite answer, never an exception in the log.
    """


@dataclass(frozen=True, slots=True)
class Window:
    """The `hours` up to `end`, or one whole local `day` in the region; times are UTC."""

    start: datetime
    end: datetime
    zone: str
    hours: int | None = None
    day: date | None = None
    last_day: date | None = None  # with `day`: every local day from `day` to this one

    @classmethod
    def local_days(cls, first: date, last: date, zone_name: str) -> Window:
        """Whole local days from `first` to `last`, at most MAX_HOURS long (the latest kept)."""
        last = max(first, last)
        first = max(first, last - timedelta(days=MAX_HOURS // 24 - 1))
        if first == last:
            return cls.local_day(first, zone_name)
        start = cls.local_day(first, zone_name).start
        end = cls.local_day(last, zone_name).end
        return cls(start, end, zone_name, day=first, last_day=last)

    @classmethod
    def last_hours(cls, hours: int, end: datetime, zone_name: str) -> Window:
        # Whole seconds, so the window a button carries is exactly the one first shown.
        end = end.astimezone(UTC).replace(microsecond=0)
        return cls(end - timedelta(hours=hours), end, zone_name, hours=hours)

    @classmethod
    def local_day(cls, day: date, zone_name: str) -> Window:
        """Midnight to midnight on the region's clock: 23 or 25 hours on a DST change."""
        here = zone(zone_name)
        start = datetime.combine(day, time(), here).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(), here).astimezone(UTC)
        return cls(start, end, zone_name, day=day)

    def span(self) -> Span:
        last = self.end - timedelta(seconds=1)
        return Span(
            self.start, self.end, local(self.start, self.zone).date(), local(last, self.zone).date()
        )

    def token(self) -> str:
        if self.day is not None and self.last_day is not None:
            return f"{self.day.isoformat()}..{self.last_day.isoformat()}"
        if self.day is not None:
            return self.day.isoformat()
        return f"{self.hours}@{int(self.end.timestamp())}"


@dataclass(frozen=True, slots=True)
class TimelineQuery:
    service: Service
    region: Region
    window: Window
    from_card: bool = False  # opened by a card's button: its pages keep a way back to it

    def event_regions(self) -> tuple[str, ...]:
        """Statements about the service everywhere belong on every country's timeline."""
        return (self.region.code,) if self.region.code == "global" else (self.region.code, "global")


@dataclass(frozen=True, slots=True)
class History:
    """What storage holds for a query's window; `latest` is read only when the window is empty."""

    query: TimelineQuery
    observations: tuple[Observation, ...]
    events: tuple[Event, ...]
    latest: Latest | None = None

    @property
    def empty(self) -> bool:
        return not self.observations and not self.events


@dataclass(frozen=True, slots=True)
class Page:
    text: str
    buttons: tuple[tuple[str, str], ...]  # (label, callback data), older first


# ---------------------------------------------------------------- what a person typed


def parse_timeline(text: str, catalog: Catalog, *, now: datetime) -> TimelineQuery:
    """`x pk`, `x pk 48`, `x "united kingdom" 2025-03-10`: the pair, then an optional window.

    No service or country name starts with a digit, so a last word that does is the window.
    """
    tokens = words(text)
    word = tokens.pop() if tokens and tokens[-1][:1].isdigit() else None
    usage = _(TIMELINE_USAGE)
    service, region = parse_full_pair(shlex.join(tokens), catalog, usage=usage)
    if word is None:
        return TimelineQuery(
            service, region, Window.last_hours(DEFAULT_HOURS, now, region.timezone)
        )
    try:
        window = _window_from_word(word, region.timezone, now)
    except ValueError as error:
        raise UsageError(f"{esc(str(error))}\n\n{usage}") from None
    return TimelineQuery(service, region, window)


def _days_window(match: re.Match[str], zone_name: str) -> Window:
    first, last = _day(match.group(1)), _day(match.group(2))
    if last < first:
        raise ValueError(
            _("{last} comes before {first}; write the earlier day first.").format(
                first=name(match.group(1)), last=name(match.group(2))
            )
        )
    return Window.local_days(first, last, zone_name)


def _window_from_word(word: str, zone_name: str, now: datetime) -> Window:
    if days := _DAYS.fullmatch(word):
        return _days_window(days, zone_name)
    if _DATE.fullmatch(word):
        return Window.local_day(_day(word), zone_name)
    match = _HOURS.fullmatch(word)
    if match is None:
        raise ValueError(
            _("“{word}” is neither a number of hours nor a date (YYYY-MM-DD).").format(
                word=name(word)
            )
        )
    return Window.last_hours(_hours(match.group(1)), now, zone_name)


def _day(word: str) -> date:
    try:
        day = date.fromisoformat(word)
    except ValueError:
        raise ValueError(
            _("“{word}” is not a date; write it as YYYY-MM-DD.").format(word=name(word))
        ) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(
            _("{word} is out of range; pick a year from {first} to {last}.").format(
                word=name(word), first=FIRST_YEAR, last=LAST_YEAR
            )
        )
    return day


def _hours(digits: str) -> int:
    hours = int(digits)
    if not 1 <= hours <= MAX_HOURS:
        raise ValueError(
            _("Hours go from 1 to {most} (30 days), not {hours}.").format(
                most=MAX_HOURS, hours=hours
            )
        )
    return hours


# ---------------------------------------------------------------- page buttons


def button_data(query: TimelineQuery, page: int) -> str:
    """`tl|x|PK|2025-03-10|3` or `tl|x|PK|24@1795348800|3`: at most about 40 bytes of the 64
    Telegram allows, since keys and codes are short and the window is absolute."""
    window = query.window.token()
    back = f"|{FROM_CARD}" if query.from_card else ""
    return f"{BUTTON_PREFIX}|{query.service.key}|{query.region.code}|{window}|{page}{back}"


def parse_button(data: str, catalog: Catalog) -> tuple[TimelineQuery, int]:
    """The query and 1-based page a button asks for; StaleButton for anything else."""
    parts = data.split("|")
    from_card = len(parts) == 6 and parts[5] == FROM_CARD
    if from_card:
        parts = parts[:5]
    if len(parts) != 5 or parts[0] != BUTTON_PREFIX or not parts[4].isdigit():
        raise StaleButton(_(STALE_BUTTON))
    try:
        service, region = catalog.service(parts[1]), catalog.region(parts[2])
        window = _window_from_token(parts[3], region.timezone)
    except (KeyError, ValueError, OverflowError, OSError):
        raise StaleButton(_(STALE_BUTTON)) from None
    page = int(parts[4])
    if page < 1:
        raise StaleButton(_(STALE_BUTTON))
    return TimelineQuery(service, region, window, from_card), page


def _window_from_token(token: str, zone_name: str) -> Window:
    if days := _DAYS.fullmatch(token):
        return _days_window(days, zone_name)
    if _DATE.fullmatch(token):
        return Window.local_day(_day(token), zone_name)
    match = _HOURS_TOKEN.fullmatch(token)
    if match is None:
        raise ValueError(token)
    end = datetime.fromtimestamp(int(match.group(2)), UTC)
    if not FIRST_YEAR <= end.year <= LAST_YEAR:
        raise ValueError(token)
    return Window.last_hours(_hours(match.group(1)), end, zone_name)


# ---------------------------------------------------------------- pages


def render_timeline(history: History) -> list[Page]:
    """Oldest first, split into pages that each fit one message; a line is never split."""
    query = history.query
    if history.empty:
        return [Page(_empty_text(history), ())]
    header = _header(history)
    days = _days(history)
    bodies = _paginate(header, days)
    pages = []
    for number, body in enumerate(bodies, start=1):
        lines = [*header, *body]
        if len(bodies) > 1:
            lines += ["", f"<i>{_page_label(number, len(bodies))}</i>"]
        buttons = []
        if number > 1:
            buttons.append((_(OLDER), button_data(query, number - 1)))
        if number < len(bodies):
            buttons.append((_(NEWER), button_data(query, number + 1)))
        pages.append(Page("\n".join(lines), tuple(buttons)))
    return pages


def page_of(history: History, number: int) -> Page:
    """The page a button asked for; StaleButton when the data changed and it no longer exists."""
    pages = render_timeline(history)
    if not 1 <= number <= len(pages):
        raise StaleButton(_(GONE_PAGE))
    return pages[number - 1]


def _page_label(number: int, total: int) -> str:
    return _("page {number}/{total}").format(number=number, total=total)


def _title(query: TimelineQuery) -> str:
    pair = _("{service} in {region}").format(
        service=named(query.service.name), region=region_label(query.region)
    )
    return f"{flag(query.region)} <b>{pair}</b>"


def _zone_note(at: datetime, zone_name: str) -> str:
    label = zone_label(at, zone_name)
    if label == "UTC":
        return _("times in UTC")
    return _("local time {zone} = {offset}").format(
        zone=label, offset=offset_label(local(at, zone_name).utcoffset())
    )


def _header(history: History) -> list[str]:
    window, tz = history.query.window, history.query.window.zone
    if window.day is not None and window.last_day is not None:
        when = _("{first} to {last}, whole days").format(
            first=day_text(window.day), last=day_text(window.last_day)
        )
    elif window.day is not None:
        when = _("{day}, the whole day").format(day=day_text(window.day))
    else:
        hours = window.hours or 0
        when = ngettext("The hour to {time}", "The {n} hours to {time}", hours).format(
            n=hours, time=clock_pair(window.end, tz, with_day=True)
        )
    readings, events = len(history.observations), len(history.events)
    counted = _("{readings} and {events}, oldest first; {zone}").format(
        readings=ngettext("{n} reading", "{n} readings", readings).format(n=readings),
        events=ngettext("{n} event", "{n} events", events).format(n=events),
        zone=_zone_note(window.start, tz),
    )
    title = _("{title} — timeline").format(title=_title(history.query))
    return [title, when, counted, ""]


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1].rstrip() + "…"


def _days(history: History) -> list[tuple[date, list[str]]]:
    """Lines grouped under their local day; date-only records after that day's timed ones."""
    query = history.query
    tz = query.window.zone
    entries: list[tuple[date, bool, datetime, str]] = []
    for row in history.observations:
        note = f" ({esc(_clip(row.note))})" if row.note else ""
        entries.append(
            (
                *_when(row.at, row.precision, tz),
                f"{reports_text(row)}{note} — {cite(_clip(row.source))}",
            )
        )
    for event in history.events:
        tag = _("claim") + ": " if event.kind == "claim" else ""
        worldwide = event.region == "global" and query.region.code != "global"
        where = " [" + _("worldwide") + "]" if worldwide else ""
        entries.append(
            (
                *_when(event.at, event.precision, tz),
                f"{tag}{esc(_clip(event.text))} — {cite(_clip(event.source))}{where}",
            )
        )
    entries.sort(key=lambda entry: entry[:3])  # stable: readings before events at one instant
    days: list[tuple[date, list[str]]] = []
    for day, untimed, at, line in entries:
        if not days or days[-1][0] != day:
            days.append((day, []))
        when = _("time not reported") if untimed else clock_pair(at, tz)
        days[-1][1].append(f"• {when} · {line}")
    return days


def _when(at: datetime, precision: str, tz: str) -> tuple[date, bool, datetime]:
    if precision == "day":
        return at.date(), True, at  # the source's calendar day, stored at midnight UTC
    return local(at, tz).date(), False, at


def _plain_length(html_text: str) -> int:
    return utf16_len(html_to_text(html_text))


def _paginate(header: list[str], days: list[tuple[date, list[str]]]) -> list[list[str]]:
    """Greedy packing by each line's own length as Telegram counts it.

    Lines are self-contained HTML, so a page's plain length is at most the sum of its lines'
    plus the newlines: measuring each line once keeps a 30-day window linear, where asking
    `fits` of every growing page would parse it again per line.
    """
    total = sum(len(lines) for _day, lines in days)
    footer = 2 + len(_page_label(total, total))  # "\n\n" + the widest footer possible
    budget = TELEGRAM_LIMIT - sum(_plain_length(line) + 1 for line in header) - footer
    pages: list[list[str]] = []
    page: list[str] = []
    used = 0
    for day, lines in days:
        heading = f"<u>{day_text(day)}</u>"
        for position, line in enumerate(lines):
            cost = _plain_length(line) + 1
            lead = [heading] if position == 0 else []
            if page and used + cost + sum(_plain_length(x) + 1 for x in lead) > budget:
                pages.append(page)
                page, used = [], 0
            if not page and not lead:
                lead = [f"{heading} (" + _("continued") + ")"]
            used += cost + sum(_plain_length(x) + 1 for x in lead)
            page += [*lead, line]
    if page:
        pages.append(page)
    return pages


def _empty_text(history: History) -> str:
    query = history.query
    window = query.window
    if window.day is not None and window.last_day is not None:
        nothing = _("Nothing from {first} to {last}.").format(
            first=day_text(window.day), last=day_text(window.last_day)
        )
    elif window.day is not None:
        nothing = _("Nothing on {day}.").format(day=day_text(window.day))
    else:
        hours = window.hours or 0
        nothing = ngettext(
            "Nothing in the last hour.", "Nothing in the last {n} hours.", hours
        ).format(n=hours)
    day = latest_day(history.latest, window.zone)
    if day is None:
        pointer = _("There is no data on record for this pair yet.")
    else:
        command = f"/timeline {query.service.key} {query.region.code.lower()} {day.isoformat()}"
        pointer = _("Most recent data: {day} — {command}").format(
            day=day_text(day), command=esc(command)
        )
    return f"{_title(query)}\n{nothing} {pointer}"


def latest_day(latest: Latest | None, zone_name: str) -> date | None:
    """The newest local day with data: a timed record's day on the region's clock, or a date."""
    if latest is None:
        return None
    days = [local(latest.timed, zone_name).date()] if latest.timed else []
    if latest.dated:
        days.append(latest.dated)
    return max(days, default=None)

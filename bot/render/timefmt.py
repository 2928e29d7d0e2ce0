"""Times as a person in the region reads them: local time, the zone's name, and UTC beside it.

Pure functions; `now` is always passed in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.render import i18n
from bot.render.i18n import _, ngettext
from storage.records import PartialDate


@cache
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def offset_label(offset: timedelta | None) -> str:
    """UTC+5, UTC+5:30, UTC−3 (a real minus sign, as typeset)."""
    minutes = int((offset or timedelta()).total_seconds() // 60)
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def zone_label(at: datetime, zone_name: str) -> str:
    """PKT, EST, GMT where the zone has a letter abbreviation, otherwise UTC+4."""
    local = at.astimezone(zone(zone_name))
    name = local.tzname() or ""
    if not name or name[0] in "+-" or name.isdigit():
        return offset_label(local.utcoffset())
    return name


def local(at: datetime, zone_name: str) -> datetime:
    return at.astimezone(zone(zone_name))


def day_text(day: date) -> str:
    """Mon 10 Mar 2025, in the current language."""
    return i18n.day(day)


def _day_month(day: date) -> str:
    return format_date(day, "d MMM", locale=i18n.locale_of(i18n.current()))


def clock_pair(at: datetime, zone_name: str, *, with_day: bool = False) -> str:
    """`15:02 PKT (10:02 UTC)`; with_day adds the local date, and the UTC date if it differs."""
    here = local(at, zone_name)
    utc = at.astimezone(UTC)
    label = zone_label(at, zone_name)
    if label == "UTC":
        text = i18n.name(f"{utc:%H:%M} UTC")
        return _on_day(utc.date(), text) if with_day else text
    utc_part = f"{utc:%H:%M} UTC"
    if with_day and utc.date() != here.date():
        utc_part += f" {_day_month(utc.date())}"
    # Isolated: in right-to-left text the Latin zone and the parentheses keep their order.
    text = i18n.name(f"{here:%H:%M} {label} ({utc_part})")
    return _on_day(here.date(), text) if with_day else text


def _on_day(day: date, time_text: str) -> str:
    return _("{day}, {time}").format(day=day_text(day), time=time_text)


def partial_date_text(value: PartialDate) -> str:
    """As precise as stated: 2024, February 2024, 17 February 2024."""
    if value.month is None:
        return str(value.year)
    if value.day is None:
        return i18n.month_year(value.first_day())
    return i18n.day_month_year(value.first_day())


def short_partial_date(value: PartialDate) -> str:
    if value.month is None:
        return str(value.year)
    if value.day is None:
        return i18n.month_short(value.first_day())
    return format_date(value.first_day(), "d MMM y", locale=i18n.locale_of(i18n.current()))


def months_between(start: PartialDate, now: datetime) -> int:
    """Whole months from the start (as precise as stated) to now."""
    first = start.first_day()
    months = (now.year - first.year) * 12 + (now.month - first.month)
    if start.day is not None and now.day < first.day:
        months -= 1
    return max(months, 0)


def span_text(months: int) -> str:
    """2 years 9 months."""
    years, rest = divmod(months, 12)
    parts = []
    if years:
        parts.append(ngettext("{n} year", "{n} years", years).format(n=years))
    if rest or not years:
        parts.append(ngettext("{n} month", "{n} months", rest).format(n=rest))
    return " ".join(parts)


def duration_text(delta: timedelta) -> str:
    """9 h 4 min, 45 min, 3 days 2 h."""
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        text = ngettext("{n} day", "{n} days", days).format(n=days)
        return text + (" " + _("{n} h").format(n=hours) if hours else "")
    if hours:
        return _("{n} h").format(n=hours) + (" " + _("{n} min").format(n=mins) if mins else "")
    return _("{n} min").format(n=mins)


def ago_text(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return _("{n} s ago").format(n=max(seconds, 0))
    if seconds < 3600:
        return _("{n} min ago").format(n=seconds // 60)
    if seconds < 86400:
        return _("{n} h ago").format(n=seconds // 3600)
    days = seconds // 86400
    return ngettext("{n} day ago", "{n} days ago", days).format(n=days)

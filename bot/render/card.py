"""Summaries as Telegram HTML: pure functions of a summary and `now`.

Everything a user or a source wrote goes through `esc`; Telegram refuses a message whose HTML
does not parse, and a restriction's text is not ours to trust.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from bot.core.catalog import Region
from bot.core.summaries import PairSummary
from bot.core.verdict import verdict_for
from bot.render.i18n import N_, _, name, ngettext, number, percent, region_name
from bot.render.signals import render_source_lines
from bot.render.telegram_html import html_to_text, utf16_len
from bot.render.telegram_limits import TELEGRAM_LIMIT
from bot.render.timefmt import (
    ago_text,
    clock_pair,
    day_text,
    duration_text,
    local,
    months_between,
    partial_date_text,
    span_text,
)
from bot.render.verdict import render_verdict
from storage.records import Observation, PreparedSummary, Restriction

LEVEL_BADGE = {"normal": "🟢", "elevated": "🟠", "outage": "🔴"}
LEVEL_WORDS = {"normal": N_("normal"), "elevated": N_("elevated reports"), "outage": N_("outage")}
LEVEL_NOW = {
    "normal": N_("Normal now"),
    "elevated": N_("Elevated reports now"),
    "outage": N_("Outage now"),
}
KIND_WORDS = {"block": N_("Blocked"), "throttle": N_("Throttled"), "shutdown": N_("Shut down")}
KIND_LOWER = {"block": N_("blocked"), "throttle": N_("throttled"), "shutdown": N_("shut down")}
EVENT_TAGS = {
    "claim": N_("claim"),
    "statement": N_("statement"),
    "report": N_("report"),
    "confirmation": N_("confirmation"),
    "ban": N_("ban"),
    "restoration": N_("restoration"),
    "note": N_("note"),
}


def level_words(level: str) -> str:
    return _(LEVEL_WORDS.get(level, level))


def named(text: str) -> str:
    """A name a source or the catalog gave, escaped and kept in its own direction."""
    return name(esc(text))


def region_label(region: Region) -> str:
    return named(region_name(region.code, region.name))


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def flag(region: Region) -> str:
    """The regional-indicator flag for a country code; a globe for `global`."""
    if len(region.code) != 2:
        return "🌐"
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in region.code.upper())


def count_text(row: Observation) -> str:
    value = number(row.count)
    if row.qualifier == "at_least":
        return _("more than {number}").format(number=value)
    if row.qualifier == "about":
        return _("about {number}").format(number=value)
    return value


def reports_text(row: Observation) -> str:
    return ngettext("{count} report", "{count} reports", row.count).format(count=count_text(row))


def when_text(at: datetime, precision: str, zone_name: str, *, with_day: bool = True) -> str:
    if precision == "day":
        return _("{day} (time not reported)").format(day=day_text(at.date()))
    return clock_pair(at, zone_name, with_day=with_day)


def cite(source: str) -> str:
    return f"<i>{named(source)}</i>"


# ---------------------------------------------------------------- the card for one pair


# The card's layout, stored with each prepared card: bump it when the card changes shape, and
# cards prepared by an older version are re-prepared at start instead of served (format 1 was
# the long card before the verdict and the views).
CARD_FORMAT = 2
# Room kept free under Telegram's limit for the freshness line added when the card is sent.
FOOTER_ROOM = 240
# The short card shows this many of the latest timeline entries; the button shows them all.
CARD_ENTRIES = 3
# One entry or claim in the short card, at most: a source can write a paragraph.
CARD_ENTRY_CHARS = 160


def fits(html_text: str, limit: int = TELEGRAM_LIMIT) -> bool:
    """Telegram counts the limit on the text after entity parsing, in UTF-16 code units.

    Markup only removes characters, except a link, whose address the plain text spells out:
    without links, HTML that fits already is known to fit, and the parse is skipped.
    """
    if "<a " not in html_text and utf16_len(html_text) <= limit:
        return True
    return utf16_len(html_to_text(html_text)) <= limit


def card_header(summary: PairSummary) -> str:
    pair = _("{service} in {region}").format(
        service=named(summary.service.name), region=region_label(summary.region)
    )
    return f"{flag(summary.region)} <b>{pair}</b>"


def render_card(summary: PairSummary, *, now: datetime) -> str:
    """The short /status card: the verdict, the key numbers, the latest entries, the signals
    and one line of ban context. Everything else is one button away (bot/render/details.py).

    The verdict, numbers and ban line are what people come for, so when a hostile source makes
    the card too long the timeline entries give way first, then the signal lines.
    """
    s = summary
    verdict = verdict_for(s, now)
    head = [card_header(s), *render_verdict(verdict, s.service, s.region, now)]
    numbers = ["", *_state_lines(s, now)]
    signals = render_source_lines(s.findings, s.region.timezone, now) if s.findings else []
    ban = _ban_line(s, now)
    for entries in range(CARD_ENTRIES, -1, -1):
        for with_signals in (True, False):
            lines = [*head, *numbers, *(signals if with_signals else [])]
            lines += _latest_entries(s, entries)
            lines += ban
            text = "\n".join(lines)
            if fits(text, TELEGRAM_LIMIT - FOOTER_ROOM):
                return text
    return "\n".join([*head[:2], *numbers[:3], *ban])[: TELEGRAM_LIMIT - FOOTER_ROOM]


def _clip(text: str, limit: int = CARD_ENTRY_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def timeline_entries(s: PairSummary) -> list[tuple[datetime, str, str]]:
    """Every timed reading and event of the card's window, oldest first: (at, precision, line).

    Claims are left out (the "What was said" view keeps them side by side), so these are the
    entries "… N more" counts: day headings are a layout, not entries.
    """
    entries: list[tuple[datetime, str, str]] = []
    for row in s.counts:
        entries.append((row.at, row.precision, f"{reports_text(row)} — {cite(row.source)}"))
    for event in s.events:
        if event.kind == "claim" or event.precision == "day":
            continue
        line = f"{esc(_clip(event.text))} — {cite(event.source)}"
        if event.region == "global" and s.region.code != "global":
            line += " [" + _("worldwide") + "]"
        entries.append((event.at, event.precision, line))
    return sorted(entries, key=lambda entry: (entry[0], entry[1] == "day"))


def window_days(s: PairSummary) -> tuple[date, date] | None:
    """The local days the card is about (its incident, or its latest day of data): what its
    Timeline button and "more" link open, so they never land on an empty stretch."""
    if s.window is None:
        return None
    tz = s.region.timezone
    last = max(s.window.end - timedelta(seconds=1), s.window.start)
    return local(s.window.start, tz).date(), local(last, tz).date()


def timeline_command(s: PairSummary) -> str:
    days = window_days(s)
    command = f"/timeline {esc(s.service.key)} {esc(s.region.code.lower())}"
    if days is None:
        return command
    first, last = days
    return f"{command} {first.isoformat()}" + (f"..{last.isoformat()}" if last != first else "")


def _latest_entries(s: PairSummary, limit: int) -> list[str]:
    entries = timeline_entries(s)
    if not entries or limit <= 0:
        return []
    tz = s.region.timezone
    shown = entries[-limit:]
    lines = ["", "<b>" + _("Latest on the timeline") + "</b>"]
    hidden = len(entries) - len(shown)
    if hidden:
        lines.append(
            ngettext(
                "… {n} earlier entry: {command}", "… {n} earlier entries: {command}", hidden
            ).format(n=number(hidden), command=timeline_command(s))
        )
    day = None
    for at, precision, line in shown:
        here = local(at, tz).date()
        lines.append(f"• {when_text(at, precision, tz, with_day=here != day)} · {line}")
        day = here
    return lines


def _ban_line(s: PairSummary, now: datetime) -> list[str]:
    """One line of ban context: the active restriction, else the most recent one on record."""
    featured = featured_restriction(s)
    if featured is None:
        return []
    sources = cite("; ".join(featured.sources)) if featured.sources else ""
    line = restriction_head(featured, s, now)
    others = len(s.restrictions) - 1
    more = (
        " " + ngettext("+{n} more on record", "+{n} more on record", others).format(n=others)
        if others > 0
        else ""
    )
    return ["", f"{line} — {sources}{more}" if sources else line + more]


def featured_restriction(s: PairSummary) -> Restriction | None:
    """The active block, or else the most recent restriction: the one told in full."""
    return s.active_block or (s.restrictions[0] if s.restrictions else None)


def restriction_head(r: Restriction, s: PairSummary, now: datetime) -> str:
    """`⛔ Blocked in Pakistan since February 2024 (about 2 years so far)`, or lifted."""
    what = _("Internet shut down") if r.service == "internet" else _(KIND_WORDS[r.kind])
    if r.status == "active":
        text = _("{what} in {region} since {since}").format(
            what=what, region=region_label(s.region), since=esc(partial_date_text(r.start))
        )
        span = _("about {span} so far").format(span=span_text(months_between(r.start, now)))
        return f"⛔ <b>{text}</b> ({span})"
    text = _("{what} in {region}, {period}").format(
        what=what, region=region_label(s.region), period=esc(restriction_period(r))
    )
    return f"📜 <b>{text}</b> (" + _("lifted") + ")"


def _state_lines(s: PairSummary, now: datetime) -> list[str]:
    tz = s.region.timezone
    lines: list[str] = []
    incident = s.incident
    if s.active and incident:
        lines.append(
            f"{LEVEL_BADGE[s.level]} <b>{_(LEVEL_NOW[s.level])}</b>, "
            + _("since {time} ({duration})").format(
                time=clock_pair(incident.start, tz, with_day=True),
                duration=duration_text(now - incident.start),
            )
        )
    elif s.latest is None:
        lines.append(f"{LEVEL_BADGE['normal']} " + _("No reports on record for this pair."))
    else:
        lines.append(f"{LEVEL_BADGE['normal']} <b>" + _("No active incident") + "</b>")
        if s.routine:
            lines.append(
                "↗️ "
                + ngettext(
                    "No alert for this one: {service} here had {n} surge at least this high in "
                    "the past {period}. A higher one is told.",
                    "No alert for this one: {service} here had {n} surges at least this high in "
                    "the past {period}. A higher one is told.",
                    s.routine,
                ).format(
                    service=named(s.service.name),
                    n=number(s.routine),
                    period=duration_text(s.routine_window),
                )
            )
    if s.latest:
        lines.append(
            _("Latest: {count}, {time} — {source}").format(
                count=f"<b>{reports_text(s.latest)}</b>",
                time=when_text(s.latest.at, s.latest.precision, tz),
                source=cite(s.latest.source),
            )
        )
    if incident:
        peak = incident.peak
        lines.append(
            _("Peak: {count}, {time} — {source}").format(
                count=f"<b>{reports_text(peak)}</b>",
                time=clock_pair(peak.at, tz, with_day=True),
                source=cite(peak.source),
            )
        )
    if s.problems:
        total = sum(reports for _problem, reports, _share in s.problems)
        shares = ", ".join(
            f"{percent(share)} {esc(_(problem))}" for problem, _count, share in s.problems[:4]
        )
        lines.append(
            _("Problems people reported: {shares} ({total} via /report)").format(
                shares=shares, total=number(total)
            )
        )
    if s.typical is not None:
        lines.append(_("Typical for this hour: {count} reports").format(count=number(s.typical)))
    elif s.active_block:
        lines.append(
            _(
                "Typical: not known — {service} is blocked here, so there is no normal level "
                "to compare with."
            ).format(service=named(s.service.name))
        )
    elif s.latest:
        lines.append(_("Typical: not known yet for this pair."))
    if incident and not incident.ongoing:
        end = incident.end or incident.last_seen
        lines.append(
            _("Last incident: {start} → {end} ({duration}), peak {peak}, {level}.").format(
                start=clock_pair(incident.start, tz, with_day=True),
                end=clock_pair(end, tz, with_day=True),
                duration=duration_text(end - incident.start),
                peak=count_text(incident.peak),
                level=level_words(incident.level),
            )
        )
    return lines


def restriction_period(r: Restriction) -> str:
    period = partial_date_text(r.start)
    if r.end and r.end != r.start:
        period += f" – {partial_date_text(r.end)}"
    return period


# ---------------------------------------------------------------- overviews


def _overview_line(s: PairSummary, label: str) -> str:
    """One line of an overview; `label` is already escaped and isolated."""
    tz = s.region.timezone
    if s.active and s.latest:
        state = _("{level} now, {count} at {time}").format(
            level=level_words(s.level),
            count=reports_text(s.latest),
            time=clock_pair(s.latest.at, tz),
        )
    elif s.incident:
        state = _("no active incident; last {day}, peak {peak}").format(
            day=day_text(local(s.incident.start, tz).date()), peak=count_text(s.incident.peak)
        )
    elif s.counts:
        top = max(s.counts, key=lambda row: row.count)
        state = _("no incident detected; up to {count} on {day}").format(
            count=reports_text(top), day=day_text(top.at.date())
        )
    else:
        state = _("no reports on record")
    marks = ""
    block = s.active_block
    if block:
        marks = " · ⛔ " + _("blocked since {since}").format(since=partial_date_text(block.start))
    elif s.restrictions:
        past = s.restrictions[0]
        word = _("internet shutdown") if past.service == "internet" else _(KIND_LOWER[past.kind])
        status = _("active") if past.status == "active" else _("lifted")
        marks = f" · 📜 {word} {partial_date_text(past.start)} ({status})"
    return f"{LEVEL_BADGE[s.level]} <b>{label}</b> — {state}{marks}"


def render_service_overview(lines: Sequence[str], service_name: str, key: str) -> str:
    if not lines:
        return _(
            "No reports or restrictions on record for {service} yet.\n"
            "Try /status {key} pakistan, or /report {key} &lt;country&gt;."
        ).format(service=f"<b>{named(service_name)}</b>", key=esc(key))
    header = f"<b>{named(service_name)}</b> — " + ngettext(
        "{n} region on record, busiest first", "{n} regions on record, busiest first", len(lines)
    ).format(n=number(len(lines)))
    footer = _("Full card: {command}").format(command=f"/status {esc(key)} &lt;country&gt;")
    return render_overview(header, lines, footer)


def render_region_overview(lines: Sequence[str], region: Region) -> str:
    if not lines:
        return _(
            "No reports or restrictions on record in {region} yet.\nTry /status x {code}."
        ).format(region=f"<b>{region_label(region)}</b>", code=esc(region.code.lower()))
    header = f"{flag(region)} <b>{region_label(region)}</b> — " + ngettext(
        "{n} service on record, busiest first", "{n} services on record, busiest first", len(lines)
    ).format(n=number(len(lines)))
    footer = _("Full card: {command}").format(
        command=f"/status &lt;service&gt; {esc(region.code.lower())}"
    )
    return render_overview(header, lines, footer)


def overview_lines(summaries: Sequence[PairSummary], *, by: str) -> list[str]:
    """Lines for summaries computed on demand, shaped like the prepared ones."""
    if by == "region":
        return [f"{flag(s.region)} " + _overview_line(s, region_label(s.region)) for s in summaries]
    return [_overview_line(s, named(s.service.name)) for s in summaries]


def _fit(lines: list[str]) -> str:
    text = "\n".join(lines)
    while len(text) > TELEGRAM_LIMIT and len(lines) > 3:
        lines = [*lines[:-3], "…", lines[-1]]
        text = "\n".join(lines)
    return text


# ---------------------------------------------------------------- prepared summaries


def prepare_summary(summary: PairSummary, *, now: datetime) -> PreparedSummary:
    """Everything /status needs later, rendered now, so a reply is a dictionary lookup."""
    has_data = summary.latest is not None or bool(summary.restrictions)
    return PreparedSummary(
        service=summary.service.key,
        region=summary.region.code,
        made_at=now,
        level=summary.level,
        rank=summary.busyness(),
        card_utf8=render_card(summary, now=now).encode("utf-8"),
        service_line=f"{flag(summary.region)} "
        + _overview_line(summary, region_label(summary.region)),
        region_line=_overview_line(summary, named(summary.service.name)),
        has_data=has_data,
        card_format=CARD_FORMAT,
    )


def freshness_footer(
    made_at: datetime,
    now: datetime,
    zone_name: str,
    *,
    prepared: bool,
    failing_since: datetime | None = None,
) -> str:
    """How old the card is, and a warning when the background refresh is failing."""
    if not prepared:
        line = "<i>" + _("As of {time}").format(time=clock_pair(now, zone_name, with_day=True))
    else:
        line = "<i>" + _("Updated {ago} · {time}").format(
            ago=ago_text(now - made_at), time=clock_pair(made_at, zone_name, with_day=True)
        )
    line += "</i>"
    if failing_since is not None:
        line += (
            "\n⚠️ <b>"
            + _("May be out of date:")
            + "</b> "
            + _("refreshing has failed since {time}; retrying.").format(
                time=clock_pair(failing_since, zone_name, with_day=True)
            )
        )
    return line


def with_footer(card: str, footer: str) -> str:
    return f"{card}\n\n{footer}"


def render_overview(header: str, lines: Sequence[str], footer: str) -> str:
    return _fit([header, "", *lines, "", footer])

"""Summaries as Telegram HTML: pure functions of a summary and `now`.

Everything a user or a source wrote goes through `esc`; Telegram refuses a message whose HTML
does not parse, and a restriction's text is not ours to trust.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, datetime

from bot.catalog import Region
from bot.plaintext import html_to_text, utf16_len
from bot.summaries import PairSummary, RegionFigures
from bot.timefmt import (
    ago_text,
    clock_pair,
    day_text,
    duration_text,
    local,
    months_between,
    offset_label,
    partial_date_text,
    short_partial_date,
    span_text,
    zone_label,
)
from storage.records import Observation, PreparedSummary, Restriction

TELEGRAM_LIMIT = 4096
LEVEL_BADGE = {"normal": "🟢", "elevated": "🟠", "outage": "🔴"}
LEVEL_WORDS = {"normal": "normal", "elevated": "elevated reports", "outage": "outage"}
KIND_WORDS = {"block": "Blocked", "throttle": "Throttled", "shutdown": "Shut down"}


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def flag(region: Region) -> str:
    """The regional-indicator flag for a country code; a globe for `global`."""
    if len(region.code) != 2:
        return "🌐"
    return "".join(chr(0x1F1E6 + ord(letter) - ord("A")) for letter in region.code.upper())


def count_text(row: Observation) -> str:
    number = f"{row.count:,}"
    if row.qualifier == "at_least":
        return f"more than {number}"
    if row.qualifier == "about":
        return f"about {number}"
    return number


def reports_text(row: Observation) -> str:
    return f"{count_text(row)} report{'s' if row.count != 1 else ''}"


def when_text(at: datetime, precision: str, zone_name: str, *, with_day: bool = True) -> str:
    if precision == "day":
        return f"{day_text(at.date())} (time not reported)"
    return clock_pair(at, zone_name, with_day=with_day)


def cite(source: str) -> str:
    return f"<i>{esc(source)}</i>"


# ---------------------------------------------------------------- the card for one pair


# Room kept free under Telegram's limit for the freshness line added when the card is sent.
FOOTER_ROOM = 240


def fits(html_text: str, limit: int = TELEGRAM_LIMIT) -> bool:
    """Telegram counts the limit on the text after entity parsing, in UTF-16 code units."""
    return utf16_len(html_to_text(html_text)) <= limit


def render_card(summary: PairSummary, *, now: datetime) -> str:
    """The /status card, made more compact step by step until it fits one message.

    The timeline and the ban context are what people come for, so notes, the source footer and
    long claims give way first; the timeline is shortened only as a last resort.
    """
    last = len(COMPACTION) - 1
    for compact in range(last + 1):
        text = "\n".join(_card_lines(summary, now=now, compact=compact, max_timeline=60))
        if fits(text, TELEGRAM_LIMIT - FOOTER_ROOM):
            return text
    for max_timeline in range(40, -1, -4):
        text = "\n".join(_card_lines(summary, now=now, compact=last, max_timeline=max_timeline))
        if fits(text, TELEGRAM_LIMIT - FOOTER_ROOM):
            return text
    return "\n".join(
        [
            _card_lines(summary, now=now, compact=last, max_timeline=0)[0],
            *_state_lines(summary, now),
        ]
    )


# What each compaction step gives up, in order.
COMPACTION = ("nothing", "notes", "footer", "long claims", "earlier restrictions")
NOTES, FOOTER, LONG_CLAIMS, EARLIER = 1, 2, 3, 4


def _card_lines(
    summary: PairSummary, *, now: datetime, compact: int, max_timeline: int
) -> list[str]:
    s, region, tz = summary, summary.region, summary.region.timezone
    lines = [f"{flag(region)} <b>{esc(s.service.name)} in {esc(region.name)}</b>"]
    lines += _state_lines(s, now)
    timeline = _timeline_lines(s, max_timeline, notes=compact < LONG_CLAIMS)
    if timeline:
        # Name the zone as it was then: March in New York is EDT even if today is EST.
        then = s.counts[0].at if s.counts else now
        label = zone_label(then, tz)
        offset = offset_label(local(then, tz).utcoffset())
        zone_note = "times in UTC" if label == "UTC" else f"local time {label} = {offset}"
        lines += ["", f"<b>Timeline</b> ({zone_note})", *timeline]
    said = _said_lines(s, shorten=compact >= LONG_CLAIMS, notes=compact < NOTES)
    if said:
        lines += ["", "<b>What was said</b> (claims may disagree; each with its source)"]
        lines += said
    lines += _restriction_lines(s, now, notes=compact < NOTES, earlier=compact < EARLIER)
    elsewhere = _elsewhere_lines(s.elsewhere, notes=compact < NOTES)
    if elsewhere:
        lines += ["", f"<b>{esc(s.service.name)} elsewhere, same period</b>", *elsewhere]
    if s.sources and compact < FOOTER:
        lines += ["", "<b>Sources:</b> " + esc("; ".join(s.sources))]
    return lines


def _state_lines(s: PairSummary, now: datetime) -> list[str]:
    tz = s.region.timezone
    lines: list[str] = []
    incident = s.incident
    if s.active and incident:
        since = clock_pair(incident.start, tz, with_day=True)
        lines.append(
            f"{LEVEL_BADGE[s.level]} <b>{LEVEL_WORDS[s.level].capitalize()} now</b>, since "
            f"{since} ({duration_text(now - incident.start)})"
        )
    elif s.latest is None:
        lines.append(f"{LEVEL_BADGE['normal']} No reports on record for this pair.")
    else:
        lines.append(f"{LEVEL_BADGE['normal']} <b>No active incident</b>")
    if s.latest:
        lines.append(
            f"Latest: <b>{reports_text(s.latest)}</b>, "
            f"{when_text(s.latest.at, s.latest.precision, tz)} — {cite(s.latest.source)}"
        )
    if incident:
        peak = incident.peak
        lines.append(
            f"Peak: <b>{reports_text(peak)}</b>, {clock_pair(peak.at, tz, with_day=True)}"
            f" — {cite(peak.source)}"
        )
    if s.problems:
        total = sum(reports for _, reports, _ in s.problems)
        shares = ", ".join(f"{share:.0%} {esc(problem)}" for problem, _, share in s.problems[:4])
        lines.append(f"Problems people reported: {shares} ({total:,} via /report)")
    if s.typical is not None:
        lines.append(f"Typical for this hour: {s.typical:,.0f} reports")
    elif s.active_block:
        lines.append(
            f"Typical: not known — {esc(s.service.name)} is blocked here, so there is no normal "
            "level to compare with."
        )
    elif s.latest:
        lines.append("Typical: not known yet for this pair.")
    if incident and not incident.ongoing:
        end = incident.end or incident.last_seen
        lines.append(
            f"Last incident: {clock_pair(incident.start, tz, with_day=True)} → "
            f"{clock_pair(end, tz, with_day=True)} ({duration_text(end - incident.start)}), "
            f"peak {count_text(incident.peak)}, {LEVEL_WORDS[incident.level]}."
        )
    return lines


def _timeline_lines(s: PairSummary, limit: int, *, notes: bool) -> list[str]:
    tz = s.region.timezone
    timed: list[tuple[datetime, str]] = []
    undated: list[tuple[date, str]] = []
    for row in s.counts:
        note = f" ({esc(row.note)})" if row.note and notes else ""
        line = f"{reports_text(row)}{note} — {cite(row.source)}"
        if row.precision == "day":
            undated.append((row.at.date(), line))
        else:
            timed.append((row.at, line))
    for event in s.events:
        if event.kind == "claim" or event.precision == "day":
            continue  # shown under "What was said", side by side
        line = f"{esc(event.text)} — {cite(event.source)}"
        if event.region == "global" and s.region.code != "global":
            line += " [worldwide]"
        timed.append((event.at, line))
    timed.sort(key=lambda item: item[0])
    lines: list[str] = []
    day: date | None = None
    for at, line in timed:
        here = local(at, tz).date()
        if here != day:
            lines.append(f"<u>{day_text(here)}</u>")
            day = here
        lines.append(f"• {clock_pair(at, tz)} · {line}")
    for on, line in sorted(undated, key=lambda item: item[0]):
        lines.append(f"• {day_text(on)}, time not reported · {line}")
    if len(lines) > limit:
        hidden = len(lines) - limit
        lines = [
            *lines[:limit],
            f"… {hidden} more: /timeline {esc(s.service.key)} "
            f"{esc(s.region.code.lower())} for every reading",
        ]
    return lines


def _said_lines(s: PairSummary, *, shorten: bool, notes: bool) -> list[str]:
    """Claims and untimed statements together, each with who made it, never merged."""
    tz = s.region.timezone
    lines = []
    said = [
        e
        for e in s.events
        if (e.kind == "claim" or e.precision == "day") and (notes or e.kind != "note")
    ]
    for event in sorted(said, key=lambda e: (e.kind != "claim", e.at)):
        text = event.text
        if shorten and len(text) > 110:
            text = text[:109].rstrip() + "…"
        when = (
            f" ({local(event.at, tz):%H:%M} {zone_label(event.at, tz)})"
            if event.precision == "minute"
            else ""
        )
        tag = "claim" if event.kind == "claim" else event.kind
        lines.append(f"• {cite(event.source)}{when}, {tag}: {esc(text)}")
    return lines


def _restriction_lines(s: PairSummary, now: datetime, *, notes: bool, earlier: bool) -> list[str]:
    lines: list[str] = []
    # The active block, or else the most recent restriction, gets its full record.
    featured = s.active_block or (s.restrictions[0] if s.restrictions else None)
    for restriction in s.restrictions:
        if restriction is featured:
            lines += ["", *_featured_restriction(restriction, s, now, notes=notes)]
        elif earlier:
            lines += ["", _past_restriction(restriction, s)]
    return lines


def _featured_restriction(
    r: Restriction, s: PairSummary, now: datetime, *, notes: bool
) -> list[str]:
    what = "Internet shut down" if r.service == "internet" else KIND_WORDS[r.kind]
    if r.status == "active":
        since = partial_date_text(r.start)
        lasted = span_text(months_between(r.start, now))
        head = (
            f"⛔ <b>{what} in {esc(s.region.name)} since {esc(since)}</b> (about {lasted} so far)"
        )
    else:
        period = partial_date_text(r.start)
        if r.end and r.end != r.start:
            period += f" – {partial_date_text(r.end)}"
        head = f"📜 <b>{what} in {esc(s.region.name)}, {esc(period)}</b> (lifted)"
    lines = [
        head,
        f"By: {esc(r.authority)}",
        f"Grounds given: {esc(r.grounds)}",
    ]
    if r.timeline:
        lines.append("Record:")
        lines += [
            f"• {short_partial_date(step.on)} — {esc(step.text)} — {cite(step.source)}"
            for step in r.timeline
        ]
    if r.note and notes:
        lines.append(f"Note: {esc(r.note)}")
    if r.kind == "block" and r.status == "active" and s.latest is not None:
        lines.append(
            f"ℹ️ Because {esc(s.service.name)} is blocked in {esc(s.region.name)}, reports from "
            "there come from people reaching it anyway (for example over a VPN)."
        )
    return lines


def _past_restriction(r: Restriction, s: PairSummary) -> str:
    what = "Internet shutdown" if r.service == "internet" else KIND_WORDS[r.kind]
    period = partial_date_text(r.start)
    if r.end and r.end != r.start:
        period += f" – {partial_date_text(r.end)}"
    state = "active" if r.status == "active" else "lifted"
    sources = "; ".join(r.sources)
    return (
        f"📜 <b>Earlier: {what} in {esc(s.region.name)}, {esc(period)}</b> ({state}). "
        f"{esc(r.authority)} — {cite(sources)}"
    )


def _elsewhere_lines(figures: Sequence[RegionFigures], *, notes: bool, limit: int = 6) -> list[str]:
    lines = []
    for item in figures[:limit]:
        parts = []
        for row in sorted(item.observations, key=lambda row: -row.count)[:3]:
            note = f" ({esc(row.note)})" if row.note and notes else ""
            parts.append(f"{count_text(row)}{note}")
        lines.append(f"{flag(item.region)} {esc(item.region.name)}: " + " · ".join(parts))
    return lines


# ---------------------------------------------------------------- overviews


def _overview_line(s: PairSummary, name: str) -> str:
    tz = s.region.timezone
    if s.active and s.latest:
        state = (
            f"{LEVEL_WORDS[s.level]} now, {reports_text(s.latest)} at {clock_pair(s.latest.at, tz)}"
        )
    elif s.incident:
        state = (
            f"no active incident; last {day_text(local(s.incident.start, tz).date())}, "
            f"peak {count_text(s.incident.peak)}"
        )
    elif s.counts:
        top = max(s.counts, key=lambda row: row.count)
        state = f"no incident detected; up to {reports_text(top)} on {day_text(top.at.date())}"
    else:
        state = "no reports on record"
    marks = ""
    block = s.active_block
    if block:
        marks = f" · ⛔ blocked since {partial_date_text(block.start)}"
    elif s.restrictions:
        past = s.restrictions[0]
        word = "internet shutdown" if past.service == "internet" else KIND_WORDS[past.kind].lower()
        marks = f" · 📜 {word} {partial_date_text(past.start)} ({past.status})"
    return f"{LEVEL_BADGE[s.level]} <b>{esc(name)}</b> — {state}{marks}"


def render_service_overview(lines: Sequence[str], service_name: str, key: str) -> str:
    if not lines:
        return (
            f"No reports or restrictions on record for <b>{esc(service_name)}</b> yet.\n"
            f"Try /status {esc(key)} pakistan, or /report {esc(key)} &lt;country&gt;."
        )
    header = (
        f"<b>{esc(service_name)}</b> — {len(lines)} region"
        f"{'s' if len(lines) != 1 else ''} on record, busiest first"
    )
    return render_overview(header, lines, f"Full card: /status {esc(key)} &lt;country&gt;")


def render_region_overview(lines: Sequence[str], region: Region) -> str:
    if not lines:
        return (
            f"No reports or restrictions on record in <b>{esc(region.name)}</b> yet.\n"
            f"Try /status x {esc(region.code.lower())}."
        )
    header = (
        f"{flag(region)} <b>{esc(region.name)}</b> — {len(lines)} service"
        f"{'s' if len(lines) != 1 else ''} on record, busiest first"
    )
    footer = f"Full card: /status &lt;service&gt; {esc(region.code.lower())}"
    return render_overview(header, lines, footer)


def overview_lines(summaries: Sequence[PairSummary], *, by: str) -> list[str]:
    """Lines for summaries computed on demand, shaped like the prepared ones."""
    if by == "region":
        return [f"{flag(s.region)} " + _overview_line(s, s.region.name) for s in summaries]
    return [_overview_line(s, s.service.name) for s in summaries]


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
        service_line=f"{flag(summary.region)} " + _overview_line(summary, summary.region.name),
        region_line=_overview_line(summary, summary.service.name),
        has_data=has_data,
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
        line = f"<i>As of {clock_pair(now, zone_name, with_day=True)}</i>"
    else:
        line = (
            f"<i>Updated {ago_text(now - made_at)} · "
            f"{clock_pair(made_at, zone_name, with_day=True)}</i>"
        )
    if failing_since is not None:
        line += (
            f"\n⚠️ <b>May be out of date:</b> refreshing has failed since "
            f"{clock_pair(failing_since, zone_name, with_day=True)}; retrying."
        )
    return line


def with_footer(card: str, footer: str) -> str:
    return f"{card}\n\n{footer}"


def render_overview(header: str, lines: Sequence[str], footer: str) -> str:
    return _fit([header, "", *lines, "", footer])

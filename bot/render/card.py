"""Summaries as Telegram HTML: pure functions of a summary and `now`.

Everything a user or a source wrote goes through `esc`; Telegram refuses a message whose HTML
does not parse, and a restriction's text is not ours to trust.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import date, datetime

from bot.core.catalog import Region
from bot.core.summaries import PairSummary, RegionFigures
from bot.render.i18n import N_, _, name, ngettext, number, percent, region_name
from bot.render.signals import render_source_lines
from bot.render.telegram_html import html_to_text, utf16_len
from bot.render.timefmt import (
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


# Room kept free under Telegram's limit for the freshness line added when the card is sent.
FOOTER_ROOM = 240


def fits(html_text: str, limit: int = TELEGRAM_LIMIT) -> bool:
    """Telegram counts the limit on the text after entity parsing, in UTF-16 code units.

    Markup only removes characters, except a link, whose address the plain text spells out:
    without links, HTML that fits already is known to fit, and the parse is skipped.
    """
    if "<a " not in html_text and utf16_len(html_text) <= limit:
        return True
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
    lines = [
        f"{flag(region)} <b>"
        + _("{service} in {region}").format(
            service=named(s.service.name), region=region_label(region)
        )
        + "</b>"
    ]
    lines += _state_lines(s, now)
    if s.findings is not None:  # connectivity, blocking evidence, failing sources
        lines += render_source_lines(s.findings, tz, now)
    timeline = _timeline_lines(s, max_timeline, notes=compact < LONG_CLAIMS)
    if timeline:
        # Name the zone as it was then: March in New York is EDT even if today is EST.
        then = s.counts[0].at if s.counts else now
        label = zone_label(then, tz)
        offset = offset_label(local(then, tz).utcoffset())
        zone_note = (
            _("times in UTC")
            if label == "UTC"
            else _("local time {zone} = {offset}").format(zone=label, offset=offset)
        )
        lines += ["", "<b>" + _("Timeline") + f"</b> ({zone_note})", *timeline]
    said = _said_lines(s, shorten=compact >= LONG_CLAIMS, notes=compact < NOTES)
    if said:
        lines += [
            "",
            "<b>"
            + _("What was said")
            + "</b> ("
            + _("claims may disagree; each with its source")
            + ")",
        ]
        lines += said
    lines += _restriction_lines(s, now, notes=compact < NOTES, earlier=compact < EARLIER)
    elsewhere = _elsewhere_lines(s.elsewhere, notes=compact < NOTES)
    if elsewhere:
        title = _("{service} elsewhere, same period").format(service=named(s.service.name))
        lines += ["", f"<b>{title}</b>", *elsewhere]
    if s.sources and compact < FOOTER:
        lines += ["", "<b>" + _("Sources:") + "</b> " + "; ".join(named(x) for x in s.sources)]
    return lines


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
            line += " [" + _("worldwide") + "]"
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
        lines.append("• " + _("{day}, time not reported").format(day=day_text(on)) + f" · {line}")
    if len(lines) > limit:
        hidden = len(lines) - limit
        lines = [
            *lines[:limit],
            _("… {hidden} more: {command} for every reading").format(
                hidden=number(hidden),
                command=f"/timeline {esc(s.service.key)} {esc(s.region.code.lower())}",
            ),
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
        tag = _(EVENT_TAGS.get(event.kind, event.kind))
        lines.append(f"• {cite(event.source)}{when}, {tag}: {esc(text)}")
    return lines


def _restriction_lines(s: PairSummary, now: datetime, *, notes: bool, earlier: bool) -> list[str]:
    lines: list[str] = []
    # The active block, or else the most recent restriction, gets its full record.
    featured = s.active_block or (s.restrictions[0] if s.restrictions else None)
    if featured is not None:
        lines += ["", *_featured_restriction(featured, s, now, notes=notes)]
    for restriction in s.restrictions:
        if restriction is featured:
            continue
        if earlier or restriction.status == "active":  # a current record is never dropped
            lines += ["", _past_restriction(restriction, s)]
    return lines


def _featured_restriction(
    r: Restriction, s: PairSummary, now: datetime, *, notes: bool
) -> list[str]:
    what = _("Internet shut down") if r.service == "internet" else _(KIND_WORDS[r.kind])
    if r.status == "active":
        head = (
            "⛔ <b>"
            + _("{what} in {region} since {since}").format(
                what=what, region=region_label(s.region), since=esc(partial_date_text(r.start))
            )
            + "</b> ("
            + _("about {span} so far").format(span=span_text(months_between(r.start, now)))
            + ")"
        )
    else:
        head = (
            "📜 <b>"
            + _("{what} in {region}, {period}").format(
                what=what, region=region_label(s.region), period=esc(_period(r))
            )
            + "</b> ("
            + _("lifted")
            + ")"
        )
    lines = [
        head,
        _("By: {authority}").format(authority=esc(r.authority)),
        _("Grounds given: {grounds}").format(grounds=esc(r.grounds)),
    ]
    if r.timeline:
        lines.append(_("Record:"))
        lines += [
            f"• {short_partial_date(step.on)} — {esc(step.text)} — {cite(step.source)}"
            for step in r.timeline
        ]
    if r.note and notes:
        lines.append(_("Note: {note}").format(note=esc(r.note)))
    if r.kind == "block" and r.status == "active" and s.latest is not None:
        lines.append(
            "ℹ️ "
            + _(
                "Because {service} is blocked in {region}, reports from there come from people "
                "reaching it anyway (for example over a VPN)."
            ).format(service=named(s.service.name), region=region_label(s.region))
        )
    return lines


def _period(r: Restriction) -> str:
    period = partial_date_text(r.start)
    if r.end and r.end != r.start:
        period += f" – {partial_date_text(r.end)}"
    return period


def _past_restriction(r: Restriction, s: PairSummary) -> str:
    what = _("Internet shutdown") if r.service == "internet" else _(KIND_WORDS[r.kind])
    state = _("active") if r.status == "active" else _("lifted")
    sources = "; ".join(r.sources)
    if r.status == "active":  # the same block as another source records it: side by side
        head = _("Also on record: {what} in {region} since {since}").format(
            what=what, region=region_label(s.region), since=esc(partial_date_text(r.start))
        )
    else:
        head = _("Earlier: {what} in {region}, {period}").format(
            what=what, region=region_label(s.region), period=esc(_period(r))
        )
    return f"📜 <b>{head}</b> ({state}). {esc(r.authority)} — {cite(sources)}"


def _elsewhere_lines(figures: Sequence[RegionFigures], *, notes: bool, limit: int = 6) -> list[str]:
    lines = []
    for item in figures[:limit]:
        parts = []
        for row in sorted(item.observations, key=lambda row: -row.count)[:3]:
            note = f" ({esc(row.note)})" if row.note and notes else ""
            parts.append(f"{count_text(row)}{note}")
        lines.append(f"{flag(item.region)} {region_label(item.region)}: " + " · ".join(parts))
    return lines


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

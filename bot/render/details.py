"""What the short card keeps one tap away: what was said, the ban record, the sources.

Each view is a whole message that replaces the card in place (the card's buttons bring it
back), so each fits Telegram's limit on its own: long claims are shortened first, then the
oldest items give way to a line saying how many were left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.summaries import PairSummary, RegionFigures
from bot.render.card import (
    EVENT_TAGS,
    FOOTER_ROOM,
    KIND_WORDS,
    TELEGRAM_LIMIT,
    card_header,
    cite,
    count_text,
    esc,
    featured_restriction,
    fits,
    flag,
    named,
    region_label,
    restriction_head,
    restriction_period,
)
from bot.render.i18n import _, name, ngettext, number
from bot.render.signals import blocking_text, connectivity_text, failing_text
from bot.render.timefmt import clock_pair, local, partial_date_text, short_partial_date, zone_label
from storage.records import Event, Observation, Restriction

# A claim longer than this is shortened when the view would not fit otherwise.
SHORT_CLAIM = 110


def _fit(head: list[str], items: list[str], shorter: list[str] | None = None) -> str:
    """The view with as many items as fit; `shorter` is the same items, abridged."""
    budget = TELEGRAM_LIMIT - FOOTER_ROOM
    for body in (items, shorter or items):
        text = "\n".join([*head, *body])
        if fits(text, budget):
            return text
    body = shorter or items
    for keep in range(len(body) - 1, -1, -1):
        left = len(body) - keep
        more = ngettext("… and {n} more", "… and {n} more", left).format(n=number(left))
        text = "\n".join([*head, *body[:keep], more])
        if fits(text, budget):
            return text
    return "\n".join(head)


def _title(s: PairSummary, view: str) -> list[str]:
    return [_("{title} — {view}").format(title=card_header(s), view=view), ""]


# ---------------------------------------------------------------- what was said


def render_said(s: PairSummary) -> str:
    """Claims and untimed statements, each with who made it, side by side and never merged."""
    head = _title(s, _("what was said"))
    head.append("<i>" + _("Claims may disagree; each is given with its source.") + "</i>")
    items = _said_lines(s, shorten=False)
    if not items:
        return "\n".join([*head, _("No claims or statements on record for this period.")])
    return _fit(head, items, _said_lines(s, shorten=True))


def _said_lines(s: PairSummary, *, shorten: bool) -> list[str]:
    tz = s.region.timezone
    lines = []
    said = [e for e in s.events if e.kind == "claim" or e.precision == "day"]
    for event in sorted(said, key=lambda e: (e.kind != "claim", e.at)):
        text = event.text
        if shorten and len(text) > SHORT_CLAIM:
            text = text[: SHORT_CLAIM - 1].rstrip() + "…"
        when = (
            f" ({local(event.at, tz):%H:%M} {zone_label(event.at, tz)})"
            if event.precision == "minute"
            else ""
        )
        tag = _(EVENT_TAGS.get(event.kind, event.kind))
        lines.append(f"• {cite(event.source)}{when}, {tag}: {esc(text)}")
    return lines


# ---------------------------------------------------------------- the ban record


def render_ban_record(s: PairSummary, now: datetime) -> str:
    """The featured restriction's legal timeline in full, then every other one on record."""
    head = _title(s, _("ban record"))
    featured = featured_restriction(s)
    if featured is None:
        return "\n".join([*head, _("No blocks or shutdowns on record for this pair.")])
    head += [
        restriction_head(featured, s, now),
        _("By: {authority}").format(authority=esc(featured.authority)),
        _("Grounds given: {grounds}").format(grounds=esc(featured.grounds)),
    ]
    if featured.note:
        head.append(_("Note: {note}").format(note=esc(featured.note)))
    if featured.kind == "block" and featured.status == "active" and s.latest is not None:
        head.append(
            "ℹ️ "
            + _(
                "Because {service} is blocked in {region}, reports from there come from people "
                "reaching it anyway (for example over a VPN)."
            ).format(service=named(s.service.name), region=region_label(s.region))
        )
    items = []
    if featured.timeline:
        items.append(_("Record:"))
        items += [
            f"• {short_partial_date(step.on)} — {esc(step.text)} — {cite(step.source)}"
            for step in featured.timeline
        ]
    items += ["", *[_other_restriction(r, s) for r in s.restrictions if r is not featured]]
    return _fit(head, items if items[-1] else items[:-1])


def _other_restriction(r: Restriction, s: PairSummary) -> str:
    what = _("Internet shutdown") if r.service == "internet" else _(KIND_WORDS[r.kind])
    state = _("active") if r.status == "active" else _("lifted")
    if r.status == "active":  # the same block as another source records it: side by side
        head = _("Also on record: {what} in {region} since {since}").format(
            what=what, region=region_label(s.region), since=esc(partial_date_text(r.start))
        )
    else:
        head = _("Earlier: {what} in {region}, {period}").format(
            what=what, region=region_label(s.region), period=esc(restriction_period(r))
        )
    return f"📜 <b>{head}</b> ({state}). {esc(r.authority)} — {cite('; '.join(r.sources))}"


# ---------------------------------------------------------------- sources


def render_sources(s: PairSummary, now: datetime, *, failing_since: datetime | None = None) -> str:
    """Every source behind the card, the newest thing each gave, and whether it is failing."""
    tz = s.region.timezone
    head = _title(s, _("sources"))
    findings = s.findings
    region = name(esc(s.region.name))
    live: list[str] = []
    if findings is not None:
        if findings.connectivity is not None:
            live.append(connectivity_text(findings.connectivity, region, tz, now))
        if findings.blocking is not None:
            live.append(blocking_text(findings.blocking))
        live += [failing_text(f, now) for f in findings.failing]
    if failing_since is not None:
        live.append(
            "⚠️ "
            + _("The bot's own refresh has failed since {time}.").format(
                time=clock_pair(failing_since, tz, with_day=True)
            )
        )
    newest: dict[str, datetime] = {}
    timed: list[Observation | Event] = [*s.counts, *s.events]
    for row in timed:
        if row.precision == "minute":
            newest[row.source] = max(row.at, newest.get(row.source, row.at))
    items = []
    for source in s.sources:
        when = newest.get(source)
        line = f"• {cite(source)}"
        if when is not None:
            line += " — " + _("newest here: {time}").format(
                time=clock_pair(when, tz, with_day=True)
            )
        items.append(line)
    elsewhere = _elsewhere_lines(s.elsewhere)
    if elsewhere:
        title = _("{service} elsewhere, same period").format(service=named(s.service.name))
        items += ["", f"<b>{title}</b>", *elsewhere]
    if not items and not live:
        return "\n".join([*head, _("No source has said anything about this pair yet.")])
    return _fit([*head, *live, *([""] if live else [])], items)


def _elsewhere_lines(figures: Sequence[RegionFigures], limit: int = 6) -> list[str]:
    lines = []
    for item in figures[:limit]:
        parts = [
            count_text(row) for row in sorted(item.observations, key=lambda row: -row.count)[:3]
        ]
        lines.append(f"{flag(item.region)} {region_label(item.region)}: " + " · ".join(parts))
    return lines

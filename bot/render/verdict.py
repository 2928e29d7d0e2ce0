"""The verdict as words: one sentence with its evidence, then who says so.

    🔴 X is down worldwide (40,000 reports in United States, more than 10,800 in United Kingdom,
    136 here)
    🗣 NetBlocks via Dawn: “X was seeing international outages, not country-level …”
    ⛔ X has also been blocked in Pakistan since February 2024.

Pure: a verdict, the pair and `now` in, HTML lines out. Every name a source gave is escaped.
"""

from __future__ import annotations

import html
from datetime import datetime

from bot.core.catalog import Region, Service
from bot.core.findings import signal_label
from bot.core.verdict import Answer, Conflict, Verdict
from bot.render.i18n import N_, _, name, ngettext, number, region_name
from bot.render.telegram_html import utf16_len
from bot.render.timefmt import ago_text, clock_pair, day_text, local, partial_date_text

BADGE = {
    Answer.DOWN_WORLDWIDE: "🔴",
    Answer.DOWN_HERE: "🔴",
    Answer.INTERNET_DOWN: "🌐",
    Answer.BLOCKED: "⛔",
    Answer.UNCONFIRMED: "🟠",
    Answer.ROUTINE: "🟡",
    Answer.NORMAL: "🟢",
    Answer.NO_DATA: "⚪",
}
HEADLINES = {
    Answer.DOWN_WORLDWIDE: N_("{service} is down worldwide"),
    Answer.DOWN_HERE: N_("{service} is down in {region} only"),
    Answer.INTERNET_DOWN: N_("The internet in {region} is down, not just {service}"),
    Answer.BLOCKED: N_("{service} is blocked in {region}"),
    Answer.UNCONFIRMED: N_("Reports of {service} problems in {region} are up, not confirmed"),
    Answer.ROUTINE: N_("Reports of {service} in {region} are up, as they often are lately"),
    Answer.NORMAL: N_("{service} looks normal in {region}"),
    Answer.NO_DATA: N_("Not enough recent data on {service} in {region}"),
}
QUESTIONS = {
    "blocked": N_("whether {service} is blocked here"),
    "internet": N_("whether the internet here is down"),
    "outage": N_("whether {service} is down"),
}
# A monitor's statement can be long; the verdict quotes its start, the timeline has it whole.
STATEMENT_CHARS = 120


def _named(text: str) -> str:
    return name(html.escape(text, quote=False))


def _region(region: Region) -> str:
    return _named(region_name(region.code, region.name))


def render_verdict(verdict: Verdict, service: Service, region: Region, now: datetime) -> list[str]:
    """The verdict's lines: the answer with its evidence, a monitor's word, the block, conflicts."""
    names = {"service": _named(service.name), "region": _region(region)}
    head = f"{BADGE[verdict.answer]} <b>" + _(HEADLINES[verdict.answer]).format(**names) + "</b>"
    evidence = _evidence(verdict, region, now)
    lines = [f"{head} ({evidence})" if evidence else head]
    if verdict.statement is not None:
        said = verdict.statement.text
        if len(said) > STATEMENT_CHARS:
            said = said[: STATEMENT_CHARS - 1].rstrip() + "…"
        lines.append(f"🗣 {_named(verdict.statement.source)}: “{html.escape(said, quote=False)}”")
    if verdict.block is not None and verdict.answer != Answer.BLOCKED:
        lines.append(
            "⛔ "
            + _("{service} has also been blocked in {region} since {since}.").format(
                since=html.escape(partial_date_text(verdict.block.start), quote=False), **names
            )
        )
    elif verdict.blocked and verdict.answer != Answer.BLOCKED and verdict.blocking is not None:
        lines.append(
            "🔒 "
            + _("{source} also measures {domain} as blocked in {region}.").format(
                source=_named(verdict.blocking.source),
                domain=_named(verdict.blocking.domain),
                **names,
            )
        )
    lines += [conflict_text(c, service) for c in verdict.conflicts]
    return lines


def conflict_text(conflict: Conflict, service: Service) -> str:
    question = _(QUESTIONS[conflict.question]).format(service=_named(service.name))
    return "⚖️ " + _("Sources disagree on {question}: {yes} says yes, {no} says no.").format(
        question=question, yes=_named(conflict.says_yes), no=_named(conflict.says_no)
    )


def _count(value: int, qualifier: str) -> str:
    text = number(value)
    if qualifier == "at_least":
        return _("more than {number}").format(number=text)
    if qualifier == "about":
        return _("about {number}").format(number=text)
    return text


def _evidence(verdict: Verdict, region: Region, now: datetime) -> str:
    answer = verdict.answer
    if answer in (Answer.DOWN_WORLDWIDE, Answer.DOWN_HERE, Answer.UNCONFIRMED):
        parts = []
        for figures in verdict.elsewhere:
            peak = figures.peak
            parts.append(
                ngettext(
                    "{count} report in {region}", "{count} reports in {region}", peak.count
                ).format(count=_count(peak.count, peak.qualifier), region=_region(figures.region))
            )
        here = verdict.here
        if here is not None:
            parts.append(
                ngettext("{count} here", "{count} here", here.count).format(
                    count=_count(here.count, here.qualifier)
                )
                + " — "
                + f"<i>{_named(here.source)}</i>"
            )
        if answer == Answer.DOWN_HERE:
            parts.append(_("no other country or status page reports it"))
        if answer == Answer.UNCONFIRMED:
            parts.append(_("below the outage level, and no second source yet"))
        return "; ".join(parts)
    if answer == Answer.INTERNET_DOWN:
        parts = []
        if verdict.connectivity is not None and not verdict.connectivity.normal:
            c = verdict.connectivity
            signal = _(signal_label(c.signal).short)
            parts.append(
                _("{source}: {signal} {pct}% below normal").format(
                    source=_named(c.source), signal=signal, pct=number(c.drop_pct)
                )
            )
        if verdict.shutdown is not None:
            parts.append(
                _("shutdown on record since {since} — {source}").format(
                    since=html.escape(partial_date_text(verdict.shutdown.start), quote=False),
                    source=f"<i>{_named('; '.join(verdict.shutdown.sources))}</i>",
                )
            )
        return "; ".join(parts)
    if answer == Answer.BLOCKED:
        parts = []
        if verdict.block is not None:
            parts.append(
                _("since {since} — {source}").format(
                    since=html.escape(partial_date_text(verdict.block.start), quote=False),
                    source=f"<i>{_named('; '.join(verdict.block.sources))}</i>",
                )
            )
        if verdict.blocking is not None and verdict.blocked:
            b = verdict.blocking
            parts.append(
                _("{source}: {domain} anomalous in {pct}% of measurements").format(
                    source=_named(b.source), domain=_named(b.domain), pct=number(b.anomaly_pct)
                )
            )
        parts.append(_("no outage detected otherwise"))
        return "; ".join(parts)
    if answer in (Answer.NORMAL, Answer.ROUTINE) and verdict.here is not None:
        here = verdict.here
        return _("{count} at {time} — {source}").format(
            count=ngettext("{count} report", "{count} reports", here.count).format(
                count=_count(here.count, here.qualifier)
            ),
            time=clock_pair(here.at, region.timezone),
            source=f"<i>{_named(here.source)}</i>",
        )
    if answer == Answer.NO_DATA:
        latest = verdict.latest
        if latest is None:
            return _("no reports on record")
        return _("the newest report is from {day}, {ago}").format(
            day=day_text(local(latest.at, region.timezone).date()), ago=ago_text(now - latest.at)
        )
    return ""


def verdict_headline(verdict: Verdict, service: Service, region: Region) -> str:
    """The answer alone, for an alert or a channel post that carries its own numbers."""
    names = {"service": _named(service.name), "region": _region(region)}
    return f"{BADGE[verdict.answer]} <b>" + _(HEADLINES[verdict.answer]).format(**names) + "</b>"


def verdict_lead(verdict: Verdict, service: Service, region: Region) -> list[str]:
    """What heads an alert or a channel post: the answer, and any disagreement said as such."""
    return [
        verdict_headline(verdict, service, region),
        *(conflict_text(c, service) for c in verdict.conflicts),
    ]


def verdict_width(lines: list[str]) -> int:
    return sum(utf16_len(line) + 1 for line in lines)

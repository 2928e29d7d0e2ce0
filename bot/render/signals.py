"""The /status card's lines from outside sources: internet down, service blocked, or neither.

A pure function of the findings (bot.sources.evidence reads them), the region's time zone and
`now`. Every name a source gave is escaped.

    lines = render_source_lines(findings, "Asia/Karachi", now)
    # 🌐 Internet in Pakistan looks normal (IODA, BGP, 10 min ago)
    # 🔒 OONI: twitter.com anomalous in 87% of 1,234 measurements, last 7 days
    # ⚠️ Discord status page data stale: last success 3 h ago (HTTP 500)
    # (or, with more than one failing) ⚠️ 4 sources failing since 10:00 UTC: IODA, OONI, …
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from bot.core.findings import (
    BLOCKED_PCT,
    Blocking,
    Connectivity,
    FailingSource,
    SourceFindings,
    signal_label,
)
from bot.render.i18n import _, name, ngettext, number, region_name
from bot.render.timefmt import ago_text, clock_pair, local


def _named(text: str) -> str:
    return name(html.escape(text, quote=False))


def _window(days: int) -> str:
    return ngettext("last {n} day", "last {n} days", days).format(n=days)


def _when(at: datetime, zone_name: str, now: datetime) -> str:
    same_day = local(at, zone_name).date() == local(now, zone_name).date()
    return clock_pair(at, zone_name, with_day=not same_day)


def connectivity_text(c: Connectivity, region: str, zone_name: str, now: datetime) -> str:
    signal = signal_label(c.signal)
    source = _named(c.source)
    ago = ago_text(now - c.at)
    if c.normal:
        return "🌐 " + _("Internet in {region} looks normal ({source}, {signal}, {ago})").format(
            region=region, source=source, signal=_(signal.short), ago=ago
        )
    since = " " + _("since {time}").format(time=_when(c.since, zone_name, now)) if c.since else ""
    if c.drop_pct >= 1:
        what = _("{signal} {pct}% below normal").format(
            signal=_(signal.phrase), pct=number(c.drop_pct)
        )
    else:
        what = _("an outage signal in {signal}").format(signal=_(signal.phrase))
    return "🌐 " + _("Internet in {region}: {what}{since} ({source}, {ago})").format(
        region=region, what=what, since=since, source=source, ago=ago
    )


def blocking_text(b: Blocking) -> str:
    values = {
        "source": _named(b.source),
        "domain": _named(b.domain),
        "pct": number(b.anomaly_pct),
        "count": number(b.measurements),
        "window": _window(b.window_days),
    }
    if not b.enough:
        return "🔍 " + _(
            "{source}: too few measurements of {domain} to tell ({count}, {window})"
        ).format(**values)
    if b.anomaly_pct >= BLOCKED_PCT:
        return "🔒 " + _(
            "{source}: {domain} anomalous in {pct}% of {count} measurements, {window}"
        ).format(**values)
    return "🔓 " + _(
        "{source}: {domain} reachable, anomalous in only {pct}% of {count} measurements, {window}"
    ).format(**values)


def failing_text(f: FailingSource, now: datetime) -> str:
    source = _named(f.source)
    error = _named(f.error or _("unknown error"))
    if f.last_success is None:
        return "⚠️ " + _("{source} has not answered yet ({error})").format(
            source=source, error=error
        )
    return "⚠️ " + _("{source} data stale: last success {ago} ({error})").format(
        source=source, ago=ago_text(now - f.last_success), error=error
    )


def render_source_lines(findings: SourceFindings, region_tz: str, now: datetime) -> list[str]:
    """HTML lines for the card, in this order: connectivity, blocking, failing sources.

    Empty when no source covers the pair, so a bot without a sources file shows nothing new.
    """
    region = _named(region_name(findings.region, findings.region_name))
    lines = []
    if findings.connectivity is not None:
        lines.append(connectivity_text(findings.connectivity, region, region_tz, now))
    if findings.blocking is not None:
        lines.append(blocking_text(findings.blocking))
    lines += failing_lines(findings.failing, region_tz, now)
    return lines


def failing_lines(failing: Sequence[FailingSource], zone_name: str, now: datetime) -> list[str]:
    """One source failing is told in full; more fold into one line, so that when the host
    loses its network the card still has room for its verdict, numbers and ban line (the
    Sources view tells each in full)."""
    if len(failing) <= 1:
        return [failing_text(f, now) for f in failing]
    names = ", ".join(_named(f.source) for f in failing)
    since = min((f.since for f in failing if f.since is not None), default=None)
    if since is None:
        return [
            "⚠️ "
            + ngettext(
                "{n} source failing: {names}", "{n} sources failing: {names}", len(failing)
            ).format(n=number(len(failing)), names=names)
        ]
    return [
        "⚠️ "
        + ngettext(
            "{n} source failing since {time}: {names}",
            "{n} sources failing since {time}: {names}",
            len(failing),
        ).format(n=number(len(failing)), time=_when(since, zone_name, now), names=names)
    ]

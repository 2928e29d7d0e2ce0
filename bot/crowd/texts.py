"""What /report says back: one place for the feature's text, so it can be translated.

Pure: the outcome, the names and `now` come in, HTML comes out.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.core.catalog import Region, Service
from bot.render.card import named, region_label
from bot.render.i18n import N_, _, name, ngettext, number
from bot.render.texts import echo
from bot.render.timefmt import clock_pair
from storage.crowd import ReportOutcome

REPORT_USAGE = N_(
    "Tell me what is down and where, for example:\n"
    "/report X Pakistan app\n"
    '/report youtube "united kingdom" website\n'
    "Problems: app, website, login, feed, messages, or other (the default)."
)

REPORTS_NEED_A_PERSON = N_(
    "I can only count reports from a person: please send /report from your own account, "
    "not as a channel or an anonymous group admin."
)

# How each problem reads after "Counted: X in Pakistan, …".
_PROBLEM_PHRASES = {
    "app": N_("app problems"),
    "website": N_("website problems"),
    "login": N_("login problems"),
    "feed": N_("feed problems"),
    "messages": N_("problems with messages"),
    "other": N_("other problems"),
}


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def unknown_problem_text(word: str, problems: Iterable[str]) -> str:
    # The problem words stay as typed in any language: they are what /report understands.
    choices = ", ".join(f"<b>{name(_escape(problem))}</b>" for problem in problems)
    return (
        _("I don't know the problem “{word}”.").format(word=echo(word))
        + "\n"
        + _("Choose one of: {choices}.").format(choices=choices)
        + "\n"
        + _("Example: /report X Pakistan app")
    )


def _people(count: int) -> str:
    return ngettext("{n} person", "{n} people", count).format(n=number(count))


def _minutes(span: timedelta) -> str:
    minutes = max(1, math.ceil(span.total_seconds() / 60))
    return ngettext("{n} minute", "{n} minutes", minutes).format(n=number(minutes))


def status_hint(service: Service, region: Region) -> str:
    return f"/status {service.key} {region.code.lower()}"


def render_report_outcome(
    outcome: ReportOutcome,
    service: Service,
    region: Region,
    problem: str,
    *,
    bucket_minutes: int,
    now: datetime,
) -> str:
    """The reply to a /report: counted, already counted, or over the hourly limit."""
    pair = (
        "<b>"
        + _("{service} in {region}").format(
            service=named(service.name), region=region_label(region)
        )
        + "</b>"
    )
    minutes = number(bucket_minutes)
    hint = _("See what others report: {command}").format(command=status_hint(service, region))
    if outcome.kind == "counted":
        return (
            _("Thanks for reporting!")
            + "\n"
            + _("Counted: {pair}, {problem}.").format(
                pair=pair, problem=_(_PROBLEM_PHRASES[problem])
            )
            + " "
            + _("{people} reported in this {minutes}-minute period.").format(
                people=_people(outcome.count), minutes=minutes
            )
            + f"\n{hint}"
        )
    if outcome.kind == "duplicate":
        period_end = outcome.bucket_at + timedelta(minutes=bucket_minutes)
        return (
            _(
                "Thanks — your report of {pair} is already counted for this {minutes}-minute "
                "period; each person counts once per period."
            ).format(pair=pair, minutes=minutes)
            + " "
            + _("If it is still down after {time}, report again.").format(
                time=clock_pair(period_end, region.timezone)
            )
            + "\n"
            + _("{people} reported in this {minutes}-minute period so far.").format(
                people=_people(outcome.count), minutes=minutes
            )
            + f"\n{hint}"
        )
    assert outcome.retry_at is not None
    return (
        _(
            "Thanks for keeping watch! You have reached the most reports I count from one person "
            "in an hour, so this one was not recorded."
        )
        + "\n"
        + _("You can report again in {minutes}, at {time}.").format(
            minutes=_minutes(outcome.retry_at - now),
            time=clock_pair(outcome.retry_at, region.timezone),
        )
        + f"\n{hint}"
    )

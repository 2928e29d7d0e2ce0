"""What /report says back: one place for the feature's text, so it can be translated later.

Pure: the outcome, the names and `now` come in, HTML comes out.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.catalog import Region, Service
from bot.timefmt import clock_pair
from storage.crowd import ReportOutcome

REPORT_USAGE = (
    "Tell me what is down and where, for example:\n"
    "/report X Pakistan app\n"
    '/report youtube "united kingdom" website\n'
    "Problems: app, website, login, feed, messages, or other (the default)."
)

REPORTS_NEED_A_PERSON = (
    "I can only count reports from a person: please send /report from your own account, "
    "not as a channel or an anonymous group admin."
)

# How each problem reads after "Counted: X in Pakistan, …".
_PROBLEM_PHRASES = {
    "app": "app problems",
    "website": "website problems",
    "login": "login problems",
    "feed": "feed problems",
    "messages": "problems with messages",
    "other": "other problems",
}


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def unknown_problem_text(word: str, problems: Iterable[str]) -> str:
    choices = ", ".join(f"<b>{_escape(problem)}</b>" for problem in problems)
    return (
        f"I don't know the problem “{_escape(word)}”.\n"
        f"Choose one of: {choices}.\n"
        "Example: /report X Pakistan app"
    )


def _people(count: int) -> str:
    return "1 person" if count == 1 else f"{count:,} people"


def _minutes(span: timedelta) -> str:
    minutes = max(1, math.ceil(span.total_seconds() / 60))
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


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
    pair = f"{_escape(service.name)} in {_escape(region.name)}"
    period = f"{bucket_minutes}-minute period"
    hint = f"See what others report: {status_hint(service, region)}"
    if outcome.kind == "counted":
        return (
            "Thanks for reporting!\n"
            f"Counted: <b>{pair}</b>, {_PROBLEM_PHRASES[problem]}. "
            f"{_people(outcome.count)} reported in this {period}.\n"
            f"{hint}"
        )
    if outcome.kind == "duplicate":
        period_end = outcome.bucket_at + timedelta(minutes=bucket_minutes)
        return (
            f"Thanks — your report of <b>{pair}</b> is already counted for this {period}; "
            "each person counts once per period. "
            f"If it is still down after {clock_pair(period_end, region.timezone)}, "
            "report again.\n"
            f"{_people(outcome.count)} reported in this {period} so far.\n"
            f"{hint}"
        )
    assert outcome.retry_at is not None
    return (
        "Thanks for keeping watch! You have reached the most reports I count from one person "
        "in an hour, so this one was not recorded.\n"
        f"You can report again in {_minutes(outcome.retry_at - now)}, "
        f"at {clock_pair(outcome.retry_at, region.timezone)}.\n"
        f"{hint}"
    )

"""What /subscribe, /unsubscribe, /subscriptions and /quiet say: one place for the feature's text,
so it can be translated later.

Pure: topics, subscriptions, settings and `now` come in, HTML (or plain button labels) comes out.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from bot.timefmt import local, zone, zone_label
from storage.subscriptions import ChatSettings, SubscribeOutcome, Subscription

if TYPE_CHECKING:
    from bot.subscriptions import Topic

SUBSCRIBE_USAGE = (
    "Tell me what to watch, for example:\n"
    "/subscribe X Pakistan — X in Pakistan\n"
    "/subscribe x — X in every country\n"
    "/subscribe pakistan — every service in Pakistan\n"
    "Alerts come from elevated up; add <b>outage</b> to hear only about outages: "
    "/subscribe X Pakistan outage"
)

UNSUBSCRIBE_USAGE = (
    "Send /unsubscribe alone to pick from this chat's subscriptions, or name one:\n"
    "/unsubscribe X Pakistan · /unsubscribe x · /unsubscribe pakistan\n"
    "/unsubscribe all — stop every alert for this chat"
)

QUIET_USAGE = (
    "Set hours when alerts arrive without sound, for example:\n"
    "/quiet 22:00-07:00 — on this chat's clock (the zone of its first country, or UTC)\n"
    "/quiet 22:00-07:00 pakistan — on Pakistan's clock\n"
    "/quiet 23:30-06:00 Europe/London — in an IANA time zone\n"
    "/quiet off — alerts with sound at any hour"
)

ADMINS_ONLY = (
    "Only this group's admins can change its alerts, so nothing changed. Anyone can see them "
    "with /subscriptions; for alerts of your own, message me privately."
)
# A button press is answered in a toast of at most 200 characters.
ADMINS_ONLY_SHORT = "Only this group's admins can change its alerts."

STALE_BUTTON = "This button no longer matches a list. Send /unsubscribe for a fresh one."
ALREADY_GONE = "That subscription was already removed."
PICK_ONE = "Tap a subscription to stop it:"
ALL_BUTTON = "Unsubscribe from all"

_LEVEL_PHRASES = {"elevated": "elevated or outage", "outage": "outage"}
_LEVEL_NOTES = {"elevated": "elevated or outage", "outage": "outages only"}


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def level_phrase(level: str) -> str:
    return _LEVEL_PHRASES.get(level, level)


# ---------------------------------------------------------------- naming what is watched


def _region_part(topic: Topic) -> str:
    if topic.region is None:
        return "anywhere"
    if topic.region.code == "global":
        return "worldwide"
    return f"in {topic.region.name}"


def topic_name(topic: Topic) -> str:
    """`X in Pakistan`, `X anywhere`, `any service in Pakistan`, `any service anywhere`: plain
    text, for buttons; escape it for HTML."""
    subject = topic.service.name if topic.service else "any service"
    return f"{subject} {_region_part(topic)}"


def subscription_name(subscription: Subscription, topic: Topic | None) -> str:
    """A stored subscription's name; its raw keys when the catalogue no longer knows them."""
    if topic is not None:
        return topic_name(topic)
    return f"{subscription.service} in {subscription.region}"


def _when_clause(topic: Topic, level: str) -> str:
    """`X in Pakistan reaches elevated or outage`, `X reaches outage anywhere`."""
    subject = f"<b>{_escape(topic.service.name)}</b>" if topic.service else "any service"
    where = _region_part(topic)
    if topic.region is None:
        return f"{subject} reaches {level_phrase(level)} <b>{where}</b>"
    return f"{subject} <b>{_escape(where)}</b> reaches {level_phrase(level)}"


# ---------------------------------------------------------------- replies


def render_subscribed(outcome: SubscribeOutcome, topic: Topic, level: str, *, limit: int) -> str:
    """The reply to a /subscribe: added, level changed, already there, or the chat is full."""
    when = _when_clause(topic, level)
    after = "See this chat's alerts: /subscriptions · stop one: /unsubscribe"
    if outcome.kind == "added":
        return f"You'll get alerts when {when}.\n{after}"
    if outcome.kind == "updated":
        before = level_phrase(outcome.previous or "")
        return f"Updated: you'll now get alerts when {when} (before: {before}).\n{after}"
    if outcome.kind == "unchanged":
        return f"Already subscribed: you get alerts when {when}.\n{after}"
    return full_text(limit)


def full_text(limit: int) -> str:
    return (
        f"This chat already has {limit} subscriptions, the most I keep for one chat. "
        "Remove some with /unsubscribe, or watch a whole service (/subscribe x) or a whole "
        "country (/subscribe pakistan) instead."
    )


def _line(subscription: Subscription, topic: Topic | None) -> str:
    name = _escape(subscription_name(subscription, topic))
    note = _LEVEL_NOTES.get(subscription.min_level, subscription.min_level)
    return f"• <b>{name}</b> — {_escape(note)}"


def _lines(entries: Sequence[tuple[Subscription, Topic | None]]) -> list[str]:
    return [_line(subscription, topic) for subscription, topic in entries]


HOW_TO_SUBSCRIBE = (
    "To get alerts when something goes down:\n"
    "/subscribe X Pakistan — X in Pakistan\n"
    "/subscribe x — X in every country\n"
    "/subscribe pakistan — every service in Pakistan\n"
    "Add <b>outage</b> at the end to hear only about outages."
)


def render_subscriptions(
    entries: Sequence[tuple[Subscription, Topic | None]],
    settings: ChatSettings | None,
    *,
    now: datetime,
) -> str:
    """/subscriptions: the chat's list and quiet hours, or how to start when there is none."""
    if not entries:
        return f"This chat has no subscriptions.\n\n{HOW_TO_SUBSCRIBE}"
    count = len(entries)
    lines = [f"<b>Alerts for this chat</b> ({count} subscription{'s' if count != 1 else ''})"]
    lines += _lines(entries)
    lines.append("")
    if settings is not None and settings.quiet_start and settings.quiet_end:
        hours = quiet_hours_text(settings.quiet_start, settings.quiet_end, settings.timezone, now)
        lines.append(f"Quiet hours: {hours}; alerts then arrive without sound.")
    else:
        lines.append("No quiet hours: alerts arrive with sound at any hour.")
    lines.append("Add: /subscribe · remove: /unsubscribe · quiet hours: /quiet")
    return "\n".join(lines)


def render_unsubscribe_list(
    entries: Sequence[tuple[Subscription, Topic | None]], *, removed: str | None = None
) -> tuple[str, list[tuple[str, str]]]:
    """The /unsubscribe picker: text and (label, callback data) buttons, one per subscription
    and one for all; after a press, `removed` names what went."""
    head = f"Stopped: <b>{_escape(removed)}</b>.\n\n" if removed else ""
    if not entries:
        return f"{head}No subscriptions left.\n\n{HOW_TO_SUBSCRIBE}", []
    text = "\n".join([f"{head}{PICK_ONE}", *_lines(entries)])
    buttons = [
        (f"✖ {subscription_name(subscription, topic)}", unsubscribe_data(subscription.id))
        for subscription, topic in entries
    ]
    buttons.append((ALL_BUTTON, unsubscribe_data(None)))
    return text, buttons


def render_unsubscribed(name: str, remaining: int) -> str:
    left = "" if remaining else "\nNo subscriptions left."
    return f"Stopped: <b>{_escape(name)}</b>.{left}"


def render_not_subscribed(
    topic: Topic, entries: Sequence[tuple[Subscription, Topic | None]]
) -> str:
    text = f"This chat has no subscription to <b>{_escape(topic_name(topic))}</b>."
    if not entries:
        return f"{text}\n\n{HOW_TO_SUBSCRIBE}"
    return "\n".join(
        [text, "Its subscriptions:", *_lines(entries), "", "Send /unsubscribe to pick one."]
    )


def render_unsubscribed_all(count: int) -> str:
    if count == 0:
        return f"This chat has no subscriptions.\n\n{HOW_TO_SUBSCRIBE}"
    things = "1 subscription" if count == 1 else f"all {count} subscriptions"
    return f"Stopped {things}. /subscribe X Pakistan to start again."


def nothing_to_unsubscribe() -> str:
    return f"This chat has no subscriptions, so there is nothing to stop.\n\n{HOW_TO_SUBSCRIBE}"


# ---------------------------------------------------------------- callback data


UNSUBSCRIBE_PREFIX = "unsub"


def unsubscribe_data(subscription_id: int | None) -> str:
    """`unsub|42` or `unsub|all`: well under Telegram's 64 bytes whatever the id."""
    return f"{UNSUBSCRIBE_PREFIX}|{'all' if subscription_id is None else subscription_id}"


# ---------------------------------------------------------------- quiet hours


def _utc_clock(clock: str, zone_name: str, now: datetime) -> str:
    """The UTC time a local HH:MM has on today's date there (offsets move with DST)."""
    today = local(now, zone_name).date()
    at = datetime.combine(today, time.fromisoformat(clock), zone(zone_name))
    return at.astimezone(UTC).strftime("%H:%M")


def quiet_hours_text(start: str, end: str, zone_name: str | None, now: datetime) -> str:
    """`22:00–07:00 PKT (Asia/Karachi), that is 17:00–02:00 UTC`, or `22:00–07:00 UTC`."""
    zone_name = zone_name or "UTC"
    span = f"{start}–{end}"
    if zone_name in ("UTC", "Etc/UTC"):
        return f"{span} UTC"
    label = zone_label(now, zone_name)
    shown = label if label == zone_name else f"{label} ({zone_name})"
    utc = f"{_utc_clock(start, zone_name, now)}–{_utc_clock(end, zone_name, now)}"
    return f"{span} {_escape(shown)}, that is {utc} UTC"


def render_quiet_set(start: str, end: str, zone_name: str, now: datetime, quiet_now: bool) -> str:
    state = "It is quiet time there now." if quiet_now else "It is not quiet time there now."
    return (
        f"Quiet hours set: {quiet_hours_text(start, end, zone_name, now)}. Alerts in those hours "
        f"arrive without sound. {state}\n"
        "Turn them off with /quiet off."
    )


def render_quiet_off(had_quiet_hours: bool) -> str:
    if not had_quiet_hours:
        return "This chat has no quiet hours: alerts already arrive with sound at any hour."
    return "Quiet hours are off: alerts arrive with sound at any hour."


def render_quiet_current(settings: ChatSettings | None, now: datetime) -> str:
    if settings is None or not settings.quiet_start or not settings.quiet_end:
        return f"This chat has no quiet hours.\n\n{QUIET_USAGE}"
    hours = quiet_hours_text(settings.quiet_start, settings.quiet_end, settings.timezone, now)
    return f"Quiet hours: {hours}; alerts then arrive without sound.\n\n{QUIET_USAGE}"


def not_a_time_text(word: str) -> str:
    return (
        f"“{_escape(word)}” is not a time of day; write it as HH:MM, from 00:00 to 23:59.\n\n"
        f"{QUIET_USAGE}"
    )


def equal_quiet_times_text(clock: str) -> str:
    return (
        f"Quiet hours need a start and an end that differ, not {clock} to {clock}.\n\n{QUIET_USAGE}"
    )


def unknown_zone_text(text: str, suggestions: Sequence[str]) -> str:
    reply = f"I don't know the time zone “{_escape(text)}”."
    if suggestions:
        names = ", ".join(f"<b>{_escape(name)}</b>" for name in suggestions)
        reply += f"\nDid you mean: {names}?"
    return (
        f"{reply}\nUse a country (/quiet 22:00-07:00 pakistan) or an IANA name "
        "such as Asia/Karachi or Europe/London."
    )

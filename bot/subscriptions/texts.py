"""What /subscribe, /unsubscribe, /subscriptions and /quiet say: one place for the feature's text,
so it can be translated.

Pure: topics, subscriptions, settings and `now` come in, HTML (or plain button labels) comes out.
Module-level texts are marked with `N_` and translated where they are used.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING

from bot.render.i18n import N_, _, name, ngettext, number, region_name
from bot.render.texts import echo
from bot.render.timefmt import local, zone, zone_label
from storage.subscriptions import ChatSettings, SubscribeOutcome, Subscription

if TYPE_CHECKING:
    from bot.core.catalog import Region
    from bot.subscriptions.topics import Topic

SUBSCRIBE_USAGE = N_(
    "Tell me what to watch, for example:\n"
    "/subscribe X Pakistan — X in Pakistan\n"
    "/subscribe x — X in every country\n"
    "/subscribe pakistan — every service in Pakistan\n"
    "Alerts come from elevated up; add <b>outage</b> to hear only about outages: "
    "/subscribe X Pakistan outage"
)

UNSUBSCRIBE_USAGE = N_(
    "Send /unsubscribe alone to pick from this chat's subscriptions, or name one:\n"
    "/unsubscribe X Pakistan · /unsubscribe x · /unsubscribe pakistan\n"
    "/unsubscribe all — stop every alert for this chat"
)

QUIET_USAGE = N_(
    "Set hours when alerts arrive without sound, for example:\n"
    "/quiet 22:00-07:00 — on this chat's clock (the zone of its first country, or UTC)\n"
    "/quiet 22:00-07:00 pakistan — on Pakistan's clock\n"
    "/quiet 23:30-06:00 Europe/London — in an IANA time zone\n"
    "/quiet off — alerts with sound at any hour"
)

ADMINS_ONLY = N_(
    "Only this group's admins can change its alerts, so nothing changed. Anyone can see them "
    "with /subscriptions; for alerts of your own, message me privately."
)
# A button press is answered in a toast of at most 200 characters.
ADMINS_ONLY_SHORT = N_("Only this group's admins can change its alerts.")

STALE_BUTTON = N_("This button no longer matches a list. Send /unsubscribe for a fresh one.")
ALREADY_GONE = N_("That subscription was already removed.")
PICK_ONE = N_("Tap a subscription to stop it:")
ALL_BUTTON = N_("Unsubscribe from all")

_LEVEL_PHRASES = {"elevated": N_("elevated or outage"), "outage": N_("outage")}
_LEVEL_NOTES = {"elevated": N_("elevated or outage"), "outage": N_("outages only")}


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def level_phrase(level: str) -> str:
    return _(_LEVEL_PHRASES[level]) if level in _LEVEL_PHRASES else level


# ---------------------------------------------------------------- naming what is watched


def _region(region: Region) -> str:
    return name(region_name(region.code, region.name))


def topic_name(topic: Topic) -> str:
    """`X in Pakistan`, `X anywhere`, `any service in Pakistan`, `any service anywhere`: plain
    text, for buttons; escape it for HTML."""
    region = topic.region
    if topic.service is None:
        if region is None:
            return _("any service anywhere")
        if region.code == "global":
            return _("any service worldwide")
        return _("any service in {region}").format(region=_region(region))
    service = name(topic.service.name)
    if region is None:
        return _("{service} anywhere").format(service=service)
    if region.code == "global":
        return _("{service} worldwide").format(service=service)
    return _("{service} in {region}").format(service=service, region=_region(region))


def subscription_name(subscription: Subscription, topic: Topic | None) -> str:
    """A stored subscription's name; its raw keys when the catalogue no longer knows them."""
    if topic is not None:
        return topic_name(topic)
    return _("{service} in {region}").format(
        service=name(subscription.service), region=name(subscription.region)
    )


def all_subscriptions_name(count: int) -> str:
    """`1 subscription`, `all 3 subscriptions`: plain text, for a button's toast."""
    return ngettext("{n} subscription", "all {n} subscriptions", count).format(n=number(count))


def _when_clause(topic: Topic, level: str) -> str:
    """`X in Pakistan reaches elevated or outage`, `X reaches outage anywhere`."""
    region, phrase = topic.region, level_phrase(level)
    if topic.service is None:
        if region is None:
            return _("any service reaches {level} <b>anywhere</b>").format(level=phrase)
        if region.code == "global":
            return _("any service <b>worldwide</b> reaches {level}").format(level=phrase)
        return _("any service <b>in {region}</b> reaches {level}").format(
            region=_escape(_region(region)), level=phrase
        )
    service = f"<b>{name(_escape(topic.service.name))}</b>"
    if region is None:
        return _("{service} reaches {level} <b>anywhere</b>").format(service=service, level=phrase)
    if region.code == "global":
        return _("{service} <b>worldwide</b> reaches {level}").format(service=service, level=phrase)
    return _("{service} <b>in {region}</b> reaches {level}").format(
        service=service, region=_escape(_region(region)), level=phrase
    )


# ---------------------------------------------------------------- replies


def render_subscribed(outcome: SubscribeOutcome, topic: Topic, level: str, *, limit: int) -> str:
    """The reply to a /subscribe: added, level changed, already there, or the chat is full."""
    when = _when_clause(topic, level)
    after = _("See this chat's alerts: /subscriptions · stop one: /unsubscribe")
    if outcome.kind == "added":
        return _("You'll get alerts when {when}.").format(when=when) + f"\n{after}"
    if outcome.kind == "updated":
        before = level_phrase(outcome.previous or "")
        return (
            _("Updated: you'll now get alerts when {when} (before: {before}).").format(
                when=when, before=before
            )
            + f"\n{after}"
        )
    if outcome.kind == "unchanged":
        return _("Already subscribed: you get alerts when {when}.").format(when=when) + f"\n{after}"
    return full_text(limit)


def full_text(limit: int) -> str:
    return _(
        "This chat already has {limit} subscriptions, the most I keep for one chat. "
        "Remove some with /unsubscribe, or watch a whole service (/subscribe x) or a whole "
        "country (/subscribe pakistan) instead."
    ).format(limit=number(limit))


def _line(subscription: Subscription, topic: Topic | None) -> str:
    label = _escape(subscription_name(subscription, topic))
    level = subscription.min_level
    note = _(_LEVEL_NOTES[level]) if level in _LEVEL_NOTES else level
    return f"• <b>{label}</b> — {_escape(note)}"


def _lines(entries: Sequence[tuple[Subscription, Topic | None]]) -> list[str]:
    return [_line(subscription, topic) for subscription, topic in entries]


HOW_TO_SUBSCRIBE = N_(
    "To get alerts when something goes down:\n"
    "/subscribe X Pakistan — X in Pakistan\n"
    "/subscribe x — X in every country\n"
    "/subscribe pakistan — every service in Pakistan\n"
    "Add <b>outage</b> at the end to hear only about outages."
)


def _no_subscriptions() -> str:
    return _("This chat has no subscriptions.") + "\n\n" + _(HOW_TO_SUBSCRIBE)


def _quiet_hours_line(hours: str) -> str:
    return _("Quiet hours: {hours}; alerts then arrive without sound.").format(hours=hours)


def render_subscriptions(
    entries: Sequence[tuple[Subscription, Topic | None]],
    settings: ChatSettings | None,
    *,
    now: datetime,
) -> str:
    """/subscriptions: the chat's list and quiet hours, or how to start when there is none."""
    if not entries:
        return _no_subscriptions()
    count = len(entries)
    how_many = ngettext("{n} subscription", "{n} subscriptions", count).format(n=number(count))
    lines = ["<b>" + _("Alerts for this chat") + f"</b> ({how_many})"]
    lines += _lines(entries)
    lines.append("")
    if settings is not None and settings.quiet_start and settings.quiet_end:
        hours = quiet_hours_text(settings.quiet_start, settings.quiet_end, settings.timezone, now)
        lines.append(_quiet_hours_line(hours))
    else:
        lines.append(_("No quiet hours: alerts arrive with sound at any hour."))
    lines.append(_("Add: /subscribe · remove: /unsubscribe · quiet hours: /quiet"))
    return "\n".join(lines)


def _stopped(removed: str) -> str:
    return _("Stopped: {name}.").format(name=f"<b>{_escape(removed)}</b>")


def render_unsubscribe_list(
    entries: Sequence[tuple[Subscription, Topic | None]], *, removed: str | None = None
) -> tuple[str, list[tuple[str, str]]]:
    """The /unsubscribe picker: text and (label, callback data) buttons, one per subscription
    and one for all; after a press, `removed` names what went."""
    head = _stopped(removed) + "\n\n" if removed else ""
    if not entries:
        return head + _("No subscriptions left.") + "\n\n" + _(HOW_TO_SUBSCRIBE), []
    text = "\n".join([head + _(PICK_ONE), *_lines(entries)])
    buttons = [
        (f"✖ {subscription_name(subscription, topic)}", unsubscribe_data(subscription.id))
        for subscription, topic in entries
    ]
    buttons.append((_(ALL_BUTTON), unsubscribe_data(None)))
    return text, buttons


def render_unsubscribed(removed: str, remaining: int) -> str:
    left = "" if remaining else "\n" + _("No subscriptions left.")
    return _stopped(removed) + left


def render_not_subscribed(
    topic: Topic, entries: Sequence[tuple[Subscription, Topic | None]]
) -> str:
    text = _("This chat has no subscription to {name}.").format(
        name=f"<b>{_escape(topic_name(topic))}</b>"
    )
    if not entries:
        return text + "\n\n" + _(HOW_TO_SUBSCRIBE)
    return "\n".join(
        [
            text,
            _("Its subscriptions:"),
            *_lines(entries),
            "",
            _("Send /unsubscribe to pick one."),
        ]
    )


def render_unsubscribed_all(count: int) -> str:
    if count == 0:
        return _no_subscriptions()
    return _("Stopped {things}. /subscribe X Pakistan to start again.").format(
        things=all_subscriptions_name(count)
    )


def nothing_to_unsubscribe() -> str:
    return (
        _("This chat has no subscriptions, so there is nothing to stop.")
        + "\n\n"
        + _(HOW_TO_SUBSCRIBE)
    )


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
        return name(f"{span} UTC")
    label = zone_label(now, zone_name)
    shown = label if label == zone_name else f"{label} ({zone_name})"
    utc = f"{_utc_clock(start, zone_name, now)}–{_utc_clock(end, zone_name, now)}"
    return _("{span} {zone}, that is {utc} UTC").format(
        span=name(span), zone=name(_escape(shown)), utc=name(utc)
    )


def _quiet_usage() -> str:
    return "\n\n" + _(QUIET_USAGE)


def render_quiet_set(start: str, end: str, zone_name: str, now: datetime, quiet_now: bool) -> str:
    state = _("It is quiet time there now.") if quiet_now else _("It is not quiet time there now.")
    hours = quiet_hours_text(start, end, zone_name, now)
    return (
        _("Quiet hours set: {hours}.").format(hours=hours)
        + " "
        + _("Alerts in those hours arrive without sound.")
        + f" {state}\n"
        + _("Turn them off with /quiet off.")
    )


def render_quiet_off(had_quiet_hours: bool) -> str:
    if not had_quiet_hours:
        return _("This chat has no quiet hours: alerts already arrive with sound at any hour.")
    return _("Quiet hours are off: alerts arrive with sound at any hour.")


def render_quiet_current(settings: ChatSettings | None, now: datetime) -> str:
    if settings is None or not settings.quiet_start or not settings.quiet_end:
        return _("This chat has no quiet hours.") + _quiet_usage()
    hours = quiet_hours_text(settings.quiet_start, settings.quiet_end, settings.timezone, now)
    return _quiet_hours_line(hours) + _quiet_usage()


def not_a_time_text(word: str) -> str:
    return (
        _("“{word}” is not a time of day; write it as HH:MM, from 00:00 to 23:59.").format(
            word=echo(word)
        )
        + _quiet_usage()
    )


def equal_quiet_times_text(clock: str) -> str:
    return (
        _("Quiet hours need a start and an end that differ, not {clock} to {clock}.").format(
            clock=clock
        )
        + _quiet_usage()
    )


def unknown_zone_text(text: str, suggestions: Sequence[str]) -> str:
    reply = _("I don't know the time zone “{name}”.").format(name=echo(text))
    if suggestions:
        names = ", ".join(f"<b>{name(_escape(option))}</b>" for option in suggestions)
        reply += "\n" + _("Did you mean: {names}?").format(names=names)
    return (
        reply
        + "\n"
        + _(
            "Use a country (/quiet 22:00-07:00 pakistan) or an IANA name "
            "such as Asia/Karachi or Europe/London."
        )
    )

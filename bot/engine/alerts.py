"""Alerts: who hears about a transition, and what they read. Written in the refresh's transaction.

One alert per transition per chat, however the chat's subscriptions overlap: the subscriber
query returns each chat once, and the dedup key makes a repeated refresh queue nothing new.
A private chat whose person chose a language with /language reads the alert in it; groups, and
people who never chose, read English.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.summaries import PairSummary
from bot.core.verdict import verdict_for
from bot.engine.refresh import RefreshBatch, Transition
from bot.render import i18n
from bot.render.card import (
    LEVEL_BADGE,
    cite,
    esc,
    flag,
    level_words,
    named,
    region_label,
    reports_text,
)
from bot.render.i18n import N_, _, number
from bot.render.timefmt import clock_pair, duration_text
from bot.render.verdict import verdict_lead
from bot.subscriptions.requests import is_quiet
from storage.database import Connection
from storage.languages import chosen_languages
from storage.outbox import NewMessage, enqueue
from storage.subscriptions import subscribers_for

HEADLINES = {
    "opened": "{badge} <b>{where}: {level}</b>",
    "escalated": N_("{badge} <b>{where}: now {level}</b> (was {previous})"),
    "resolved": N_("✅ <b>{where}: back to normal</b>"),
    # A surge within the cooldown after "back to normal": the same incident, so not a second
    # "opened", but whoever was told it ended must hear that it did not.
    "reopened": N_("{badge} <b>{where}: reports up again</b> (the same incident)"),
}


def alert_text(transition: Transition, summary: PairSummary, now: datetime) -> str:
    """What a subscriber reads: the verdict, the pair, the level, count against typical, local
    time + UTC."""
    incident = transition.incident
    tz = summary.region.timezone
    service, region = named(summary.service.name), region_label(summary.region)
    pair = _("{service} in {region}").format(service=service, region=region)
    # The verdict heads an alert about a live incident, as it heads the card; an incident over
    # is said by the transition itself.
    lines = (
        []
        if transition.kind == "resolved"
        else verdict_lead(verdict_for(summary, now), summary.service, summary.region)
    )
    lines += [
        _(HEADLINES[transition.kind]).format(
            badge=LEVEL_BADGE.get(incident.level, "🟠"),
            where=f"{flag(summary.region)} {pair}",
            level=level_words(incident.level),
            previous=level_words(transition.previous_level or "normal"),
        )
    ]
    latest = summary.latest
    if transition.kind != "resolved" and latest is not None:
        reading = (
            _("{count} at {time}, typical {typical} — {source}")
            if summary.typical is not None
            else _("{count} at {time}, typical not known — {source}")
        )
        lines.append(
            reading.format(
                count=reports_text(latest),
                time=clock_pair(latest.at, tz),
                typical=number(summary.typical or 0),
                source=cite(latest.source),
            )
        )
        lines.append(
            _("Since {time}").format(time=clock_pair(incident.opened_at, tz, with_day=True))
        )
    else:
        end = incident.resolved_at or incident.last_seen
        lines.append(
            _("From {start} to {end} ({duration}), peak {count} at {time}").format(
                start=clock_pair(incident.opened_at, tz, with_day=True),
                end=clock_pair(end, tz),
                duration=duration_text(end - incident.opened_at),
                count=number(incident.peak_count),
                time=clock_pair(incident.peak_at, tz),
            )
        )
    if summary.active_block is not None:
        lines.append(
            "⛔ " + _("{service} is blocked in {region}.").format(service=service, region=region)
        )
    command = f"/status {esc(summary.service.key)} {esc(summary.region.code.lower())}"
    lines.append(_("More: {command}").format(command=command))
    return "\n".join(lines)


def dedup_key(transition: Transition, chat_id: int) -> str:
    """One "opened" per incident, one "escalated" per level it reaches, and one "resolved" per
    end (one more after each "reopened").

    Keyed by the incident's stored id, which never changes once alerted: keying by its start
    and level let a moved start or a re-judged level send a second "opened". An end and a
    re-surge are told by when they happened, which each reading is judged once to decide.
    """
    incident = transition.incident
    if transition.kind == "escalated":
        which = f":{incident.level}"
    elif transition.kind == "resolved":
        which = f":{int((incident.resolved_at or incident.last_seen).timestamp())}"
    elif transition.kind == "reopened":
        which = f":{int(incident.last_seen.timestamp())}"
    else:
        which = ""
    return f"alert:{transition.kind}:{incident.id}{which}:{chat_id}"


async def queue_alerts(connection: Connection, batch: RefreshBatch) -> int:
    """Fan each transition out to the chats subscribed to it, in the refresh's transaction."""
    messages: list[NewMessage] = []
    for transition in batch.transitions:
        incident = transition.incident
        summary = batch.summaries.get((incident.service, incident.region))
        if summary is None or transition.kind not in HEADLINES:
            continue
        chats = await subscribers_for(connection, incident.service, incident.region, incident.level)
        # In a private chat the chat id is the person's id.
        chosen = await chosen_languages(
            connection, [chat.chat_id for chat in chats if chat.chat_kind == "private"]
        )
        texts: dict[str, str] = {}
        for chat in chats:
            language = chosen.get(chat.chat_id, i18n.DEFAULT)
            if language not in texts:
                with i18n.use_language(language):
                    texts[language] = alert_text(transition, summary, batch.now)
            quiet = is_quiet(batch.now, chat.timezone, chat.quiet_start, chat.quiet_end)
            messages.append(
                NewMessage(
                    chat_id=chat.chat_id,
                    kind="alert",
                    dedup_key=dedup_key(transition, chat.chat_id),
                    text=texts[language],
                    silent=quiet,
                )
            )
    return await enqueue(connection, messages, batch.now)

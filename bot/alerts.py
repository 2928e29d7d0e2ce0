"""Alerts: who hears about a transition, and what they read. Written in the refresh's transaction.

One alert per transition per chat, however the chat's subscriptions overlap: the subscriber
query returns each chat once, and the dedup key makes a repeated refresh queue nothing new.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from bot.outlook import RefreshBatch, Transition
from bot.render import LEVEL_BADGE, esc, flag, reports_text
from bot.subscriptions import is_quiet
from bot.summaries import PairSummary
from bot.timefmt import clock_pair, duration_text
from storage.outbox import NewMessage, enqueue
from storage.subscriptions import subscribers_for
from storage.timecodec import to_epoch

HEADLINES = {
    "opened": "{badge} <b>{where}: {level}</b>",
    "escalated": "{badge} <b>{where}: now {level}</b> (was {previous})",
    "resolved": "✅ <b>{where}: back to normal</b>",
}
LEVEL_NAMES = {"elevated": "elevated reports", "outage": "outage"}


def alert_text(transition: Transition, summary: PairSummary, now: datetime) -> str:
    """What a subscriber reads: the pair, the level, count against typical, local time + UTC."""
    incident = transition.incident
    tz = summary.region.timezone
    where = f"{flag(summary.region)} {esc(summary.service.name)} in {esc(summary.region.name)}"
    lines = [
        HEADLINES[transition.kind].format(
            badge=LEVEL_BADGE.get(incident.level, "🟠"),
            where=where,
            level=LEVEL_NAMES.get(incident.level, incident.level),
            previous=LEVEL_NAMES.get(transition.previous_level or "", "normal"),
        )
    ]
    latest = summary.latest
    if transition.kind != "resolved" and latest is not None:
        typical = (
            f", typical {summary.typical:,.0f}"
            if summary.typical is not None
            else ", typical not known"
        )
        lines.append(
            f"{reports_text(latest)} at {clock_pair(latest.at, tz)}{typical} — "
            f"<i>{esc(latest.source)}</i>"
        )
        lines.append(f"Since {clock_pair(incident.opened_at, tz, with_day=True)}")
    else:
        end = incident.resolved_at or incident.last_seen
        lines.append(
            f"From {clock_pair(incident.opened_at, tz, with_day=True)} to "
            f"{clock_pair(end, tz)} ({duration_text(end - incident.opened_at)}), "
            f"peak {incident.peak_count:,} at {clock_pair(incident.peak_at, tz)}"
        )
    block = summary.active_block
    if block is not None:
        lines.append(f"⛔ {esc(summary.service.name)} is blocked in {esc(summary.region.name)}.")
    lines.append(f"More: /status {esc(summary.service.key)} {esc(summary.region.code.lower())}")
    return "\n".join(lines)


def dedup_key(transition: Transition, chat_id: int) -> str:
    incident = transition.incident
    return (
        f"alert:{transition.kind}:{incident.service}:{incident.region}:"
        f"{to_epoch(incident.opened_at)}:{incident.level}:{chat_id}"
    )


async def queue_alerts(connection: aiosqlite.Connection, batch: RefreshBatch) -> int:
    """Fan each transition out to the chats subscribed to it, in the refresh's transaction."""
    messages: list[NewMessage] = []
    for transition in batch.transitions:
        incident = transition.incident
        summary = batch.summaries.get((incident.service, incident.region))
        if summary is None:
            continue
        text = alert_text(transition, summary, batch.now)
        for chat in await subscribers_for(
            connection, incident.service, incident.region, incident.level
        ):
            quiet = is_quiet(batch.now, chat.timezone, chat.quiet_start, chat.quiet_end)
            messages.append(
                NewMessage(
                    chat_id=chat.chat_id,
                    kind="alert",
                    dedup_key=dedup_key(transition, chat.chat_id),
                    text=text,
                    silent=quiet,
                )
            )
    return await enqueue(connection, messages, batch.now)

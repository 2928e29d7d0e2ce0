"""The channel: one live post per incident, kept current by edits, and a daily digest.

A post is queued when an incident first reaches the channel's level (opened at it, or escalated
to it), in the refresh's transaction, so the incident and its post land together. Later
refreshes queue an edit only when the card's text changed; the text depends on the incident's
data alone (never on `now`), so a quiet refresh edits nothing. A newer edit drops the older one
still waiting, and delivery edits a post at most once a minute, so a fast-moving outage costs
one Bot API call a minute. Edits are deduplicated by a hash of their text: a card returning to
the exact text of an earlier edit is not queued again, which cannot happen in practice because
the card names the time of the latest reading, and that only moves forward.

Rendering here is pure (data and `now` in, HTML out); the listener and the digest write to the
outbox and nothing else, so delivery, rate limits and retries are the outbox's business.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from bot.config.settings import Settings
from bot.core.catalog import Catalog
from bot.core.detection import LEVEL_RANK
from bot.core.summaries import PairSummary
from bot.core.verdict import verdict_for
from bot.engine.refresh import RefreshBatch
from bot.render import i18n
from bot.render.card import LEVEL_BADGE, LEVEL_WORDS, esc, fits, flag, reports_text
from bot.render.incidents import incident_line
from bot.render.telegram_limits import deep_link as telegram_deep_link
from bot.render.timefmt import clock_pair, day_text, duration_text, local
from bot.render.verdict import verdict_lead
from storage.channel import (
    edit_dedup_prefix,
    is_queued,
    post_dedup_key,
    post_state,
    supersede_edits,
)
from storage.database import Connection, Database
from storage.incidents import recent_incidents
from storage.outbox import NewMessage, enqueue
from storage.records import IncidentRecord
from storage.timecodec import to_epoch


class ChannelState(Protocol):
    """What queueing a digest or broadcast needs of the bot's state (BotState has it)."""

    @property
    def db(self) -> Database: ...
    @property
    def catalog(self) -> Catalog: ...
    @property
    def settings(self) -> Settings: ...


DIGEST_PERIOD = timedelta(hours=24)
# More than a day's incidents is read from storage than a digest can show; the rest is counted.
DIGEST_READ_LIMIT = 200
# Room kept under Telegram's 4096 for the digest's "…and N more" and footer lines.
DIGEST_ROOM = 3600


# ---------------------------------------------------------------- keys


def post_key(service: str, region: str, opened_at: datetime) -> str:
    """One post per incident: a pair's incidents differ by when they opened."""
    return f"incident:{service}:{region}:{to_epoch(opened_at)}"


def edit_dedup_key(key: str, text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return f"{edit_dedup_prefix(key)}{digest}"


def digest_dedup_key(local_day: str) -> str:
    return f"digest:{local_day}"


def reaches(level: str, min_level: str) -> bool:
    return LEVEL_RANK.get(level, 0) >= LEVEL_RANK.get(min_level, 2)  # type: ignore[call-overload]


# ---------------------------------------------------------------- rendering (pure)


def _where(summary: PairSummary) -> str:
    return f"{flag(summary.region)} {esc(summary.service.name)} in {esc(summary.region.name)}"


def deep_link(summary: PairSummary, bot_username: str) -> str:
    """t.me/<bot>?start=status-x-pk: opens the bot on this card (handlers/card.py reads it)."""
    payload = f"status-{summary.service.key}-{summary.region.code.lower()}"
    return telegram_deep_link(bot_username, payload)


def _tail(summary: PairSummary, bot_username: str | None = None) -> list[str]:
    """Block note and the deep link: the same at the end of every card.

    A command in a channel post is not tappable, so with the bot's username the post links
    straight to the bot, opened on this card.
    """
    lines = []
    if summary.active_block is not None:
        lines.append(f"⛔ {esc(summary.service.name)} is blocked in {esc(summary.region.name)}.")
    command = f"/status {esc(summary.service.key)} {esc(summary.region.code.lower())}"
    if bot_username:
        link = html.escape(deep_link(summary, bot_username), quote=True)
        lines.append(f'More: <a href="{link}">{command}</a>')
    else:
        lines.append(f"More: {command}")
    return lines


def live_post_text(summary: PairSummary, bot_username: str | None = None) -> str:
    """The card while the incident lasts: the verdict, level, latest against typical, peak,
    since when."""
    incident = summary.incident
    assert incident is not None, "a live post needs an incident"
    tz = summary.region.timezone
    level = incident.latest_level
    headline = f"{LEVEL_BADGE[level]} <b>{_where(summary)}: {LEVEL_WORDS[level]}</b>"
    if incident.level != level:
        headline += f" (down from {LEVEL_WORDS[incident.level]})"
    # The verdict heads the post as it heads the card; the summary was made at refresh time.
    verdict = verdict_for(summary, summary.made_at)
    lines = [*verdict_lead(verdict, summary.service, summary.region), headline]
    latest = summary.latest
    if latest is not None:
        typical = (
            f", typical {summary.typical:,.0f}"
            if summary.typical is not None
            else ", typical not known"
        )
        lines.append(
            f"Latest: {reports_text(latest)} at {clock_pair(latest.at, tz)}{typical} — "
            f"<i>{esc(latest.source)}</i>"
        )
    lines.append(f"Peak: {reports_text(incident.peak)} at {clock_pair(incident.peak.at, tz)}")
    lines.append(f"Since {clock_pair(incident.start, tz, with_day=True)}")
    return "\n".join([*lines, *_tail(summary, bot_username)])


def resolved_post_text(
    incident: IncidentRecord, summary: PairSummary, bot_username: str | None = None
) -> str:
    """The card's last state: resolved, with how long it lasted and its peak."""
    tz = summary.region.timezone
    end = incident.resolved_at or incident.last_seen
    worst = LEVEL_WORDS.get(incident.level, incident.level)
    lines = [
        f"✅ <b>{_where(summary)}: resolved</b>",
        f"{esc(worst).capitalize()} from {clock_pair(incident.opened_at, tz, with_day=True)} "
        f"to {clock_pair(end, tz)}, lasted {duration_text(end - incident.opened_at)}",
        f"Peak: {incident.peak_count:,} reports at {clock_pair(incident.peak_at, tz)}",
    ]
    return "\n".join([*lines, *_tail(summary, bot_username)])


def in_digest_period(incident: IncidentRecord, now: datetime) -> bool:
    """Opened, still going, or ended within the period: anything the day had to do with."""
    since = now - DIGEST_PERIOD
    if incident.opened_at > now:
        return False
    if incident.resolved_at is None:
        return True
    return incident.resolved_at > since or incident.opened_at > since


def digest_text(
    incidents: Sequence[IncidentRecord], catalog: Catalog, now: datetime, zone_name: str
) -> str:
    """The day in the channel: every incident of the past 24 hours, newest first, or none."""
    header = f"📋 <b>Daily digest</b> · {day_text(local(now, zone_name).date())}"
    shown = [incident for incident in incidents if in_digest_period(incident, now)]
    if not shown:
        return f"{header}\n\nNo incidents in the past 24 hours."
    lines = [header, "", f"Incidents in the past 24 hours ({len(shown)}), newest first:"]
    used = 0
    for incident in shown:
        line = incident_line(incident, catalog, now)
        if not fits("\n".join([*lines, line]), DIGEST_ROOM):
            break
        lines.append(line)
        used += 1
    if used < len(shown):
        lines.append(f"…and {len(shown) - used} more: /incidents")
    lines += ["", "Details: /status &lt;service&gt; &lt;country&gt;"]
    return "\n".join(lines)


# ---------------------------------------------------------------- writing to the outbox


async def queue_channel_posts(
    connection: Connection,
    batch: RefreshBatch,
    *,
    channel_id: int,
    min_level: str,
    bot_username: str | None = None,
) -> int:
    """A refresh listener: new posts, edits of live posts and final edits, in its transaction."""
    queued = 0
    for transition in batch.transitions:
        incident = transition.incident
        summary = batch.summaries.get((incident.service, incident.region))
        if summary is None:
            continue
        key = post_key(incident.service, incident.region, incident.opened_at)
        if transition.kind == "resolved":
            text = resolved_post_text(incident, summary, bot_username)
            queued += await queue_edit(connection, channel_id, key, text, batch.now)
        elif reaches(incident.level, min_level) and summary.active:
            post = NewMessage(
                chat_id=channel_id,
                kind="post",
                dedup_key=post_dedup_key(key),
                text=live_post_text(summary, bot_username),
                post_key=key,
            )
            queued += await enqueue(connection, [post], batch.now)
    for (service, region), summary in sorted(batch.summaries.items()):
        live = summary.incident
        if live is None or not live.ongoing:
            continue
        key = post_key(service, region, live.start)
        text = live_post_text(summary, bot_username)
        queued += await queue_edit(connection, channel_id, key, text, batch.now)
    return queued


async def queue_edit(
    connection: Connection, channel_id: int, key: str, text: str, now: datetime
) -> int:
    """An edit of a post that is out or on its way, if the text is new; older waiting edits go."""
    state = await post_state(connection, key)
    if state is None or state.status not in ("pending", "sent"):
        return 0  # no post, or one Telegram refused: an edit would wait for it forever
    if state.latest_text == text:
        return 0
    dedup = edit_dedup_key(key, text)
    if await is_queued(connection, dedup):
        return 0
    await supersede_edits(connection, key)
    edit = NewMessage(chat_id=channel_id, kind="edit", dedup_key=dedup, text=text, post_key=key)
    return await enqueue(connection, [edit], now)


async def queue_digest(services: ChannelState, now: datetime, *, channel_id: int) -> int:
    """The daily digest job's work: one digest per local day, however often it runs."""
    settings = services.settings
    zone_name = settings.digest_timezone
    found = await recent_incidents(services.db, until=now, limit=DIGEST_READ_LIMIT)
    with i18n.use_language(i18n.DEFAULT):  # a channel has no one language; posts are English
        text = digest_text(found, services.catalog, now, zone_name)
    digest = NewMessage(
        chat_id=channel_id,
        kind="digest",
        dedup_key=digest_dedup_key(local(now, zone_name).date().isoformat()),
        text=text,
    )
    async with services.db.transaction() as connection:
        return await enqueue(connection, [digest], now)


async def queue_broadcast(
    services: ChannelState, channel_id: int, html_text: str, dedup_key: str, now: datetime
) -> int:
    """An admin's message for the channel; 0 when that very message was queued already."""
    message = NewMessage(chat_id=channel_id, kind="broadcast", dedup_key=dedup_key, text=html_text)
    async with services.db.transaction() as connection:
        return await enqueue(connection, [message], now)

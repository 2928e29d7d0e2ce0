"""Subscriptions: which chats want alerts about what, and each chat's quiet hours.

A subscription names a service and a region, either of which may be `EVERY` ('*'), and the
lowest level worth an alert. The alert fan-out asks `subscribers_for` inside the refresh's
transaction, so the read functions it uses take a connection as well as a `Database`; the
delivery job calls `drop_chat` and `move_chat` when Telegram says a chat is gone or has moved.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from storage.database import Connection, Database, Row
from storage.timecodec import to_epoch

EVERY: Final = "*"
LEVELS: Final[tuple[str, ...]] = ("elevated", "outage")

# The subscriptions a level reaches: an outage also reaches those asking for elevated.
_MIN_LEVELS_MET: Final[dict[str, tuple[str, ...]]] = {
    "normal": (),
    "elevated": ("elevated",),
    "outage": ("elevated", "outage"),
}

SubscribeKind = Literal["added", "updated", "unchanged", "full"]


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One chat to alert, with what decides whether the alert arrives silently."""

    chat_id: int
    chat_kind: str
    timezone: str | None
    quiet_start: str | None
    quiet_end: str | None


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    chat_id: int
    service: str  # a service key or EVERY
    region: str  # a region code or EVERY
    min_level: str


@dataclass(frozen=True, slots=True)
class ChatSettings:
    chat_id: int
    kind: str
    title: str | None
    timezone: str | None
    quiet_start: str | None
    quiet_end: str | None


@dataclass(frozen=True, slots=True)
class SubscribeOutcome:
    """What became of a /subscribe; `previous` is the level it replaced when updated."""

    kind: SubscribeKind
    subscription: Subscription | None
    previous: str | None = None


_SUBSCRIPTION_COLUMNS = "id, chat_id, service, region, min_level"


def _subscription(row: Row) -> Subscription:
    return Subscription(row["id"], row["chat_id"], row["service"], row["region"], row["min_level"])


@asynccontextmanager
async def _writing(
    target: Database | Connection,
) -> AsyncIterator[Connection]:
    """A transaction of our own for a Database; the caller's for a connection already in one."""
    if isinstance(target, Database):
        async with target.transaction() as connection:
            yield connection
    else:
        yield target


async def _rows(
    source: Database | Connection, sql: str, params: tuple[object, ...] = ()
) -> list[Row]:
    return await source.fetchall(sql, params)


# ---------------------------------------------------------------- for the alert fan-out


async def subscribers_for(
    db_or_connection: Database | Connection, service: str, region: str, level: str
) -> list[Subscriber]:
    """Every chat whose subscriptions cover this pair at this level, each chat once.

    A chat subscribed to "X everywhere" and to "everything in Pakistan" matches X in Pakistan
    twice; it must still get one alert. A chat with no `chats` row (never expected, but a row
    is cheap to lose and an alert is not) is still returned, its kind guessed from the id's sign.
    """
    if level not in _MIN_LEVELS_MET:
        raise ValueError(f"unknown level {level!r}")
    met = _MIN_LEVELS_MET[level]
    if not met:
        return []
    marks = ", ".join("?" for _ in met)
    rows = await _rows(
        db_or_connection,
        "SELECT DISTINCT s.chat_id,"
        " COALESCE(c.kind, CASE WHEN s.chat_id > 0 THEN 'private' ELSE 'group' END) AS kind,"
        " c.timezone, c.quiet_start, c.quiet_end"
        " FROM subscriptions s LEFT JOIN chats c ON c.chat_id = s.chat_id"
        " WHERE s.service IN (?, ?) AND s.region IN (?, ?)"
        f" AND s.min_level IN ({marks})"
        " ORDER BY s.chat_id",
        (service, EVERY, region, EVERY, *met),
    )
    return [
        Subscriber(
            row["chat_id"], row["kind"], row["timezone"], row["quiet_start"], row["quiet_end"]
        )
        for row in rows
    ]


async def drop_chat(connection: Database | Connection, chat_id: int) -> int:
    """Forget a chat Telegram says we may no longer write to (blocked, kicked, deleted).

    Its settings go too: nothing about a chat that left is worth keeping, and /subscribe
    remembers it again if it comes back. Returns how many subscriptions were removed.
    """
    async with _writing(connection) as writer:
        cursor = await writer.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
        removed = cursor.rowcount
        await writer.execute("DELETE FROM chats WHERE chat_id = ?", (chat_id,))
    return removed


async def move_chat(connection: Database | Connection, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup under a new id: its subscriptions and settings follow it.

    Where the new id already has a subscription to the same thing, the two merge into one with
    the more sensitive level; where it already has settings, they win and the old ones only fill
    gaps. Moved subscriptions keep their ids, so an /unsubscribe list already shown still works.
    """
    if old_chat_id == new_chat_id:
        return
    async with _writing(connection) as writer:
        same_topic = (
            "SELECT 1 FROM subscriptions other WHERE other.chat_id = ?"
            " AND other.service = subscriptions.service AND other.region = subscriptions.region"
        )
        await writer.execute(
            "UPDATE subscriptions SET min_level = 'elevated'"
            f" WHERE chat_id = ? AND EXISTS ({same_topic} AND other.min_level = 'elevated')",
            (new_chat_id, old_chat_id),
        )
        await writer.execute(
            f"DELETE FROM subscriptions WHERE chat_id = ? AND EXISTS ({same_topic})",
            (old_chat_id, new_chat_id),
        )
        await writer.execute(
            "UPDATE subscriptions SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id)
        )
        await writer.execute(
            "INSERT INTO chats (chat_id, kind, title, timezone, quiet_start, quiet_end)"
            " SELECT ?, 'supergroup', title, timezone, quiet_start, quiet_end"
            " FROM chats WHERE chat_id = ?"
            " ON CONFLICT (chat_id) DO UPDATE SET"
            " title = COALESCE(chats.title, excluded.title),"
            " timezone = COALESCE(chats.timezone, excluded.timezone),"
            " quiet_start = CASE WHEN chats.quiet_start IS NULL"
            " THEN excluded.quiet_start ELSE chats.quiet_start END,"
            " quiet_end = CASE WHEN chats.quiet_start IS NULL"
            " THEN excluded.quiet_end ELSE chats.quiet_end END",
            (new_chat_id, old_chat_id),
        )
        await writer.execute("DELETE FROM chats WHERE chat_id = ?", (old_chat_id,))


# ---------------------------------------------------------------- for the commands


async def remember_chat(connection: Connection, chat_id: int, kind: str, title: str | None) -> None:
    """Keep the chat's kind and title current; its quiet hours and zone are left alone."""
    await connection.execute(
        "INSERT INTO chats (chat_id, kind, title) VALUES (?, ?, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET kind = excluded.kind, title = excluded.title",
        (chat_id, kind, title),
    )


async def subscribe(
    db: Database,
    chat_id: int,
    *,
    kind: str,
    title: str | None,
    service: str,
    region: str,
    min_level: str,
    at: datetime,
    limit: int,
) -> SubscribeOutcome:
    """Add a subscription, or change the level of the one to the same thing; never a duplicate.

    A new one is refused ("full") once the chat has `limit`, so its list still fits one message
    and one keyboard.
    """
    if min_level not in LEVELS:
        raise ValueError(f"unknown level {min_level!r}")
    async with db.transaction() as connection:
        await remember_chat(connection, chat_id, kind, title)
        found = await _rows(
            connection,
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions"
            " WHERE chat_id = ? AND service = ? AND region = ?",
            (chat_id, service, region),
        )
        if found:
            existing = _subscription(found[0])
            if existing.min_level == min_level:
                return SubscribeOutcome("unchanged", existing)
            await connection.execute(
                "UPDATE subscriptions SET min_level = ? WHERE id = ?", (min_level, existing.id)
            )
            updated = Subscription(existing.id, chat_id, service, region, min_level)
            return SubscribeOutcome("updated", updated, previous=existing.min_level)
        count = await _rows(
            connection, "SELECT COUNT(*) FROM subscriptions WHERE chat_id = ?", (chat_id,)
        )
        if count[0][0] >= limit:
            return SubscribeOutcome("full", None)
        new_id = await connection.scalar(
            "INSERT INTO subscriptions (chat_id, service, region, min_level, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (chat_id, service, region, min_level, to_epoch(at)),
        )
    return SubscribeOutcome("added", Subscription(new_id, chat_id, service, region, min_level))


async def subscriptions_of(db: Database, chat_id: int) -> list[Subscription]:
    """A chat's subscriptions, oldest first."""
    rows = await db.fetchall(
        f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE chat_id = ? ORDER BY id",
        (chat_id,),
    )
    return [_subscription(row) for row in rows]


async def unsubscribe(db: Database, chat_id: int, subscription_id: int) -> Subscription | None:
    """Remove one subscription by id, only if it is this chat's; None when there was none.

    The chat is part of the condition because the id comes from button data, which anyone can
    forge: a press must never remove another chat's subscription.
    """
    async with db.transaction() as connection:
        found = await _rows(
            connection,
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ? AND chat_id = ?",
            (subscription_id, chat_id),
        )
        if not found:
            return None
        await connection.execute("DELETE FROM subscriptions WHERE id = ?", (subscription_id,))
    return _subscription(found[0])


async def unsubscribe_topic(
    db: Database, chat_id: int, service: str, region: str
) -> Subscription | None:
    """Remove the chat's subscription to exactly this service and region, if there is one."""
    async with db.transaction() as connection:
        found = await _rows(
            connection,
            f"SELECT {_SUBSCRIPTION_COLUMNS} FROM subscriptions"
            " WHERE chat_id = ? AND service = ? AND region = ?",
            (chat_id, service, region),
        )
        if not found:
            return None
        await connection.execute("DELETE FROM subscriptions WHERE id = ?", (found[0]["id"],))
    return _subscription(found[0])


async def unsubscribe_all(db: Database, chat_id: int) -> int:
    """Remove every subscription of the chat (its quiet hours stay); return how many."""
    async with db.transaction() as connection:
        cursor = await connection.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
    return cursor.rowcount


async def chat_settings(db: Database, chat_id: int) -> ChatSettings | None:
    row = await db.fetchone(
        "SELECT chat_id, kind, title, timezone, quiet_start, quiet_end FROM chats"
        " WHERE chat_id = ?",
        (chat_id,),
    )
    if row is None:
        return None
    return ChatSettings(
        row["chat_id"],
        row["kind"],
        row["title"],
        row["timezone"],
        row["quiet_start"],
        row["quiet_end"],
    )


async def set_quiet_hours(
    db: Database,
    chat_id: int,
    *,
    kind: str,
    title: str | None,
    timezone: str | None,
    start: str | None,
    end: str | None,
) -> None:
    """Set (or with start and end None, clear) the chat's quiet hours, in `timezone`.

    Clearing keeps the zone already stored when `timezone` is None, so turning quiet hours back
    on later starts from the zone the chat chose.
    """
    async with db.transaction() as connection:
        await remember_chat(connection, chat_id, kind, title)
        await connection.execute(
            "UPDATE chats SET timezone = COALESCE(?, timezone), quiet_start = ?, quiet_end = ?"
            " WHERE chat_id = ?",
            (timezone, start, end, chat_id),
        )

"""The outbox: every alert and channel post waits here until Telegram accepted it.

Each state change commits on its own, so a row marked sent stays sent across a crash, and a
row not marked sent is still there to deliver after a restart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.database import Connection, Database, Row
from storage.timecodec import from_epoch, to_epoch

CLAIM_HOLD = timedelta(minutes=2)  # longer than a batch takes to send at Telegram's pace

_COLUMNS = (
    "id, chat_id, kind, dedup_key, text, silent, post_key, status, attempts, not_before,"
    " created_at, sent_at, message_id, error"
)


@dataclass(frozen=True, slots=True)
class NewMessage:
    chat_id: int
    kind: str  # alert, post, edit, digest, broadcast
    dedup_key: str
    text: str
    silent: bool = False
    post_key: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    chat_id: int
    kind: str
    dedup_key: str
    text: str
    silent: bool
    post_key: str | None
    status: str
    attempts: int
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None
    message_id: int | None
    error: str | None


def _row(row: Row) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        dedup_key=row["dedup_key"],
        text=row["text"],
        silent=bool(row["silent"]),
        post_key=row["post_key"],
        status=row["status"],
        attempts=row["attempts"],
        not_before=from_epoch(row["not_before"]),
        created_at=from_epoch(row["created_at"]),
        sent_at=from_epoch(row["sent_at"]) if row["sent_at"] is not None else None,
        message_id=row["message_id"],
        error=row["error"],
    )


async def enqueue(connection: Connection, messages: Sequence[NewMessage], now: datetime) -> int:
    """Add messages inside the caller's transaction; a dedup key already queued adds nothing."""
    before = connection.total_changes
    await connection.executemany(
        "INSERT INTO outbox (chat_id, kind, dedup_key, text, silent, post_key, not_before,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
        [
            (
                m.chat_id,
                m.kind,
                m.dedup_key,
                m.text,
                int(m.silent),
                m.post_key,
                to_epoch(now),
                to_epoch(now),
            )
            for m in messages
        ],
    )
    return connection.total_changes - before


async def claim_due(
    db: Database, holder: str, now: datetime, *, hold: timedelta = CLAIM_HOLD, limit: int = 200
) -> list[OutboxRow]:
    """Claim pending rows whose time has come, oldest first, a batch at a time.

    A row claimed by another live process is skipped (and on PostgreSQL, so is a row another
    transaction is claiming right now: SKIP LOCKED), so two deliverers never hold the same row.
    A claim lapses after `hold`, for a holder that died with nobody to release its claims.
    """
    async with db.transaction() as connection:
        rows = await connection.fetchall(
            "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id IN ("
            " SELECT id FROM outbox WHERE status = 'pending' AND not_before <= ?"
            " AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until < ?)"
            f" ORDER BY id LIMIT ?{db.dialect.skip_locked})"
            f" RETURNING {_COLUMNS}",
            (holder, to_epoch(now + hold), to_epoch(now), holder, to_epoch(now), limit),
        )
    return sorted((_row(row) for row in rows), key=lambda row: row.id)


async def release_claims(db: Database, *, keep: str) -> int:
    """A new leader takes over: claims of every other holder end now."""
    async with db.transaction() as connection:
        cursor = await connection.execute(
            "UPDATE outbox SET claimed_by = NULL, claimed_until = NULL"
            " WHERE status = 'pending' AND claimed_by IS NOT NULL AND claimed_by <> ?",
            (keep,),
        )
        return max(cursor.rowcount, 0)


async def next_due(db: Database) -> datetime | None:
    value = await db.scalar("SELECT MIN(not_before) FROM outbox WHERE status = 'pending'")
    return from_epoch(value) if value is not None else None


async def mark_sent(db: Database, row: OutboxRow, message_id: int | None, now: datetime) -> None:
    """Telegram accepted it: record that (and where a channel post now lives) in one commit."""
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE outbox SET status = 'sent', sent_at = ?, message_id = ?, error = NULL,"
            " attempts = attempts + 1 WHERE id = ? AND status = 'pending'",
            (to_epoch(now), message_id, row.id),
        )
        if row.post_key and row.kind == "post":
            await connection.execute(
                "INSERT INTO channel_posts (post_key, chat_id, message_id, last_text, last_edit_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (post_key) DO UPDATE SET"
                " chat_id = excluded.chat_id, message_id = excluded.message_id,"
                " last_text = excluded.last_text, last_edit_at = excluded.last_edit_at",
                (row.post_key, row.chat_id, message_id, row.text, to_epoch(now)),
            )
        elif row.post_key and row.kind == "edit":
            await connection.execute(
                "UPDATE channel_posts SET last_text = ?, last_edit_at = ? WHERE post_key = ?",
                (row.text, to_epoch(now), row.post_key),
            )


async def mark_failed(db: Database, row: OutboxRow, error: str, *, status: str = "failed") -> None:
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE outbox SET status = ?, error = ?, attempts = attempts + 1 WHERE id = ?",
            (status, error, row.id),
        )


async def retry_later(db: Database, row: OutboxRow, not_before: datetime, error: str) -> None:
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE outbox SET not_before = ?, error = ?, attempts = attempts + 1 WHERE id = ?",
            (to_epoch(not_before), error, row.id),
        )


async def postpone(db: Database, row: OutboxRow, not_before: datetime, reason: str) -> None:
    """Wait without counting an attempt (e.g. an edit whose post is not out yet)."""
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE outbox SET not_before = ?, error = ? WHERE id = ?",
            (to_epoch(not_before), reason, row.id),
        )


async def reroute(db: Database, row: OutboxRow, chat_id: int) -> None:
    async with db.transaction() as connection:
        await connection.execute("UPDATE outbox SET chat_id = ? WHERE id = ?", (chat_id, row.id))


async def drop_pending_for_chat(connection: Connection, chat_id: int, why: str) -> int:
    cursor = await connection.execute(
        "UPDATE outbox SET status = 'dropped', error = ? WHERE chat_id = ? AND status = 'pending'",
        (why, chat_id),
    )
    return cursor.rowcount


async def move_pending(connection: Connection, old: int, new: int) -> None:
    await connection.execute(
        "UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND status = 'pending'", (new, old)
    )


async def channel_post(
    db: Database, post_key: str
) -> tuple[int, int | None, datetime | None] | None:
    """(chat id, message id, last edit time) of a channel post, if it was sent."""
    row = await db.fetchone(
        "SELECT chat_id, message_id, last_edit_at FROM channel_posts WHERE post_key = ?",
        (post_key,),
    )
    if row is None:
        return None
    edited = from_epoch(row["last_edit_at"]) if row["last_edit_at"] is not None else None
    return row["chat_id"], row["message_id"], edited


async def status_counts(db: Database) -> dict[str, int]:
    rows = await db.fetchall("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
    return {row["status"]: row["n"] for row in rows}


async def rows_by_key(db: Database, prefix: str) -> list[OutboxRow]:
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM outbox WHERE dedup_key LIKE ? ORDER BY id", (prefix + "%",)
    )
    return [_row(row) for row in rows]


async def queued_for(db: Database, chat_id: int, *, after: int = 0) -> list[OutboxRow]:
    """A chat's messages queued after row `after`, oldest first: what it would receive."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM outbox WHERE chat_id = ? AND id > ? ORDER BY id",
        (chat_id, after),
    )
    return [_row(row) for row in rows]

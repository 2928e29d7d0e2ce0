"""Channel posts as the outbox holds them: a 'post' row and the 'edit' rows that follow it.

Rows are found by dedup key (`post:{post_key}`, `edit:{post_key}:{hash}`), whose UNIQUE index
answers these lookups, so no index on `post_key` is needed however long the outbox grows.
Everything here runs inside the caller's transaction (the refresh's).
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.database import Connection


@dataclass(frozen=True, slots=True)
class PostState:
    status: str  # the 'post' row's: pending, sent, failed or dropped
    latest_text: str | None  # what the post shows once every queued row is out


def post_dedup_key(post_key: str) -> str:
    return f"post:{post_key}"


def edit_dedup_prefix(post_key: str) -> str:
    return f"edit:{post_key}:"


def _edit_range(post_key: str) -> tuple[str, str]:
    """Every key starting with the prefix sorts in [prefix, prefix with ':' raised to ';')."""
    prefix = edit_dedup_prefix(post_key)
    return prefix, prefix[:-1] + ";"


async def post_state(connection: Connection, post_key: str) -> PostState | None:
    """The post's delivery state and its newest queued or sent text; None if never queued."""
    cursor = await connection.execute(
        "SELECT status FROM outbox WHERE dedup_key = ?", (post_dedup_key(post_key),)
    )
    post = await cursor.fetchone()
    if post is None:
        return None
    low, high = _edit_range(post_key)
    cursor = await connection.execute(
        "SELECT text FROM outbox WHERE (dedup_key = ? OR (dedup_key >= ? AND dedup_key < ?))"
        " AND status IN ('pending', 'sent') ORDER BY id DESC LIMIT 1",
        (post_dedup_key(post_key), low, high),
    )
    latest = await cursor.fetchone()
    return PostState(post["status"], latest["text"] if latest else None)


async def is_queued(connection: Connection, dedup_key: str) -> bool:
    """Whether a row with this key was ever queued, whatever became of it."""
    cursor = await connection.execute("SELECT 1 FROM outbox WHERE dedup_key = ?", (dedup_key,))
    return await cursor.fetchone() is not None


async def supersede_edits(connection: Connection, post_key: str) -> int:
    """Drop the post's edits still waiting: a newer text replaces them, so they need not go."""
    low, high = _edit_range(post_key)
    cursor = await connection.execute(
        "UPDATE outbox SET status = 'dropped', error = 'superseded by a newer edit'"
        " WHERE dedup_key >= ? AND dedup_key < ? AND status = 'pending'",
        (low, high),
    )
    return cursor.rowcount

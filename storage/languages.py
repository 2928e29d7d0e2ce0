"""Each person's chosen reply language."""

from __future__ import annotations

from collections.abc import Sequence

from storage.database import Connection, Database

# Well under SQLite's limit on bound parameters in one statement.
_CHUNK = 500


async def chosen_language(db: Database, user_id: int) -> str | None:
    value = await db.scalar("SELECT language FROM languages WHERE user_id = ?", (user_id,))
    return str(value) if value is not None else None


async def chosen_languages(connection: Connection, user_ids: Sequence[int]) -> dict[int, str]:
    """The languages these people chose, inside the caller's transaction; no row, no entry."""
    found: dict[int, str] = {}
    for first in range(0, len(user_ids), _CHUNK):
        chunk = list(user_ids[first : first + _CHUNK])
        marks = ", ".join("?" for _ in chunk)
        async with connection.execute(
            f"SELECT user_id, language FROM languages WHERE user_id IN ({marks})", chunk
        ) as cursor:
            found.update({int(row[0]): str(row[1]) for row in await cursor.fetchall()})
    return found


async def choose_language(db: Database, user_id: int, language: str) -> None:
    async with db.transaction() as connection:
        await connection.execute(
            "INSERT INTO languages (user_id, language) VALUES (?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language",
            (user_id, language),
        )

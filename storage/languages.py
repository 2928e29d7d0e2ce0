"""Each person's chosen reply language."""

from __future__ import annotations

from storage.database import Database


async def chosen_language(db: Database, user_id: int) -> str | None:
    value = await db.scalar("SELECT language FROM languages WHERE user_id = ?", (user_id,))
    return str(value) if value is not None else None


async def choose_language(db: Database, user_id: int, language: str) -> None:
    async with db.transaction() as connection:
        await connection.execute(
            "INSERT INTO languages (user_id, language) VALUES (?, ?)"
            " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language",
            (user_id, language),
        )

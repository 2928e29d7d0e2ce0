"""A chat's subscription to one pair, as the card's Subscribe button toggles it.

Handlers never reach storage; this is the small use case they call instead.
"""

from __future__ import annotations

from datetime import datetime

from storage import subscriptions as store
from storage.database import Database

# What the card's button subscribes to: alerts from "elevated" up, like /subscribe's default.
BUTTON_LEVEL = "elevated"
MAX_SUBSCRIPTIONS = 50


async def is_subscribed(db: Database, chat_id: int, service: str, region: str) -> bool:
    return any(
        s.service == service and s.region == region
        for s in await store.subscriptions_of(db, chat_id)
    )


async def subscribe_topic(
    db: Database,
    chat_id: int,
    *,
    kind: str,
    title: str | None,
    service: str,
    region: str,
    at: datetime,
) -> None:
    await store.subscribe(
        db,
        chat_id,
        kind=kind,
        title=title,
        service=service,
        region=region,
        min_level=BUTTON_LEVEL,
        at=at,
        limit=MAX_SUBSCRIPTIONS,
    )


async def unsubscribe_topic(db: Database, chat_id: int, service: str, region: str) -> None:
    await store.unsubscribe_topic(db, chat_id, service, region)

"""Reading what /timeline shows: the records in a window, straight from storage.

Unlike /status, which reads a summary prepared in the background, a timeline is a view of raw
history; it reads one pair's rows in one window through indexed queries.
"""

from __future__ import annotations

from datetime import datetime

from bot.render.timeline import History, TimelineQuery
from storage.database import Database
from storage.timeline import events_in_span, latest_record, readings_between


async def read_history(db: Database, query: TimelineQuery, *, now: datetime) -> History:
    """The window's readings and events; when there are none, also when the pair last had data."""
    span = query.window.span()
    service, region = query.service.key, query.region.code
    observations = await readings_between(db, service, region, span)
    events = await events_in_span(db, service, query.event_regions(), span)
    latest = None
    if not observations and not events:
        latest = await latest_record(db, service, region, query.event_regions(), until=now)
    return History(query, tuple(observations), tuple(events), latest)

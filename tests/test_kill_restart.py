"""Kill the bot with SIGKILL in the middle of a fan-out; the restart sends the rest, none twice.

A real `outagebot run` process talks to a Bot API served over HTTP on 127.0.0.1. The server
accepts a number of messages, then holds the next request unanswered (Telegram never accepted
it) while the test kills the process. The second process must deliver every remaining alert,
and the server must have accepted each chat's alert exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from processes import wait_until

from bot.imports.dataset import parse_dataset
from storage.database import Database
from storage.imports import import_dataset
from storage.outbox import status_counts
from storage.subscriptions import subscribe

TOKEN = "5551234:kill-restart-test-token-0123456789abcdef"
CHATS = list(range(9001, 9041))  # 40 subscribers


async def store_subscribers_and_spike(db: Database, chats: list[int], now: datetime) -> None:
    """The bundled data, `chats` subscribed to X in Pakistan, and a spike five minutes ago."""
    from bot.core.catalog import default_catalog
    from bot.imports.dataset import embedded_dataset_path, load_dataset

    catalog = default_catalog()
    await import_dataset(db, load_dataset(embedded_dataset_path(), catalog))
    for chat in chats:
        await subscribe(
            db,
            chat,
            kind="private",
            title=None,
            service="x",
            region="PK",
            min_level="elevated",
            at=now,
            limit=50,
        )
    readings = {
        "observations": [
            {
                "service": "x",
                "region": "pk",
                "count": 120,
                "source": "Test monitor",
                "at": (now - timedelta(minutes=5)).isoformat(),
            }
        ]
    }
    await import_dataset(db, parse_dataset(json.dumps(readings), catalog))


async def prepare(database: Path, now: datetime) -> None:
    """Subscribers and an incident opening now, refreshed so its 40 alerts wait in the outbox."""
    from bot.core.catalog import default_catalog
    from bot.engine.alerts import queue_alerts
    from bot.engine.refresh import Summaries

    db = await Database.open(database)
    try:
        await store_subscribers_and_spike(db, CHATS, now)
        summaries = Summaries(db, default_catalog())
        summaries.listeners.append(queue_alerts)
        report = await summaries.refresh(now)
        assert report.queued == len(CHATS)
    finally:
        await db.close()


def start_bot(database: Path, base_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTAGEBOT_")}
    env.update(
        OUTAGEBOT_TOKEN=TOKEN,
        OUTAGEBOT_BASE_URL=base_url,
        OUTAGEBOT_DATABASE=str(database),
        OUTAGEBOT_POLL_TIMEOUT="0",
        OUTAGEBOT_POLL_INTERVAL="0.5",
        OUTAGEBOT_REFRESH_SECONDS="3600",
        HOME=str(log.parent),
    )
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=log.parent,
        )


@pytest.mark.process
async def test_sigkill_mid_fan_out_then_restart_delivers_each_alert_exactly_once(
    tmp_path, fake_telegram
):
    database = tmp_path / "bot.sqlite3"
    await prepare(database, datetime.now(UTC))
    fake = fake_telegram
    log = tmp_path / "bot.log"
    fake.hold_after = 15
    first = start_bot(database, fake.base_url, log)
    assert fake.holding.wait(timeout=60), log.read_text()
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    assert len(fake.accepted) == 15

    fake.hold_after = None
    fake.release.set()
    second = start_bot(database, fake.base_url, log)
    try:
        delivered = wait_until(lambda: set(fake.accepted) >= set(CHATS), timeout=90)
        assert delivered, f"only {len(set(fake.accepted))} chats reached\n{log.read_text()}"
        time.sleep(0.5)  # anything sent twice would arrive now
    finally:
        second.terminate()
        second.wait(timeout=30)

    assert Counter(fake.accepted) == Counter(CHATS)  # every chat once, none twice
    db = await Database.open(database)
    try:
        assert await status_counts(db) == {"sent": len(CHATS)}
    finally:
        await db.close()

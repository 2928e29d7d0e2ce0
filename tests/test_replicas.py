"""Three replicas on one PostgreSQL database; the leader is killed with SIGKILL mid-fan-out.

Real `outagebot run --webhook` processes share a database and a Bot API served over HTTP on
127.0.0.1. The leader's refresh opens an incident with 300 subscribers and starts sending; the
Bot API holds one request unanswered (Telegram never accepted it) while the test kills the
leader. Another replica must take over within a bounded time and deliver the rest: every
subscriber gets the alert exactly once, and the survivors keep answering updates.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from processes import command_update, free_port, post_update, wait_until
from test_kill_restart import TOKEN, store_subscribers_and_spike

from storage.database import Database
from storage.outbox import status_counts

SUBSCRIBERS = list(range(20_001, 20_301))  # 300 chats
SECRET = "replica-test-secret_0123456789"
LEADER_CHECK_SECONDS = 0.5
TAKEOVER_BOUND = 15.0  # seconds from the kill to a new leader; the check interval is 0.5 s


async def prepare(url: str, now: datetime) -> None:
    """Subscribers and a spike stored; no refresh yet: the leader's own refresh opens it."""
    db = await Database.open(url)
    try:
        await store_subscribers_and_spike(db, SUBSCRIBERS, now)
    finally:
        await db.close()


class Replica:
    def __init__(self, name: str, url: str, base_url: str, folder: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log = folder / f"{name}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OUTAGEBOT_")}
        env.update(
            OUTAGEBOT_TOKEN=TOKEN,
            OUTAGEBOT_BASE_URL=base_url,
            OUTAGEBOT_DATABASE=url,
            OUTAGEBOT_WEBHOOK_SECRET=SECRET,
            OUTAGEBOT_REFRESH_SECONDS="1",
            OUTAGEBOT_FOLLOW_SECONDS="1",
            OUTAGEBOT_LEADER_CHECK_SECONDS=str(LEADER_CHECK_SECONDS),
            OUTAGEBOT_LOG_LEVEL="INFO",
            HOME=str(folder),
        )
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "run",
                    "--webhook",
                    "--listen",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--url",
                    "https://example.invalid/telegram",
                    "--no-set-webhook",
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=folder,
            )

    def health(self) -> dict | None:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return None

    def leads(self) -> bool:
        return (self.health() or {}).get("leader") is True

    def post_status(self, chat_id: int, update_id: int) -> int:
        update = command_update("/status X Pakistan", chat_id=chat_id, update_id=update_id)
        return post_update(self.port, update, SECRET).status_code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.mark.process
async def test_killing_the_leader_mid_fan_out_hands_over_and_alerts_each_subscriber_once(
    tmp_path, postgres, fake_telegram
):
    if postgres is None:
        pytest.skip("no PostgreSQL server")
    url = postgres.fresh(migrated=False)
    await prepare(url, datetime.now(UTC))
    fake = fake_telegram
    fake.hold_after = 100
    replicas = [Replica(f"replica{n}", url, fake.base_url, tmp_path) for n in (1, 2, 3)]
    logs = lambda: "\n".join(f"--- {r.name}\n{r.log.read_text()[-3000:]}" for r in replicas)  # noqa: E731
    try:
        assert wait_until(lambda: all(r.health() for r in replicas), timeout=60), logs()
        assert fake.holding.wait(timeout=90), logs()  # the 101st alert hangs in flight
        leaders = [r for r in replicas if r.leads()]
        assert len(leaders) == 1, logs()
        leader = leaders[0]
        os.kill(leader.process.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        leader.process.wait(timeout=30)
        assert len(fake.accepted) == 100
        fake.hold_after = None
        fake.release.set()

        survivors = [r for r in replicas if r is not leader]
        assert wait_until(lambda: any(r.leads() for r in survivors), TAKEOVER_BOUND), logs()
        takeover = time.monotonic() - killed_at
        print(f"takeover {takeover:.2f} s")
        delivered = wait_until(lambda: set(fake.accepted) >= set(SUBSCRIBERS), timeout=120)
        assert delivered, f"{len(set(fake.accepted) & set(SUBSCRIBERS))} of 300\n{logs()}"
        time.sleep(1.0)  # anything sent twice would arrive now

        alerts = Counter(chat for chat in fake.accepted if chat in set(SUBSCRIBERS))
        assert set(alerts.values()) == {1}, [c for c, n in alerts.items() if n > 1]
        assert len(alerts) == 300
        assert sum(r.leads() for r in survivors) == 1
        assert takeover < TAKEOVER_BOUND

        # Both survivors still answer people, the one that leads and the one that does not.
        for index, replica in enumerate(survivors):
            assert replica.post_status(chat_id=777 + index, update_id=9_000 + index) == 200
        assert wait_until(lambda: {777, 778} <= set(fake.accepted), timeout=10)

        db = await Database.open(url)
        try:
            assert (await status_counts(db)).get("sent") == 300
        finally:
            await db.close()
    finally:
        fake.release.set()
        for replica in replicas:
            replica.stop()
        postgres.drop(url)

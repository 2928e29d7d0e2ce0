"""An alerted incident never moves: one "opened", each end told once, whatever refreshes see.

Property: a series replayed bucket by bucket, with the real refresh after each bucket (and the
process restarted at arbitrary points, so the detector is rebuilt from what is stored), gives
each incident exactly one "opened" alert and, once the series is back to normal, a "resolved"
as its last word. A surge within the cooldown after an end is the same incident, told as
"reports up again" ("reopened") and then ended again: never a second "opened", never an end
told twice, never silence after "back to normal" while reports are up.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.catalog import default_catalog
from bot.core.detection import Thresholds
from bot.engine.alerts import queue_alerts
from bot.engine.backtest import backtest, read_series, read_windows, score
from bot.engine.refresh import Summaries
from storage.database import Database
from storage.imports import import_dataset
from storage.outbox import queued_for
from storage.records import Dataset, Observation
from storage.subscriptions import subscribe

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)
BUCKET = timedelta(minutes=15)
CHAT = 77
RULES = Thresholds()

# Quiet, bumpy or surging buckets: the mix that used to move incidents' starts.
counts = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=12),
        st.integers(min_value=15, max_value=60),
        st.integers(min_value=100, max_value=900),
    ),
    min_size=8,
    max_size=90,
)


async def replay(tmp: Path, values: list[int], restarts: set[int]) -> list[tuple[str, int]]:
    """Every alert the subscriber got, as (kind, incident id), in order."""
    catalog = default_catalog()
    db = await Database.open(tmp / "identity.sqlite3")
    try:
        await subscribe(
            db,
            CHAT,
            kind="private",
            title=None,
            service="x",
            region="PK",
            min_level="elevated",
            at=START,
            limit=5,
        )
        alerts: list[tuple[str, int]] = []
        seen = 0
        summaries: Summaries | None = None
        # Back to normal afterwards: long enough to resolve and to pass the cooldown.
        tail = [2] * int((RULES.cooldown + 4 * BUCKET) / BUCKET)
        for i, count in enumerate([*values, *tail]):
            if summaries is None or i in restarts:
                summaries = Summaries(db, catalog, RULES)  # a restart: nothing kept in memory
                summaries.listeners.append(queue_alerts)
            at = START + i * BUCKET
            row = Observation("x", "PK", at, count, "Test monitor")
            await import_dataset(db, Dataset(observations=(row,)))
            await summaries.refresh(at + BUCKET)
            for message in await queued_for(db, CHAT, after=seen):
                seen = message.id
                kind, incident = message.dedup_key.split(":")[1:3]
                alerts.append((kind, int(incident)))
        open_left = await db.scalar("SELECT COUNT(*) FROM incidents WHERE resolved_at IS NULL")
        assert open_left == 0
        return alerts
    finally:
        await db.close()


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=counts, restarts=st.sets(st.integers(min_value=1, max_value=90), max_size=4))
def test_every_incident_is_opened_once_and_each_end_told_once(tmp_path_factory, values, restarts):
    tmp = tmp_path_factory.mktemp("identity")
    alerts = asyncio.run(replay(tmp, values, restarts))
    opened = Counter(incident for kind, incident in alerts if kind == "opened")
    assert all(n == 1 for n in opened.values())
    for incident in {i for _, i in alerts}:
        kinds = [kind for kind, i in alerts if i == incident and kind != "escalated"]
        # Told it opened, then each end once, and each surge after an end before the next end:
        # opened, resolved, (reopened, resolved)*. Nothing ends that was never told.
        assert kinds[0] == "opened" and kinds[-1] == "resolved", kinds
        assert kinds[1::2] == ["resolved"] * (len(kinds) // 2), kinds
        assert kinds[2::2] == ["reopened"] * ((len(kinds) - 1) // 2), kinds


def test_a_spike_in_the_current_hour_does_not_reopen_an_incident(tmp_path):
    """The issue's case: a surge raises this hour's baseline mid-incident; still one alert."""
    values = [5] * 8 + [300, 320, 40, 35, 310, 5, 5]
    alerts = asyncio.run(replay(tmp_path, values, restarts={10, 12}))
    assert [kind for kind, _ in alerts] == ["opened", "resolved"]


async def test_backtest_prints_what_the_subscriber_got_and_scores_it(tmp_path):
    """A labelled NAB-style file through the live path: one outage, hit at its start."""
    rows = ["timestamp,value"]
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(96 * 4):
        surge = 96 * 3 <= i < 96 * 3 + 6
        rows.append(f"{(at + i * BUCKET):%Y-%m-%d %H:%M:%S},{400 if surge else 20 + i % 5}")
    path = tmp_path / "series.csv"
    path.write_text("\n".join(rows) + "\n")
    labels = tmp_path / "windows.json"
    start = at + 96 * 3 * BUCKET
    labels.write_text(
        f'{{"series.csv": [["{start:%Y-%m-%d %H:%M:%S}", '
        f'"{start + 12 * BUCKET:%Y-%m-%d %H:%M:%S}"]]}}'
    )
    catalog = default_catalog()
    series = read_series(path, catalog, service="x", region="US", bucket=BUCKET)
    outcome = await backtest(series, tmp_path / "db.sqlite3", catalog, RULES, bucket=BUCKET)
    after_warmup = [a for a in outcome.alerts if a.at > at + timedelta(days=1)]
    assert [(a.kind, a.level, a.at) for a in after_warmup] == [
        ("opened", "outage", start + BUCKET),
        ("resolved", "outage", start + 10 * BUCKET),
    ]
    scores = score(series, outcome.alerts, read_windows(labels, "series.csv"), bucket=BUCKET)
    assert (scores.hits, scores.windows, scores.false_alerts) == (1, 1, 0)
    assert scores.median_delay == 1.0
    assert scores.nab["standard"] > 90

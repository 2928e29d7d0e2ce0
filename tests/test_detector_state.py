"""A refresh restores a pair's Detector from its stored state instead of re-walking its history.

A surge marks a thousand pairs dirty at once, far more than the detectors kept in memory; each
was rebuilt from six weeks of readings. Now the state stored with the watermark carries what
the baseline needs, so a restored Detector must judge every later reading exactly as the one
that was never put away, and a restarted refresh must judge by the weeks it no longer reads.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.catalog import default_catalog
from bot.core.detection import Change, Detector, Thresholds
from bot.engine.refresh import Summaries
from bot.render.card import prepare_summary
from storage.database import Database
from storage.imports import import_dataset
from storage.records import Dataset, Observation

RULES = Thresholds()
START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday
BUCKET = timedelta(minutes=15)
HISTORY = 4 * 7 * 96  # four weeks: the hour-of-week baseline, not only the cold start


def rows(counts: list[int]) -> list[Observation]:
    return [Observation("x", "PK", START + i * BUCKET, c, "Test") for i, c in enumerate(counts)]


def told(changes: list[Change]) -> list[tuple]:
    return [
        (c.kind, c.at, c.incident.start, c.incident.end, c.incident.level, c.previous_level)
        for c in changes
    ]


surges = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=30),
        st.integers(min_value=60, max_value=200),
        st.integers(min_value=400, max_value=2000),
    ),
    min_size=1,
    max_size=150,
)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), back=st.integers(0, 300), tail=surges)
def test_a_restored_detector_judges_every_later_reading_as_the_original(seed, back, tail):
    rng = random.Random(seed)
    # A daily rhythm with bumps and a few surges, so the state holds incidents, runs of
    # elevated readings and a residual pool; the cut falls anywhere in the last days or tail.
    history = [
        rng.randint(0, 8) + (20 if 32 <= i % 96 < 88 else 0) + (300 if rng.random() < 0.003 else 0)
        for i in range(HISTORY)
    ]
    series = rows(history + tail)
    cut = len(history) - back
    original = Detector(RULES, remember=0)
    for row in series[:cut]:
        original.step(row)
    restored = Detector.restored(original.state(), RULES)
    assert restored is not None and restored.decided == original.decided
    # The refresh hands over the stored incident, as after a rebuild.
    restored.resume(original.current.snapshot() if original.current else None)
    for row in series[cut:]:
        assert told(restored.step(row)) == told(original.step(row)), row.at
        assert restored.typical.get(row.at) == original.typical.get(row.at)
        assert restored.pending == original.pending
    assert told(restored.settle(series[-1].at + timedelta(days=1))) == told(
        original.settle(series[-1].at + timedelta(days=1))
    )


def test_a_state_made_under_other_rules_is_not_used():
    detector = Detector(RULES, remember=0)
    for row in rows([5] * 200):
        detector.step(row)
    assert Detector.restored(detector.state(), RULES) is not None
    assert Detector.restored(detector.state(), replace(RULES, z_elevated=5.0)) is None


def weekly(i: int) -> int:
    """About 100 reports a bucket, and 400 every Monday from 12:00 to 13:00."""
    at = START + i * BUCKET
    busy = at.weekday() == 0 and at.hour == 12
    return 400 if busy else 95 + (i * 7) % 11


async def test_a_restarted_refresh_judges_by_weeks_it_no_longer_reads(db: Database):
    """Monday noon is always busy here: four weeks taught that. After a restart, with only the
    last day still on record, the stored state still knows it, so 400 reports at Monday noon
    open nothing; rebuilt from that day alone, the same readings would be an outage."""
    catalog = default_catalog()
    counts = [weekly(i) for i in range(HISTORY + 48)]  # four weeks, up to Monday 12:00
    monday_noon = START + len(counts) * BUCKET
    assert monday_noon.weekday() == 0 and monday_noon.hour == 12
    await import_dataset(db, Dataset(observations=tuple(rows(counts))))
    await Summaries(db, catalog, RULES).refresh(monday_noon)
    async with db.transaction() as connection:
        await connection.execute(
            "DELETE FROM observations WHERE at < ?",
            (int((monday_noon - timedelta(days=1)).timestamp()),),
        )
    restarted = Summaries(db, catalog, RULES)  # nothing kept in memory
    surge = [Observation("x", "PK", monday_noon + k * BUCKET, 400, "Test") for k in range(3)]
    await import_dataset(db, Dataset(observations=tuple(surge)))
    report = await restarted.refresh(monday_noon + 3 * BUCKET)
    assert report.pairs == 1
    assert report.transitions == ()
    assert restarted.prepared[("x", "PK")].level == "normal"


async def test_a_restored_pair_prepares_the_card_a_full_walk_makes(db: Database):
    """A restored pair reads only the card's day (and date-only records a day earlier), not the
    weeks behind its baseline; its card is still the one made from the whole history."""
    catalog = default_catalog()
    counts = [weekly(i) for i in range(3 * 7 * 96)]
    end = START + len(counts) * BUCKET
    dated = [
        Observation("x", "PK", day, 900, "Press", precision="day")
        for day in (end - timedelta(days=2), end - timedelta(days=1))  # stored at 00:00
    ]
    await import_dataset(db, Dataset(observations=(*rows(counts), *dated)))
    await Summaries(db, catalog, RULES).refresh(end)
    restarted = Summaries(db, catalog, RULES)
    await import_dataset(db, Dataset(observations=(Observation("x", "PK", end, 97, "Test"),)))
    now = end + BUCKET
    await restarted.refresh(now)
    summary, _ = await restarted.compute(catalog.service("x"), catalog.region("PK"), now)
    assert restarted.prepared[("x", "PK")].card == prepare_summary(summary, now=now).card

"""What is typical for a pair at an hour of the week, and the zero buckets of crowd reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.baseline import typical_for, weekly_medians, with_quiet_buckets
from bot.core.detection import Thresholds, incidents_in
from storage.records import Observation

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


def reading(at: datetime, count: int, **extra) -> Observation:
    return Observation("x", "PK", at, count, "feed", **extra)


def weekly(counts: list[int], hours_back: int = 1) -> list[Observation]:
    """One reading at the same hour of the week, `len(counts)` weeks running, newest last."""
    at = NOW - timedelta(hours=hours_back)
    return [reading(at - timedelta(weeks=len(counts) - 1 - i), c) for i, c in enumerate(counts)]


def test_typical_is_the_median_of_the_same_hour_over_past_weeks():
    rows = weekly([10, 12, 900, 11, 13, 9])  # one outage week does not move the median
    typical = typical_for(rows, now=NOW, weeks=6)
    assert typical(NOW - timedelta(hours=1)) == 11.5


def test_fewer_than_three_weeks_give_no_typical_so_floors_decide():
    typical = typical_for(weekly([10, 12]), now=NOW, weeks=6)
    assert typical(NOW - timedelta(hours=1)) is None


def test_history_older_than_the_window_is_ignored():
    rows = weekly([500, 500, 500, 10, 10, 10], hours_back=1)
    assert weekly_medians(rows, now=NOW, weeks=3) == {
        (NOW - timedelta(hours=1)).weekday() * 24 + (NOW - timedelta(hours=1)).hour: 10.0
    }


def test_a_baseline_stated_by_the_source_wins():
    at = NOW - timedelta(minutes=30)
    rows = [*weekly([10, 10, 10, 10]), reading(at, 40, baseline=35.0)]
    assert typical_for(rows, now=NOW, weeks=6)(at) == 35.0


def test_typical_raises_the_bar_for_a_busy_pair():
    rows = [*weekly([100, 110, 90, 105], hours_back=0), reading(NOW, 180)]
    typical = typical_for(rows, now=NOW + timedelta(minutes=1), weeks=6)
    assert incidents_in(rows, typical, Thresholds(), NOW + timedelta(minutes=1)) == []
    assert incidents_in(rows, lambda _: None, Thresholds(), NOW + timedelta(minutes=1)) != []


def test_crowd_silence_becomes_zero_buckets_that_resolve_an_incident():
    start = NOW - timedelta(hours=2)
    crowd = [
        Observation("x", "PK", start + timedelta(minutes=15 * i), c, "crowd")
        for i, c in enumerate([60, 80])
    ]
    filled = with_quiet_buckets(crowd, source="crowd", now=NOW, bucket=timedelta(minutes=15))
    assert [row.count for row in filled[:4]] == [60, 80, 0, 0]
    [incident] = incidents_in(filled, lambda _: None, Thresholds(), NOW)
    assert incident.end == start + timedelta(minutes=30)
    [unfilled] = incidents_in(crowd, lambda _: None, Thresholds(), NOW)
    assert unfilled.ongoing  # without the zeros it would stay open for hours


@given(
    st.lists(st.integers(min_value=0, max_value=5_000), min_size=3, max_size=6),
    st.integers(min_value=1, max_value=20),
)
def test_scaling_every_week_scales_the_typical(counts, factor):
    at = NOW - timedelta(hours=1)
    plain = typical_for(weekly(counts), now=NOW, weeks=6)(at)
    scaled = typical_for(weekly([c * factor for c in counts]), now=NOW, weeks=6)(at)
    assert plain is not None and scaled is not None
    assert abs(scaled - plain * factor) < 1e-6


async def test_a_source_baseline_in_a_csv_file_decides_the_level(bot_harness, tmp_path):
    from bot.imports.files import load_dataset_file
    from storage.imports import import_dataset

    path = tmp_path / "busy.csv"
    path.write_text(
        "service,region,at,count,source,baseline\n"
        "youtube,us,2026-11-22T11:30:00Z,900,Feed,800\n"
        "youtube,us,2026-11-22T11:45:00Z,4000,Feed,800\n"
    )
    services = bot_harness.services
    await import_dataset(services.db, load_dataset_file(path, services.catalog))
    await bot_harness.services.summaries.refresh(bot_harness.clock.now())
    text = (await bot_harness.send("/status youtube us")).plain
    assert "Typical for this hour: 800 reports" in text
    assert "🔴 Outage now, since Sun 22 Nov 2026, 06:45 EST (11:45 UTC)" in text

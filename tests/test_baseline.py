"""What is typical for a pair at an hour of the week, and the zero buckets of crowd reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.baseline import Baseline, with_quiet_buckets
from bot.core.detection import Detector, Thresholds, incidents_in, timed
from storage.records import Observation

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


def reading(at: datetime, count: int, **extra) -> Observation:
    return Observation("x", "PK", at, count, "feed", **extra)


def weekly(counts: list[int], hours_back: int = 1) -> list[Observation]:
    """One reading at the same hour of the week, `len(counts)` weeks running, newest last."""
    at = NOW - timedelta(hours=hours_back)
    return [reading(at - timedelta(weeks=len(counts) - 1 - i), c) for i, c in enumerate(counts)]


def typical_at(rows: list[Observation], at: datetime, rules: Thresholds | None = None) -> float:
    """What the detector took as typical when it judged the reading at `at`."""
    detector = Detector(rules or Thresholds())
    for row in timed(rows):
        detector.step(row)
    value = detector.typical.get(at)
    assert value is not None
    return value


def test_typical_is_the_median_of_the_same_hour_over_earlier_weeks():
    rows = weekly([10, 12, 900, 11, 13, 9])  # one outage week does not move the median
    assert round(typical_at(rows, NOW - timedelta(hours=1))) == 12  # of 10, 12, 900, 11, 13


def test_fewer_than_three_weeks_and_no_recent_readings_give_no_typical_so_floors_decide():
    detector = Detector(Thresholds())
    for row in weekly([10, 12]):
        detector.step(row)
    assert detector.typical == {}
    assert detector.typical_at(NOW) is None


def test_a_cold_start_uses_the_same_hour_of_earlier_days():
    rows = [
        reading(NOW - timedelta(days=d, minutes=15 * k), 40 if d else 41)
        for d in (2, 1, 0)
        for k in range(4)
    ]
    assert round(typical_at(rows, NOW - timedelta(minutes=45))) == 40


def test_history_older_than_the_window_is_ignored():
    rows = weekly([500, 500, 500, 10, 10, 10, 10])
    assert round(typical_at(rows, NOW - timedelta(hours=1), Thresholds(weeks=3))) == 10


def test_a_baseline_stated_by_the_source_wins():
    at = NOW - timedelta(minutes=30)
    rows = [*weekly([10, 10, 10, 10]), reading(at, 40, baseline=35.0)]
    assert typical_at(rows, at) == 35.0


def test_typical_raises_the_bar_for_a_busy_pair():
    busy = [*weekly([100, 110, 90, 105], hours_back=0)]
    rows = [
        *busy,
        reading(NOW + timedelta(minutes=15), 180),
        reading(NOW + timedelta(minutes=30), 180),
    ]
    later = NOW + timedelta(hours=1)
    # The first weeks had nothing typical, so the floors judged them; 180 now is usual enough.
    assert [i for i in incidents_in(rows, Thresholds(), later) if i.last_seen >= NOW] == []
    assert incidents_in(rows[-2:], Thresholds(), later) != []  # nothing typical: floors decide


def test_the_spread_of_a_noisy_pair_is_measured_from_its_own_residuals():
    rules = Thresholds()
    quiet, noisy = Baseline(rules), Baseline(rules)
    for i in range(200):
        at = NOW + timedelta(minutes=15 * i)
        expected = quiet.expected(at) or noisy.expected(at)
        quiet.add(at, 100 + (i % 3), expected, clean=True)
        noisy.add(at, 100 + (i % 9) * 25, noisy.expected(at), clean=True)
    assert quiet.spread() == 1.0  # never below Poisson
    assert noisy.spread() > 2.0


def test_crowd_silence_becomes_zero_buckets_that_resolve_an_incident():
    start = NOW - timedelta(hours=2)
    crowd = [
        Observation("x", "PK", start + timedelta(minutes=15 * i), c, "crowd")
        for i, c in enumerate([60, 80])
    ]
    filled = with_quiet_buckets(crowd, source="crowd", now=NOW, bucket=timedelta(minutes=15))
    assert [row.count for row in filled[:4]] == [60, 80, 0, 0]
    [incident] = incidents_in(filled, Thresholds(), NOW)
    assert incident.end == start + timedelta(minutes=30)
    [unfilled] = incidents_in(crowd, Thresholds(), NOW)
    assert unfilled.ongoing  # without the zeros it would stay open for hours


weeks_before = st.integers(min_value=0, max_value=5_000)


@given(
    st.one_of(
        st.lists(weeks_before, min_size=4, max_size=4),
        st.lists(weeks_before, min_size=6, max_size=6),
    ),
    st.integers(min_value=1, max_value=20),
)
def test_scaling_every_week_scales_the_typical(counts, factor):
    """With an odd number of earlier weeks the typical is one week's count, so it scales with
    them (within Anscombe's 3/8 per factor: the median is taken on that scale)."""
    at = NOW - timedelta(hours=1)
    plain = typical_at(weekly(counts), at)
    scaled = typical_at(weekly([c * factor for c in counts]), at)
    assert abs(scaled - plain * factor) <= 0.375 * factor + 1e-6


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

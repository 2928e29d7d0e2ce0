"""Levels and incidents: pure functions, tested directly and with hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.baseline import Expected, anscombe
from bot.core.detection import Detector, Thresholds, incidents_in, level_for
from storage.records import Observation

START = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
RULES = Thresholds()


def series(counts: list[int], step_minutes: int = 15) -> list[Observation]:
    return [
        Observation("x", "PK", START + timedelta(minutes=step_minutes * i), count, "test")
        for i, count in enumerate(counts)
    ]


def test_level_uses_floors_when_nothing_is_typical():
    assert level_for(19, None, RULES) == "normal"
    assert level_for(20, None, RULES) == "elevated"
    assert level_for(50, None, RULES) == "outage"


def typical(count: float, spread: float = 1.0) -> Expected:
    return Expected(anscombe(count), spread, "week")


def test_level_asks_how_unlikely_a_count_is_for_the_pair():
    assert level_for(150, typical(100), RULES) == "normal"  # z ≈ 4.5: a bump
    assert level_for(200, typical(100), RULES) == "elevated"  # z ≈ 8.2
    assert level_for(500, typical(100), RULES) == "outage"  # z ≈ 24.7 and 5× typical


def test_a_noisy_pair_needs_a_bigger_surge():
    assert level_for(200, typical(100, spread=3.0), RULES) == "normal"
    assert level_for(400, typical(100, spread=3.0), RULES) == "elevated"  # 4×, z ≈ 6.8 only


def test_a_small_pair_is_not_alarmed_by_a_few_reports():
    assert level_for(8, typical(0), RULES) == "normal"  # z ≈ 4.5, and under the floor of 10
    assert level_for(15, typical(0), RULES) == "elevated"  # z ≈ 6.6


def test_x_pakistan_counts_make_one_incident_peaking_at_136():
    pkt = [65, 74, 109, 136, 45]
    times = [(10, 2), (10, 8), (16, 32), (18, 6), (19, 6)]
    rows = [
        Observation("x", "PK", START.replace(hour=h, minute=m), c, "s")
        for (h, m), c in zip(times, pkt, strict=True)
    ]
    [incident] = incidents_in(rows, RULES, START + timedelta(days=1))
    assert incident.peak.count == 136
    assert incident.start == START.replace(minute=2)
    assert incident.end == START.replace(hour=19, minute=6)


def test_incident_is_ongoing_until_quiet_for_long_enough():
    rows = series([60, 70])
    [live] = incidents_in(rows, RULES, START + timedelta(hours=1))
    assert live.ongoing
    [done] = incidents_in(rows, RULES, START + timedelta(hours=12))
    assert not done.ongoing


def test_hysteresis_needs_n_buckets_to_enter_and_m_to_leave():
    rules = Thresholds(enter_after=2, leave_after=2)
    late = START.replace(hour=23)
    assert incidents_in(series([30, 0, 30, 0]), rules, late) == []
    [incident] = incidents_in(series([30, 30, 0, 30, 0, 0]), rules, late)
    assert incident.start == START
    assert incident.end == START + timedelta(minutes=60)  # back to normal at the first quiet one


def test_an_outage_reading_opens_at_once():
    [incident] = incidents_in(series([60, 0, 0, 0, 0]), RULES, START.replace(hour=23))
    assert (incident.start, incident.end) == (START, START + timedelta(minutes=15))


def test_a_surge_within_the_cooldown_continues_the_same_incident():
    detector = Detector(RULES)
    kinds = [c.kind for row in series([60, 0, 0, 0, 0, 0, 0, 60]) for c in detector.step(row)]
    assert kinds == ["opened", "resolved", "reopened"]
    [incident] = detector.incidents()
    assert incident.ongoing and incident.start == START


def test_a_steady_busy_pair_learns_its_normal_and_stays_quiet():
    """Above the bare floors every bucket, yet normal for this pair: no endless incident."""
    counts = [80 + (i * 7) % 11 for i in range(96 * 3)]
    found = incidents_in(series(counts), RULES, START + timedelta(days=4))
    assert all(not i.ongoing for i in found)
    assert sum(1 for i in found) <= 1  # the very first readings, judged by the floors alone


def test_a_surge_over_a_learned_baseline_is_found_within_two_buckets():
    counts = [80 + (i * 7) % 11 for i in range(96 * 3)] + [400, 420, 410]
    found = incidents_in(series(counts), RULES, START + timedelta(days=4))
    assert found[-1].start == START + timedelta(minutes=15 * 96 * 3)
    assert found[-1].level == "outage"


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=60))
def test_an_incident_peak_is_the_largest_count_in_it(counts):
    for incident in incidents_in(series(counts), RULES, START + timedelta(days=2)):
        assert incident.peak.count == max(row.count for row in incident.observations)


@given(
    st.integers(min_value=0, max_value=100_000),
    st.integers(min_value=0, max_value=100_000),
    st.floats(min_value=0, max_value=5_000),
    st.floats(min_value=1, max_value=20),
)
def test_more_reports_never_lower_the_level_and_more_noise_never_raises_it(a, b, usual, spread):
    low, high = sorted((a, b))
    rank = {"normal": 0, "elevated": 1, "outage": 2}
    expected = Expected(anscombe(usual), spread, "week")
    noisier = Expected(anscombe(usual), spread * 2, "week")
    assert rank[level_for(low, expected, RULES)] <= rank[level_for(high, expected, RULES)]
    assert rank[level_for(high, noisier, RULES)] <= rank[level_for(high, expected, RULES)]


@given(st.lists(st.integers(min_value=16, max_value=24), min_size=1, max_size=80))
def test_a_series_hovering_at_the_threshold_opens_at_most_one_incident(counts):
    """The elevated bar is 20 reports; readings between 16 and 24 never flap an incident."""
    assert len(incidents_in(series(counts), RULES, START + timedelta(days=2))) <= 1


def test_an_open_incident_needs_a_real_drop_to_resolve():
    rules = Thresholds(leave_after=1)
    [incident] = incidents_in(series([25, 25, 17, 16, 14]), rules, START.replace(hour=23))
    assert incident.end == START + timedelta(minutes=60)  # 14 is under 75% of 20; 16 and 17 not

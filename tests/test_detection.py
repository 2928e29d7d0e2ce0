"""Levels and incidents: pure functions, tested directly and with hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.detection import Thresholds, incidents_in, level_for
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


def test_level_compares_with_typical_when_known():
    assert level_for(150, 100.0, RULES) == "normal"
    assert level_for(200, 100.0, RULES) == "elevated"
    assert level_for(400, 100.0, RULES) == "outage"


def test_x_pakistan_counts_make_one_incident_peaking_at_136():
    pkt = [65, 74, 109, 136, 45]
    times = [(10, 2), (10, 8), (16, 32), (18, 6), (19, 6)]
    rows = [
        Observation("x", "PK", START.replace(hour=h, minute=m), c, "s")
        for (h, m), c in zip(times, pkt, strict=True)
    ]
    [incident] = incidents_in(rows, lambda _: None, RULES, START + timedelta(days=1))
    assert incident.peak.count == 136
    assert incident.start == START.replace(minute=2)
    assert incident.end == START.replace(hour=19, minute=6)


def test_incident_is_ongoing_until_quiet_for_long_enough():
    rows = series([60, 70])
    [live] = incidents_in(rows, lambda _: None, RULES, START + timedelta(hours=1))
    assert live.ongoing
    [done] = incidents_in(rows, lambda _: None, RULES, START + timedelta(hours=12))
    assert not done.ongoing


def test_hysteresis_needs_n_buckets_to_enter_and_m_to_leave():
    rules = Thresholds(enter_after=2, leave_after=2)
    assert incidents_in(series([60, 0, 60, 0]), lambda _: None, rules, START.replace(hour=23)) == []
    [incident] = incidents_in(
        series([60, 60, 0, 60, 0, 0]), lambda _: None, rules, START.replace(hour=23)
    )
    assert incident.start == START
    assert incident.end == START + timedelta(minutes=75)


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=60))
def test_an_incident_peak_is_the_largest_count_in_it(counts):
    for incident in incidents_in(series(counts), lambda _: None, RULES, START + timedelta(days=2)):
        assert incident.peak.count == max(row.count for row in incident.observations)


@given(
    st.lists(st.integers(min_value=0, max_value=1_000), min_size=1, max_size=60),
    st.integers(min_value=2, max_value=50),
)
def test_scaling_counts_and_typical_together_changes_nothing(counts, factor):
    rules = Thresholds(elevated_floor=0, outage_floor=0)
    plain = incidents_in(series(counts), lambda _: 10.0, rules, START + timedelta(days=2))
    scaled = incidents_in(
        series([c * factor for c in counts]),
        lambda _: 10.0 * factor,
        rules,
        START + timedelta(days=2),
    )
    assert [(i.start, i.end, i.level) for i in plain] == [(i.start, i.end, i.level) for i in scaled]


@given(st.lists(st.integers(min_value=16, max_value=24), min_size=1, max_size=80))
def test_a_series_hovering_at_the_threshold_opens_at_most_one_incident(counts):
    """The elevated bar is 20 reports; readings between 16 and 24 never flap an incident."""
    assert len(incidents_in(series(counts), lambda _: None, RULES, START + timedelta(days=2))) <= 1


def test_an_open_incident_needs_a_real_drop_to_resolve():
    [incident] = incidents_in(
        series([25, 17, 16, 14]), lambda _: None, RULES, START.replace(hour=23)
    )
    assert incident.end == START + timedelta(minutes=45)  # 14 is under 75% of 20; 16 and 17 not

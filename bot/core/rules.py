"""Every knob of detection in one frozen record, so a deployment can override each one.

Its own module so the baseline and the detector both read it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

BUCKET = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Every knob of detection; each is an `OUTAGEBOT_*` setting (README, docs/detection.md)."""

    # Levels: robust z on the Anscombe scale. News and outage tails are far heavier than
    # Gaussian, so the bars sit far out (6 and 15), set on labelled real series.
    z_elevated: float = 6.0
    z_outage: float = 15.0
    outage_ratio: float = 4.0  # an outage is also at least this many times typical
    elevated_floor: int = 10  # fewer reports than this never matter
    outage_floor: int = 25
    bare_elevated: int = 20  # with nothing typical known, the floors decide alone
    bare_outage: int = 50
    # Incidents
    enter_after: int = 2  # elevated readings running that open one (an outage opens at once)
    z_stay: float = 3.0  # while open, a reading this unusual keeps it going
    leave_after: int = 4  # readings running under that bar that resolve it
    cooldown: timedelta = timedelta(hours=12)  # a new surge this soon continues the last one
    # Press figures arrive hours apart; a gap shorter than this keeps one incident open.
    quiet_after: timedelta = timedelta(hours=8)
    learn_after: timedelta = timedelta(days=1)  # this deep in an incident, it is the new normal
    # A surge no higher than this many earlier ones within `routine_window` is routine for the
    # pair (a spam wave, a daily rush): it opens nothing until it outgrows them. 0: never.
    routine_after: int = 3
    routine_window: timedelta = timedelta(days=7)  # at most `spread_days`: `warm` judges those
    # Baseline
    bucket: timedelta = BUCKET
    weeks: int = 6
    min_weeks: int = 3
    cold_days: int = 7
    min_cold_days: int = 2
    recent_buckets: int = 96
    min_recent: int = 16
    spread_days: float = 7.0
    min_spread: int = 48

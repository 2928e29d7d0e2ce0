"""How well alerts match labelled anomaly windows: NAB's scoring, pure.

An operator tunes settings on their own labelled history with `outagebot backtest`, and the
project judges its detector on NAB's real series, so the score must be NAB's own: rows of the
file, the probation at its start, windows that reward the earliest alert, and false alerts that
cost less when they trail a window. See ../shared/detection/README.md.

- rows before the probation (15 % of the rows, at most 750) are not scored;
- inside a window only the earliest alert counts: A_TP × S(y) / S(−1), where
  y = −(right − i + 1) / width runs from −1 at the window's left edge towards 0 at its right edge
  and S(y) = 2 / (1 + e^(5y)) − 1, so the left edge earns exactly A_TP;
- a window with no alert costs A_FN;
- an alert outside every window costs A_FP × S(d / (w − 1)) (a negative number), d rows past
  the end of the previous window of width w; before the first window, the full A_FP.
Normalised over files: 100 × (S − S_null) / (S_perfect − S_null).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    tp: float
    fp: float
    fn: float


STANDARD = Profile("standard", tp=1.0, fp=0.11, fn=1.0)
LOW_FP = Profile("low FP", tp=1.0, fp=0.22, fn=1.0)
LOW_FN = Profile("low FN", tp=1.0, fp=0.11, fn=2.0)
PROFILES = (STANDARD, LOW_FP, LOW_FN)

Window = tuple[int, int]  # first and last row, inclusive


@dataclass(frozen=True, slots=True)
class FileScore:
    """One file under one profile."""

    raw: float
    windows: int  # windows with at least one scored row
    hits: int
    false_alerts: int  # alerts outside every window, after probation
    delays: tuple[int, ...]  # rows from each hit window's start to its first alert


def sigmoid(y: float) -> float:
    """NAB's scaled sigmoid: 1 far before, 0 at y = 0, −1 from y = 3 on."""
    if y >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation(rows: int) -> int:
    return int(min(math.floor(0.15 * rows), 0.15 * 5000))


def window_rows(
    times: Sequence[datetime], windows: Iterable[tuple[datetime, datetime]]
) -> list[Window]:
    """Labelled windows as row indices (NAB windows start and end on rows)."""
    return [(bisect_left(times, a), bisect_right(times, b) - 1) for a, b in windows]


def alert_rows(times: Sequence[datetime], alerts: Iterable[datetime]) -> list[int]:
    """An alert belongs to the first row at or after the moment it was known."""
    rows = []
    for at in alerts:
        row = bisect_left(times, at)
        if row < len(times):
            rows.append(row)
    return rows


def score_file(
    rows: int, windows: Sequence[Window], alerts: Iterable[int], profile: Profile = STANDARD
) -> FileScore:
    start = probation(rows)
    scored = [(left, right) for left, right in windows if right >= start]
    best: dict[int, float] = {}
    first: dict[int, int] = {}
    cost, false_alerts = 0.0, 0
    for row in sorted({a for a in alerts if start <= a < rows}):
        inside = next((k for k, (left, right) in enumerate(scored) if left <= row <= right), None)
        if inside is not None:
            left, right = scored[inside]
            earned = sigmoid(-(right - row + 1) / (right - left + 1)) * profile.tp / sigmoid(-1.0)
            if inside not in best or earned > best[inside]:
                best[inside], first[inside] = earned, row - left
            continue
        before = [(left, right) for left, right in windows if right < row]
        if before:
            left, right = before[-1]
            y = abs(right - row) / float(right - left)
        else:
            y = 3.0
        cost += sigmoid(y) * profile.fp
        false_alerts += 1
    raw = cost + sum(best.values()) - profile.fn * (len(scored) - len(best))
    return FileScore(
        raw, len(scored), len(best), false_alerts, tuple(first[k] for k in sorted(first))
    )


def normalised(scores: Sequence[FileScore], profile: Profile = STANDARD) -> float:
    """100 for an alert at every window's start, 0 for never alerting, over all files."""
    windows = sum(score.windows for score in scores)
    if windows == 0:
        return 0.0
    null, perfect = -profile.fn * windows, profile.tp * windows
    return 100.0 * (sum(score.raw for score in scores) - null) / (perfect - null)

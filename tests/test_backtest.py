"""`outagebot backtest` as an operator runs it, and the NAB scoring it prints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.scoring import LOW_FN, LOW_FP, PROFILES, STANDARD, normalised, score_file
from tests.test_cli import clean_env, outagebot

START = datetime(2026, 1, 1, tzinfo=UTC)
BUCKET = timedelta(minutes=15)


def nab_file(folder: Path, surge_at: int, days: int = 4) -> tuple[Path, Path]:
    """A NAB-style series with 5-minute rows, one labelled surge, and its windows.json."""
    lines = ["timestamp,value"]
    step = timedelta(minutes=5)
    for i in range(days * 288):
        value = 300 if surge_at <= i < surge_at + 18 else 7 + i % 4
        lines.append(f"{(START + i * step):%Y-%m-%d %H:%M:%S},{value}")
    series = folder / "series.csv"
    series.write_text("\n".join(lines) + "\n")
    start = START + surge_at * step
    labels = folder / "windows.json"
    window = [f"{start:%Y-%m-%d %H:%M:%S}", f"{start + timedelta(hours=3):%Y-%m-%d %H:%M:%S}"]
    labels.write_text(json.dumps({"series.csv": [window]}))
    return series, labels


@pytest.mark.process
def test_backtest_prints_each_alert_and_the_scores(tmp_path):
    series, labels = nab_file(tmp_path, surge_at=3 * 288)
    done = outagebot(
        "backtest",
        str(series),
        "--labels",
        str(labels),
        env=clean_env(tmp_path),
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "2026-01-04 00:15 UTC  x US  opened    outage   incident" in done.stdout
    assert any("resolved" in line and "2026-01-04" in line for line in lines)
    assert "0 opened twice, 0 never resolved" in done.stdout
    assert "windows hit 1/1; false alerts 0 (0.0 per series-month)" in done.stdout
    assert "median delay from window start 1 buckets" in done.stdout


@pytest.mark.process
def test_backtest_json_is_one_object_per_alert_then_the_scores(tmp_path):
    series, labels = nab_file(tmp_path, surge_at=3 * 288)
    done = outagebot(
        "backtest",
        str(series),
        "--labels",
        str(labels),
        "--json",
        env=clean_env(tmp_path),
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    alerts, final = objects[:-1], objects[-1]
    assert {"at", "kind", "level", "incident", "service", "region"} <= set(alerts[0])
    assert {"at": "2026-01-04T00:15:00Z", "kind": "opened", "level": "outage"}.items() <= (
        next(a for a in alerts if a["at"].startswith("2026-01-04")).items()
    )
    assert final["scores"]["windows_hit"] == 1
    assert final["scores"]["nab"]["standard"] > 90
    assert final["summary"]["duplicate_openings"] == 0


@pytest.mark.process
def test_backtest_of_a_bad_file_says_what_is_wrong_in_one_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,value\nyesterday,many\n")
    done = outagebot("backtest", str(bad), env=clean_env(tmp_path), cwd=tmp_path)
    assert done.returncode == 1
    assert "line 2: expected an ISO time and a number" in done.stderr
    assert "Traceback" not in done.stderr
    bucket = outagebot(
        "backtest", str(bad), "--bucket", "soon", env=clean_env(tmp_path), cwd=tmp_path
    )
    assert "is not a bucket size like 15m or 1h" in bucket.stderr


WINDOWS = [(1000, 1100), (2000, 2300), (3000, 3050)]


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.name)
def test_never_alerting_scores_0_and_alerting_at_each_window_start_scores_100(profile):
    assert normalised([score_file(4000, WINDOWS, [], profile)], profile) == 0
    perfect = score_file(4000, WINDOWS, [left for left, _ in WINDOWS], profile)
    assert normalised([perfect], profile) == pytest.approx(100)


def test_a_late_alert_earns_less_and_a_false_alert_costs_more_far_from_a_window():
    early = score_file(4000, WINDOWS, [1000, 2000, 3000]).raw
    late = score_file(4000, WINDOWS, [1090, 2000, 3000]).raw
    assert late < early
    near = score_file(4000, WINDOWS, [1000, 2000, 3000, 1110]).raw
    far = score_file(4000, WINDOWS, [1000, 2000, 3000, 1900]).raw
    assert far < near < early
    assert score_file(4000, WINDOWS, [1000, 1900]).false_alerts == 1


def test_scores_match_nab_s_own_arithmetic_on_a_worked_case():
    # One alert 25 rows into a 101-row window, one 50 rows past it; probation is 600 rows.
    result = score_file(4000, [(1000, 1100)], [1025, 1150], STANDARD)
    y = -(1100 - 1025 + 1) / 101
    tp = (2 / (1 + 2.718281828459045 ** (5 * y)) - 1) / (2 / (1 + 2.718281828459045**-5) - 1)
    fp = 0.11 * (2 / (1 + 2.718281828459045 ** (5 * 50 / 100)) - 1)
    assert result.raw == pytest.approx(tp + fp)
    assert normalised([result], LOW_FP) != normalised([result], LOW_FN)


@given(st.lists(st.integers(min_value=0, max_value=3999), max_size=30))
def test_more_false_alerts_never_score_higher(alerts):
    base = score_file(4000, WINDOWS, alerts)
    outside = [a for a in range(3100, 4000, 97) if a not in alerts]
    assert score_file(4000, WINDOWS, [*alerts, *outside]).raw <= base.raw + 1e-12

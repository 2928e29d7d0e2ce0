"""`outagebot backtest FILE [--labels windows.json] [--bucket 15m] [--json]`: print it."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from bot.config.settings import Settings
from bot.core.catalog import default_catalog
from bot.engine.backtest import Alert, Scores, backtest, read_series, read_windows, score
from bot.imports.reading import DatasetError
from bot.runtime.state import thresholds


async def backtest_file(settings: Settings, args: argparse.Namespace) -> int:
    catalog = default_catalog()
    bucket = timedelta(minutes=args.bucket or settings.bucket_minutes)
    rules = replace(thresholds(settings), bucket=bucket)
    try:
        catalog.service(args.service), catalog.region(args.region.upper())
    except KeyError:
        print(f"outagebot: unknown pair {args.service} {args.region}", file=sys.stderr)
        return 2
    try:
        series = read_series(
            args.file, catalog, service=args.service, region=args.region.upper(), bucket=bucket
        )
        windows = read_windows(args.labels, args.file.name) if args.labels else None
    except DatasetError as error:
        print(f"{args.file}: cannot backtest:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    say = _json_line if args.json else _text_line
    with tempfile.TemporaryDirectory(prefix="outagebot-backtest-") as folder:
        outcome = await backtest(
            series, Path(folder) / "backtest.sqlite3", catalog, rules, bucket=bucket, on_alert=say
        )
    scores = score(series, outcome.alerts, windows, bucket=bucket) if windows else None
    summary = {
        "series": series.name,
        "alerts": len(outcome.alerts),
        "opened": sum(a.kind == "opened" for a in outcome.alerts),
        "incidents": outcome.incidents,
        "duplicate_openings": outcome.duplicate_openings,
        "unresolved": outcome.unresolved,
        "reopened": outcome.reopenings,
    }
    if args.json:
        print(json.dumps({"summary": summary, "scores": scores.as_json() if scores else None}))
        return 0
    print(
        f"{series.name}: {summary['alerts']} alerts for {outcome.incidents} incidents"
        f" ({summary['opened']} opened, {outcome.duplicate_openings} opened twice,"
        f" {outcome.unresolved} never resolved, {outcome.reopenings} surges within the"
        " cooldown told as 'reports up again' on the same incident)"
    )
    if scores:
        print(_score_text(scores))
    return 0


def _text_line(alert: Alert) -> None:
    print(
        f"{alert.at:%Y-%m-%d %H:%M} UTC  {alert.service} {alert.region}  {alert.kind:<9}"
        f" {alert.level:<8} incident {alert.incident}"
    )


def _json_line(alert: Alert) -> None:
    print(json.dumps(alert.as_json()), flush=True)


def _score_text(scores: Scores) -> str:
    per_month = scores.false_alerts / scores.months if scores.months else float("nan")
    delay = "—" if scores.median_delay is None else f"{scores.median_delay:g} buckets"
    nab = ", ".join(f"{name} {value:.1f}" for name, value in scores.nab.items())
    return (
        f"windows hit {scores.hits}/{scores.windows}; false alerts {scores.false_alerts}"
        f" ({per_month:.1f} per series-month); median delay from window start {delay}\n"
        f"NAB: {nab}"
    )

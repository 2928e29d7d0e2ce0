"""What /sources and `outagebot sources check` say: one place, pure functions of their inputs."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime

from bot.render.timefmt import ago_text, duration_text
from bot.sources.adapter import SourceConfig
from bot.sources.config import SourcesFileError
from bot.sources.runner import RunReport
from storage.source_health import EVERY, Pair, SourceHealth

SOURCES_ADMINS_ONLY = "Only the bot's admins can see its sources."
NO_SOURCES = (
    "No outside sources are configured, so the bot answers from imports and reports alone.\n"
    "To add status pages, IODA and OONI, set OUTAGEBOT_SOURCES_FILE to a sources file "
    "(format: docs/sources.md) and restart the bot."
)
DETAIL_LIMIT = 200


def esc(text: str) -> str:
    return html.escape(text, quote=False)


def every_text(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"every {int(seconds // 3600)} h"
    if seconds % 60 == 0:
        return f"every {int(seconds // 60)} min"
    return f"every {seconds:g} s"


def targets_text(targets: Sequence[Pair], limit: int = 6) -> str:
    """`X in PK, IR` / `every service in PK` / `Discord everywhere`, shortened past `limit`."""
    if not targets:
        return "nothing yet (no subscriptions or restrictions to follow)"
    words = []
    for service, region in targets:
        if service == EVERY and region == EVERY:
            words.append("everything")
        elif service == EVERY:
            words.append(region)
        elif region == EVERY:
            words.append(f"{service} everywhere")
        else:
            words.append(f"{service} in {region}")
    shown = ", ".join(words[:limit])
    more = len(words) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def file_problems_text(error: SourcesFileError) -> str:
    lines = [f"The sources file {esc(str(error.path))} could not be used, so no source runs:"]
    lines += [f"• {esc(problem)}" for problem in error.problems]
    return "\n".join(lines)


def source_block(
    config: SourceConfig,
    health: SourceHealth | None,
    targets: Sequence[Pair],
    now: datetime,
) -> str:
    head = f"<b>{esc(config.name)}</b> · {esc(config.kind)} · {every_text(config.interval)}"
    watching = f"watching {esc(targets_text(targets))}"
    if health is None or health.last_run_at is None:
        return f"⏳ {head}\n    not run yet · {watching}"
    if health.failing:
        runs = health.consecutive_failures
        since = health.failing_since or health.last_run_at
        detail = health.last_error_detail or ""
        reason = esc(health.last_error or "unknown error")
        if detail:
            reason += f" ({esc(detail[:DETAIL_LIMIT])})"
        last = (
            f"last success {ago_text(now - health.last_success_at)}"
            if health.last_success_at
            else "never succeeded"
        )
        return (
            f"❌ {head}\n    failing for {duration_text(now - since)}"
            f" ({runs} run{'s' if runs != 1 else ''}): {reason}\n    {last} · {watching}"
        )
    assert health.last_success_at is not None
    items = health.items_last_run
    return (
        f"✅ {head}\n    last success {ago_text(now - health.last_success_at)}"
        f" · {items} item{'s' if items != 1 else ''} · {watching}"
    )


def sources_status_text(
    configs: Sequence[SourceConfig],
    health: Mapping[str, SourceHealth],
    targets: Mapping[str, Sequence[Pair]],
    now: datetime,
    *,
    path: str,
) -> str:
    """/sources: each configured source with how it is doing, failing ones first."""
    if not configs:
        return f"The sources file {esc(path)} lists no sources."

    def order(config: SourceConfig) -> tuple[int, str]:
        row = health.get(config.name)
        state = 0 if row is not None and row.failing else 2 if row is None else 1
        return state, config.name.casefold()

    failing = sum(1 for c in configs if (h := health.get(c.name)) is not None and h.failing)
    header = f"<b>Outside sources</b> ({len(configs)}, from {esc(path)})"
    if failing:
        header += f"\n{failing} failing: their lines on cards may be out of date."
    blocks = [
        source_block(c, health.get(c.name), targets.get(c.name, ()), now)
        for c in sorted(configs, key=order)
    ]
    return "\n\n".join([header, *blocks])


def check_table(reports: Sequence[RunReport]) -> str:
    """`outagebot sources check`: one row per source, what came back or why not."""
    rows = [("source", "kind", "targets", "result", "time")]
    for report in reports:
        result = f"ok: {report.summary}" if report.ok else f"failed: {report.error}"
        if not report.ok and report.detail:
            result += f" ({report.detail})"
        rows.append(
            (report.name, report.kind, str(len(report.targets)), result, f"{report.seconds:.1f} s")
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4]
        for row in rows
    ]
    ok = sum(1 for r in reports if r.ok)
    lines.append(f"{ok} of {len(reports)} source{'s' if len(reports) != 1 else ''} answered.")
    return "\n".join(lines)

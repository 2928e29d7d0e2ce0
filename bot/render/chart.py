"""A PNG chart of a pair's reports against what is typical: pure, data in, bytes out.

matplotlib's object API with the Agg canvas (no pyplot and its global state), so charts can be
drawn in a worker thread while the event loop keeps answering. Times are drawn in the region's
local time, and the axis names the zone.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from datetime import datetime, timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, DateFormatter
from matplotlib.figure import Figure

from bot.core.detection import Thresholds
from bot.core.summaries import PairSummary
from bot.render.card import EVENT_TAGS
from bot.render.i18n import DEFAULT, _, use_language
from bot.render.timefmt import local, offset_label, partial_date_text, zone, zone_label

WIDTH, HEIGHT, DPI = 1000, 500, 100
GAP = timedelta(hours=1)
# An event's legend entry: what happened and who said it, each cut to fit one legend line.
EVENT_CHARS, SOURCE_CHARS = 44, 22
LEGEND_EVENTS = 6
LEVEL_COLOURS = {"normal": "#2e7d32", "elevated": "#ef6c00", "outage": "#c62828"}


def chart_window(summary: PairSummary, now: datetime) -> tuple[datetime, datetime]:
    """The incident's window when there is one, else the 24 hours before the latest reading."""
    timed = [row.at for row in summary.counts if row.precision == "minute"]
    if summary.incident is not None:
        end = summary.incident.end or now
        return summary.incident.start - timedelta(hours=1), end + timedelta(hours=1)
    last = max(timed) if timed else now
    return last - timedelta(hours=24), last + timedelta(minutes=30)


def event_labels(
    summary: PairSummary, start: datetime, end: datetime
) -> list[tuple[datetime, str]]:
    """Each timed event in the window with its legend entry, saying what happened and who said
    it: `1. 15:02 statement: X was seeing international outages… (NetBlocks)`. The line on the
    chart carries only the number, so nothing is cut off where the lines crowd together."""
    tz_name = summary.region.timezone
    found = [e for e in summary.events if e.precision == "minute" and start <= e.at <= end]
    labels = []
    for number, event in enumerate(sorted(found, key=lambda e: e.at), start=1):
        what = event.text if len(event.text) <= EVENT_CHARS else event.text[: EVENT_CHARS - 1]
        what = what.rstrip() + ("…" if len(event.text) > EVENT_CHARS else "")
        source = event.source.split(",")[0]
        source = source if len(source) <= SOURCE_CHARS else source[: SOURCE_CHARS - 1] + "…"
        at = local(event.at, tz_name).strftime("%H:%M")
        kind = _(EVENT_TAGS.get(event.kind, event.kind))
        labels.append((event.at, f"{number}. {at} {kind}: {what} ({source})"))
    return labels


def render_chart(summary: PairSummary, *, now: datetime, rules: Thresholds | None = None) -> bytes:
    """Reports vs typical for the pair, events and a restriction's start marked; PNG bytes.

    Always in English: matplotlib does not shape Arabic script or reorder right-to-left text, so
    Urdu labels would come out as disconnected letters in the wrong order; and the chart cache is
    keyed by the data, not the language. The caption around it is translated.
    """
    figure = chart_figure(summary, now=now, rules=rules)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_figure(summary: PairSummary, *, now: datetime, rules: Thresholds | None = None) -> Figure:
    """The chart before it becomes pixels, so what it says (its legend) can be read back."""
    with use_language(DEFAULT):
        return _draw(summary, now=now, rules=rules or Thresholds())


def _draw(summary: PairSummary, *, now: datetime, rules: Thresholds) -> Figure:
    tz_name = summary.region.timezone
    tz = zone(tz_name)
    start, end = chart_window(summary, now)
    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    rows = [r for r in summary.counts if r.precision == "minute" and start <= r.at <= end]
    level = summary.incident.level if summary.incident else summary.level
    colour = LEVEL_COLOURS.get(level, "#1565c0")
    if rows:
        times = [local(r.at, tz_name) for r in rows]
        axes.plot(
            times,
            [r.count for r in rows],
            marker="o",
            linestyle="none",
            color=colour,
            label="reports",
        )
        for before, after, t0, t1 in zip(rows, rows[1:], times, times[1:], strict=False):
            # Readings hours apart say nothing about the hours between: draw that gap dotted.
            gap = after.at - before.at > GAP
            axes.plot(
                [t0, t1],
                [before.count, after.count],
                color="#9e9e9e" if gap else colour,
                linestyle=":" if gap else "-",
                linewidth=1 if gap else 2,
            )
    typical = [(at, v) for at, v in summary.typical_series if start <= at <= end]
    if typical:
        axes.plot(
            [local(at, tz_name) for at, _ in typical],
            [v for _, v in typical],
            linestyle="--",
            color="#607d8b",
            label="typical",
        )
    else:
        axes.axhline(
            rules.bare_elevated,
            linestyle=":",
            color="#ef6c00",
            label=f"elevated from {rules.bare_elevated} (no typical known)",
        )
        axes.axhline(
            rules.bare_outage,
            linestyle=":",
            color="#c62828",
            label=f"outage from {rules.bare_outage}",
        )
    top = max([r.count for r in rows] + [rules.bare_outage, *(v for _, v in typical)])
    labelled = event_labels(summary, start, end)
    for index, (at, label) in enumerate(labelled):
        when = local(at, tz_name)
        # The legend says what each numbered line was; past a few, the timeline has the rest.
        legend = label if index < LEGEND_EVENTS else "_"
        axes.axvline(when, color="#5e35b1", alpha=0.5, label=legend)
        axes.annotate(
            str(index + 1),
            (when, top * (0.95 - 0.08 * (index % 4))),
            fontsize=8,
            color="#5e35b1",
            ha="left",
        )
    if len(labelled) > LEGEND_EVENTS:
        more = len(labelled) - LEGEND_EVENTS
        axes.plot([], [], " ", label=f"+{more} more events: /timeline")
    for restriction in summary.restrictions:
        begun = restriction.start.start_instant()
        if start <= begun <= end:
            axes.axvline(local(begun, tz_name), color="black", linewidth=2)
            axes.annotate(
                f"{restriction.kind} since {partial_date_text(restriction.start)}",
                (local(begun, tz_name), top * 0.5),
                fontsize=9,
            )
    axes.set_xlim(local(start, tz_name), local(end, tz_name))
    axes.set_ylim(bottom=0, top=top * 1.1)
    axes.xaxis.set_major_locator(AutoDateLocator(tz=tz))
    axes.xaxis.set_major_formatter(DateFormatter("%d %b\n%H:%M", tz=tz))
    label = zone_label(start, tz_name)
    offset = offset_label(local(start, tz_name).utcoffset())
    axes.set_xlabel(f"Local time, {tz_name} ({label}, {offset})")
    axes.set_ylabel("reports per reading")
    axes.set_title(f"{summary.service.name} in {summary.region.name}: reports vs typical")
    axes.grid(alpha=0.3)
    axes.legend(loc="best", fontsize=8, framealpha=0.9)
    figure.tight_layout()
    return figure


class ChartCache:
    """Charts per summary content: the same data never gets drawn twice."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._items: OrderedDict[tuple[object, ...], bytes] = OrderedDict()

    @staticmethod
    def key(summary: PairSummary, now: datetime) -> tuple[object, ...]:
        counts = tuple((r.at, r.count) for r in summary.counts)
        events = tuple((e.at, e.text) for e in summary.events)
        live_end = None if summary.incident is None or summary.incident.end else now
        return (
            summary.service.key,
            summary.region.code,
            counts,
            events,
            summary.typical_series,
            live_end,
        )

    def get(self, key: tuple[object, ...]) -> bytes | None:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        return None

    def put(self, key: tuple[object, ...], png: bytes) -> None:
        self._items[key] = png
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

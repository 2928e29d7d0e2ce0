"""Access Now's #KeepItOn STOP shutdown tracker, read from its CSV export, as restrictions.

STOP (Shutdown Tracker Optimization Project) is the coalition's hand-verified list of internet
shutdowns: one row per shutdown, with who ordered it, the government's stated justification next
to Access Now's own finding of the actual cause, and one Yes/No column per platform it affected.
The layout read here, and where it was checked, is in docs/data-format.md.

Rows are held to the same rules as every other import: every problem is reported as
`line N, column <name>: …` (the header is line 1) and the file lands whole or not at all.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from bot.core.catalog import Catalog
from bot.imports.reading import DatasetError, NameResolver, csv_records
from storage.records import (
    Dataset,
    PartialDate,
    Restriction,
    RestrictionKind,
    RestrictionStatus,
    Source,
    TimelineStep,
)

SOURCE = Source(
    "Access Now STOP",
    "https://www.accessnow.org/keepiton/",
    "Access Now's #KeepItOn Shutdown Tracker Optimization Project: verified internet shutdowns",
)
NOT_STATED = "Not stated in the STOP record"

REQUIRED = ("start_date", "end_date", "country", "shutdown_type")
OPTIONAL = (
    "shutdown_extent",
    "shutdown_status",
    "affected_network",
    "area_name",
    "geo_scope",
    "ordered_by",
    "decision_maker",
    "gov_ack",
    "gov_justification",
    "actual_cause",
    "actual_cause_details",
    "info_source_link",
    "an_link",
)
AFFECTED = "_affected"
# Free text in STOP ("Signal", "YouTube, TikTok"), not a Yes/No flag like the other *_affected.
OTHER = "other_affected"

_YES = {"yes", "y", "true", "1", "x"}
_NO = {"", "no", "n", "false", "0", "unknown", "n/a", "na"}
# Google Sheets writes STOP's dates the US way (2/17/2024); re-saved copies often hold ISO dates.
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_NAME_SEPARATORS = re.compile(r"[,;/\n]|\band\b|&")
_URL = re.compile(r"https?://[^\s;]+", re.IGNORECASE)

Row = dict[str, str]
Problem = Callable[[str, str], None]  # (column, message)


def column_name(text: str) -> str:
    """`Start Date`, ` start-date ` and `start_date` are one column."""
    return re.sub(r"[\s-]+", "_", text.strip().casefold())


def is_stop_header(cells: Sequence[str]) -> bool:
    """STOP's export, not the observations CSV: it has `shutdown_type` and `start_date`."""
    names = {column_name(cell) for cell in cells}
    return {"shutdown_type", "start_date"} <= names


def is_stop_file(path: Path) -> bool:
    """Whether a CSV file's header is STOP's; an unreadable file is left to the usual reader.

    Only the header is read: this runs before every CSV import, some a million rows long.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:
            for cells in csv.reader(file, strict=True):
                if "".join(cells).strip():  # blank lines before the header are skipped
                    return is_stop_header(cells)
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return False


def load_stop_csv(path: Path, catalog: Catalog) -> Dataset:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError([f"{path}: {error}"]) from None
    return parse_stop_csv(text, catalog)


def parse_stop_csv(text: str, catalog: Catalog) -> Dataset:
    """Restrictions from STOP rows: one per affected service (or `internet`), per country.

    Rows that land on the same restriction (same service, country, kind and start, as when
    STOP lists several districts of one country shut on the same day) become one record with a
    timeline step per row, so importing the file twice adds nothing.
    """
    records = csv_records(text.removeprefix("\ufeff"))
    if not records:
        raise DatasetError(["line 1: no header row; expected STOP's columns"])
    header_line, header = records[0]
    columns = _header(header_line, header)
    reader = _RowReader(catalog)
    found: list[Restriction] = []
    for line, cells in records[1:]:
        if len(cells) != len(columns):
            reader.problems.append(f"line {line}: {len(cells)} values for {len(columns)} columns")
            continue
        row = {name: cell.strip() for name, cell in zip(columns, cells, strict=True) if name}
        found += reader.restrictions(line, row)
    if reader.problems:
        raise DatasetError(reader.problems)
    return Dataset(restrictions=tuple(_merged(found)), sources=(SOURCE,))


def _header(line: int, header: list[str]) -> list[str]:
    """Column names in file order; "" for columns this import does not read."""
    names = [column_name(cell) for cell in header]
    used = [name if _is_used(name) else "" for name in names]
    problems = []
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        problems.append(
            f"line {line}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        )
    repeated = sorted({name for name in used if name and used.count(name) > 1})
    if repeated:
        problems.append(f"line {line}: column {', '.join(repeated)} appears more than once")
    if problems:
        raise DatasetError(problems)
    return used


def _is_used(name: str) -> bool:
    # STOP's sheet has some 40 columns (telcos_involved, election, violence…) and Access Now adds
    # more over the years; only the ones read below are checked.
    return name in REQUIRED or name in OPTIONAL or (name.endswith(AFFECTED) and name != AFFECTED)


@dataclass
class _Shape:
    """What a row says was cut, before it is split into restrictions."""

    full_network: bool
    service_based: bool
    throttle_only: bool


class _RowReader(NameResolver):
    """Turns one row into restrictions, noting each problem by line and column."""

    def restrictions(self, line: int, row: Row) -> list[Restriction]:
        before = len(self.problems)

        def problem(column: str, message: str) -> None:
            self.problems.append(f"line {line}, column {column}: {message}")

        start = self._date(row, "start_date", problem, required=True)
        end = self._date(row, "end_date", problem, required=False)
        if start is not None and end is not None and end.last_day() < start.first_day():
            problem("end_date", f"is before start_date {start}")
        status = self._status(row, end, problem)
        shape = self._shape(row, problem)
        services, untracked = self._services(row, problem)
        regions = self._regions(line, row, problem)
        if len(self.problems) > before or start is None or status is None or shape is None:
            return []

        targets: list[tuple[str, RestrictionKind]] = []
        if shape.full_network or not (shape.service_based or services):
            targets.append(("internet", "throttle" if shape.throttle_only else "shutdown"))
        if shape.service_based or not shape.full_network:
            kind: RestrictionKind = "throttle" if shape.throttle_only else "block"
            targets += [(service, kind) for service in services]
        record = Restriction(
            service="",
            region="",
            kind="shutdown",
            status=status,
            start=start,
            end=end if status == "lifted" else None,
            authority=_authority(row),
            grounds=_grounds(row),
            timeline=_steps(row, start),
            sources=(SOURCE.name,),
            note=_note(row, untracked),
        )
        return [
            replace(record, service=service, region=region, kind=kind)
            for region in regions
            for service, kind in targets
        ]

    def _date(
        self, row: Row, column: str, problem: Problem, *, required: bool
    ) -> PartialDate | None:
        text = row.get(column, "")
        if not text:
            if required:
                problem(column, "must not be blank")
            return None
        try:
            return stop_date(text)
        except ValueError:
            problem(
                column,
                f"expected a date as M/D/YYYY (as Access Now's sheet writes it) or YYYY-MM-DD, "
                f"got {text!r}",
            )
            return None

    def _status(
        self, row: Row, end: PartialDate | None, problem: Problem
    ) -> RestrictionStatus | None:
        said = row.get("shutdown_status", "").casefold()
        if said not in {"", "ongoing", "ended", "unknown"}:
            got = row["shutdown_status"]
            problem("shutdown_status", f"expected Ongoing, Ended or Unknown, got {got!r}")
            return None
        if said == "ongoing" and end is not None:
            problem("end_date", "the record says the shutdown is Ongoing but gives an end date")
            return None
        if said == "ended" and end is None and not row.get("end_date"):
            problem("end_date", "the record says the shutdown Ended but gives no end date")
            return None
        return "lifted" if end is not None else "active"

    def _shape(self, row: Row, problem: Problem) -> _Shape | None:
        kind = row.get("shutdown_type", "").casefold()
        extent = row.get("shutdown_extent", "").casefold()
        shutdown = "shutdown" in kind
        throttle = "throttl" in kind
        # Older sheets and hand-made files put the extent in shutdown_type itself.
        extent_in_kind = "full" in kind or "service" in kind
        full = "full" in kind or "full" in extent
        service = "service" in kind or "service" in extent
        if kind and kind != "unknown" and not (shutdown or throttle or extent_in_kind):
            problem(
                "shutdown_type",
                f"expected Shutdown, Throttle or both (or Full network / Service-based), "
                f"got {row['shutdown_type']!r}",
            )
            return None
        if extent and not (full or service):
            problem(
                "shutdown_extent",
                f"expected Full network, Service-based or both, got {row['shutdown_extent']!r}",
            )
            return None
        return _Shape(
            full_network=full,
            service_based=service,
            throttle_only=throttle and not (shutdown or extent_in_kind),
        )

    def _services(self, row: Row, problem: Problem) -> tuple[list[str], list[str]]:
        """Catalog keys of the services marked affected, and what STOP names that we don't track."""
        services: list[str] = []
        untracked: list[str] = []
        for column, value in row.items():
            if not column.endswith(AFFECTED) or column == OTHER:
                continue
            flag = value.casefold()
            if flag not in _YES | _NO:
                problem(column, f"expected Yes or No, got {value!r}")
                continue
            if flag in _YES:
                stem = column.removesuffix(AFFECTED)
                known = self.catalog.find_service(stem)
                if known is not None:
                    services.append(known.key)
                else:
                    untracked.append(stem.replace("_", " "))
        other = row.get(OTHER, "")
        if other.casefold() in _YES:
            untracked.append("other services, not named")
        elif other.casefold() not in _NO:
            for name in filter(None, (part.strip() for part in _NAME_SEPARATORS.split(other))):
                known = self.catalog.find_service(name)
                if known is not None:
                    services.append(known.key)
                else:
                    untracked.append(name)
        return list(dict.fromkeys(services)), list(dict.fromkeys(untracked))

    def _regions(self, line: int, row: Row, problem: Problem) -> list[str]:
        # A few STOP rows name two countries ("Cameroon; Central African Republic").
        names = [name.strip() for name in row.get("country", "").split(";") if name.strip()]
        if not names:
            problem("country", "must not be blank")
        codes = [self.region(name, f"line {line}, column country") for name in names]
        return list(dict.fromkeys(codes))


def stop_date(text: str) -> PartialDate:
    """`2/17/2024` as STOP's sheet writes it, or an ISO date of stated precision."""
    us = _US_DATE.fullmatch(text.strip())
    if us:
        month, day, year = (int(part) for part in us.groups())
        date(year, month, day)  # raises on 2/30/2024
        return PartialDate(year, month, day)
    return PartialDate.parse(text)


def _authority(row: Row) -> str:
    who = [row.get("ordered_by", ""), row.get("decision_maker", "")]
    named = [part for part in dict.fromkeys(who) if part]
    text = ", ".join(named) if named else NOT_STATED
    acknowledged = row.get("gov_ack", "").casefold()
    if acknowledged in {"yes", "true"}:
        text += "; the government acknowledged it"
    elif acknowledged in {"no", "false"}:
        text += "; the government did not acknowledge it"
    return text


def _grounds(row: Row) -> str:
    """What the government said and what Access Now found, side by side, never merged."""
    claimed = row.get("gov_justification", "")
    cause = row.get("actual_cause", "")
    details = row.get("actual_cause_details", "")
    if details and details != cause:
        cause = f"{cause} ({details})" if cause else details
    if not claimed and not cause:
        return NOT_STATED
    return (
        f"Government: {claimed or 'none stated in the STOP record'}; "
        f"Access Now: {cause or 'no cause stated'}"
    )


def _steps(row: Row, start: PartialDate) -> tuple[TimelineStep, ...]:
    where = ", ".join(dict.fromkeys(p for p in (row.get("area_name"), row.get("geo_scope")) if p))
    text = "Recorded by Access Now's STOP tracker" + (f" ({where})" if where else "")
    # info_source_link often holds several links separated by ";" or line breaks.
    links = _links(row.get("info_source_link", "")) or _links(row.get("an_link", ""))
    if len(links) <= 1:
        return (TimelineStep(start, text, SOURCE.name, links[0] if links else None),)
    # The step's natural key is (date, text), so each further link needs its own wording.
    return tuple(
        TimelineStep(
            start, text if n == 1 else f"{text}, source {n} of {len(links)}", SOURCE.name, url
        )
        for n, url in enumerate(links, start=1)
    )


def _links(text: str) -> list[str]:
    return list(dict.fromkeys(url.rstrip(",.)") for url in _URL.findall(text)))


def _note(row: Row, untracked: Sequence[str]) -> str | None:
    parts = [
        f"{label} {row[column]}"
        for label, column in (
            ("type", "shutdown_type"),
            ("extent", "shutdown_extent"),
            ("network", "affected_network"),
        )
        if row.get(column)
    ]
    if row.get("shutdown_status", "").casefold() == "unknown":
        parts.append("status Unknown (not known to have ended)")
    if untracked:
        parts.append(f"also affected: {', '.join(untracked)}")
    return f"STOP record: {'; '.join(parts)}" if parts else None


def _merged(found: Iterable[Restriction]) -> list[Restriction]:
    """One restriction per natural key; differing wording is kept side by side."""
    groups: dict[tuple[str, str, str, str], list[Restriction]] = {}
    for row in found:
        groups.setdefault((row.service, row.region, row.kind, str(row.start)), []).append(row)
    merged = []
    for rows in groups.values():
        first = rows[0]
        if len(rows) == 1:
            merged.append(first)
            continue
        active = any(row.status == "active" for row in rows)
        ends = [row.end for row in rows if row.end is not None]
        steps: dict[tuple[str, str], TimelineStep] = {}
        for row in rows:
            for step in row.timeline:
                steps.setdefault((str(step.on), step.text), step)
        merged.append(
            replace(
                first,
                status="active" if active else "lifted",
                end=None if active else max(ends, key=PartialDate.last_day),
                authority=_distinct(row.authority for row in rows),
                grounds=_distinct(row.grounds for row in rows),
                note=_distinct(row.note for row in rows if row.note) or None,
                timeline=tuple(steps.values()),
            )
        )
    return merged


def _distinct(texts: Iterable[str]) -> str:
    return " | ".join(dict.fromkeys(texts))

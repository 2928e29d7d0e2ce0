"""The dataset file format (docs/data-format.md): parse, validate, resolve names, or say where.

Validation happens entirely before anything is stored, so a bad record can never leave half an
import behind; the storage layer then lands the result in one transaction.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from bot.catalog import Catalog, UnknownName
from storage.records import (
    Dataset,
    Event,
    Observation,
    PartialDate,
    Restriction,
    Source,
    TimelineStep,
)


class DatasetError(Exception):
    """A dataset that cannot be imported, with every problem located as `list[index].field`."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _non_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    return text.strip()


Text = Annotated[str, AfterValidator(_non_blank)]


def _instant(value: Any) -> tuple[datetime, Literal["minute", "day"]]:
    """An ISO 8601 time with an offset, or a bare date when the source gave no time."""
    if isinstance(value, str):
        text = value.strip()
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC), "day"
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
        if parsed.tzinfo is None:
            raise ValueError("needs a UTC offset, e.g. 2025-03-10T15:02:00+05:00 or ...Z")
        return parsed.astimezone(UTC), "minute"
    raise ValueError("expected an ISO 8601 time string")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SourceIn(_Record):
    name: Text
    url: str | None = None
    description: str | None = None


class ObservationIn(_Record):
    service: Text
    region: Text
    at: str
    count: int = Field(ge=0, strict=True)
    source: Text
    url: str | None = None
    qualifier: Literal["exact", "at_least", "about"] = "exact"
    note: str | None = None
    baseline: float | None = Field(default=None, ge=0)

    @field_validator("at")
    @classmethod
    def _check_at(cls, value: str) -> str:
        _instant(value)
        return value


class EventIn(_Record):
    service: Text
    region: Text
    at: str
    kind: Literal["report", "statement", "claim", "confirmation", "ban", "restoration", "note"]
    text: Text
    source: Text
    url: str | None = None

    @field_validator("at")
    @classmethod
    def _check_at(cls, value: str) -> str:
        _instant(value)
        return value


def _partial(value: str) -> str:
    PartialDate.parse(value)
    return value


PartialText = Annotated[str, AfterValidator(_partial)]


class StepIn(_Record):
    on: PartialText
    text: Text
    source: Text
    url: str | None = None


class RestrictionIn(_Record):
    service: Text | list[Text]
    region: Text
    kind: Literal["block", "throttle", "shutdown"]
    status: Literal["active", "lifted"]
    start: PartialText
    end: PartialText | None = None
    authority: Text
    grounds: Text
    timeline: list[StepIn] = Field(default_factory=list)
    sources: list[Text] = Field(min_length=1)
    note: str | None = None


class DatasetIn(_Record):
    sources: list[SourceIn] = Field(default_factory=list)
    observations: list[ObservationIn] = Field(default_factory=list)
    events: list[EventIn] = Field(default_factory=list)
    restrictions: list[RestrictionIn] = Field(default_factory=list)


def _location(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in {"str", "list[str]", "function-after[_non_blank(), str]"} or "[" in part:
            continue  # pydantic names the union branch; a person wants the field
        else:
            text += f".{part}" if text else part
    return text


def _validation_problems(error: ValidationError) -> list[str]:
    seen: dict[str, str] = {}
    for problem in error.errors(include_url=False):
        where = _location(problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        seen.setdefault(where, f"{where}: {message}")
    return list(seen.values())


def parse_dataset(text: str, catalog: Catalog) -> Dataset:
    """A validated Dataset, or DatasetError listing every problem by `list[index].field`."""
    try:
        # pydantic parses and validates in one pass, in Rust: the fast path for big files.
        parsed = DatasetIn.model_validate_json(text)
    except ValidationError as error:
        kinds = {problem["type"] for problem in error.errors(include_url=False)}
        if "json_invalid" in kinds:
            try:  # the json module says where, by line and column
                json.loads(text)
            except json.JSONDecodeError as syntax:
                where = f"line {syntax.lineno}, column {syntax.colno}"
                raise DatasetError([f"{where}: {syntax.msg}"]) from None
        if "model_type" in kinds and not text.lstrip().startswith("{"):
            raise DatasetError(
                ["top level: expected an object with observations/events/restrictions"]
            ) from None
        raise DatasetError(_validation_problems(error)) from None
    return _resolve(parsed, catalog)


def load_dataset(path: Path, catalog: Catalog) -> Dataset:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError([f"{path}: {error}"]) from None
    return parse_dataset(text, catalog)


class _Resolver:
    """Turns any alias the catalog knows into its key, collecting every unknown name."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.problems: list[str] = []
        # A file names a few dozen services and regions a million times: resolve each once.
        self._known_services: dict[str, str | UnknownName] = {}
        self._known_regions: dict[str, str | UnknownName] = {}

    def service(self, text: str, where: str) -> str:
        if text not in self._known_services:
            try:
                self._known_services[text] = self.catalog.resolve_service(text).key
            except UnknownName as error:
                self._known_services[text] = error
        return self._answer(self._known_services[text], text, where)

    def region(self, text: str, where: str) -> str:
        if text not in self._known_regions:
            try:
                self._known_regions[text] = self.catalog.resolve_region(text).code
            except UnknownName as error:
                self._known_regions[text] = error
        return self._answer(self._known_regions[text], text, where)

    def _answer(self, found: str | UnknownName, text: str, where: str) -> str:
        if isinstance(found, UnknownName):
            self.problems.append(f"{where}: {_unknown(found)}")
            return text
        return found


def _unknown(error: UnknownName) -> str:
    hint = f" (did you mean {', '.join(error.suggestions)}?)" if error.suggestions else ""
    return f"unknown {error.kind} {error.text!r}{hint}"


def _observation(row: ObservationIn, service: str, region: str) -> Observation:
    """A validated row as a record, its names already resolved to catalog keys."""
    at, precision = _instant(row.at)
    return Observation(
        service=service,
        region=region,
        at=at,
        count=row.count,
        source=row.source,
        url=row.url,
        qualifier=row.qualifier,
        precision=precision,
        note=row.note,
        baseline=row.baseline,
    )


def _resolve(parsed: DatasetIn, catalog: Catalog) -> Dataset:
    names = _Resolver(catalog)
    observations = []
    for index, row in enumerate(parsed.observations):
        where = f"observations[{index}]"
        service = names.service(row.service, f"{where}.service")
        observations.append(_observation(row, service, names.region(row.region, f"{where}.region")))
    events = []
    for index, row in enumerate(parsed.events):
        where = f"events[{index}]"
        at, precision = _instant(row.at)
        events.append(
            Event(
                service=names.service(row.service, f"{where}.service"),
                region=names.region(row.region, f"{where}.region"),
                at=at,
                kind=row.kind,
                text=row.text,
                source=row.source,
                url=row.url,
                precision=precision,
            )
        )
    restrictions = []
    for index, row in enumerate(parsed.restrictions):
        where = f"restrictions[{index}]"
        services = row.service if isinstance(row.service, list) else [row.service]
        start = PartialDate.parse(row.start)
        end = PartialDate.parse(row.end) if row.end else None
        if end is not None and end < start:
            names.problems.append(f"{where}.end: is before start {row.start}")
        if row.status == "lifted" and end is None:
            names.problems.append(f"{where}.end: a lifted restriction needs an end date")
        region = names.region(row.region, f"{where}.region")
        steps = tuple(
            TimelineStep(PartialDate.parse(step.on), step.text, step.source, step.url)
            for step in row.timeline
        )
        for position, service in enumerate(services):
            restrictions.append(
                Restriction(
                    service=names.service(
                        service, f"{where}.service" + (f"[{position}]" if len(services) > 1 else "")
                    ),
                    region=region,
                    kind=row.kind,
                    status=row.status,
                    start=start,
                    end=end,
                    authority=row.authority,
                    grounds=row.grounds,
                    timeline=steps,
                    sources=tuple(row.sources),
                    note=row.note,
                )
            )
    if names.problems:
        raise DatasetError(names.problems)
    return Dataset(
        observations=tuple(observations),
        events=tuple(events),
        restrictions=tuple(restrictions),
        sources=tuple(Source(s.name, s.url, s.description) for s in parsed.sources),
    )


# ---------------------------------------------------------------- CSV (observations only)

CSV_COLUMNS = ("service", "region", "at", "count", "source", "url", "baseline")
CSV_REQUIRED = CSV_COLUMNS[:5]
_INTEGER = re.compile(r"[+-]?\d+")


def parse_csv_dataset(text: str, catalog: Catalog) -> Dataset:
    """Observations from CSV, held to the JSON rules, each problem as `line N, column <name>`.

    Spreadsheets are where counts quoted in the press usually get collected, so this is the
    format people can produce without writing JSON. Line numbers are the file's own (the
    header is line 1), so an editor can jump straight to the problem.
    """
    records = _csv_records(text.removeprefix("\ufeff"))
    if not records:
        raise DatasetError([f"line 1: no header row; expected {_expected_columns()}"])
    header_line, header = records[0]
    columns = _csv_header(header_line, header)
    names = _Resolver(catalog)
    observations: list[Observation] = []
    for line, cells in records[1:]:
        if len(cells) != len(columns):
            names.problems.append(
                f"line {line}: {len(cells)} values for {len(columns)} columns "
                f"({', '.join(columns)})"
            )
            continue
        row = _csv_observation(line, dict(zip(columns, cells, strict=True)), names)
        if row is not None:
            observations.append(row)
    if names.problems:
        raise DatasetError(names.problems)
    return Dataset(observations=tuple(observations))


def load_csv_dataset(path: Path, catalog: Catalog) -> Dataset:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError([f"{path}: {error}"]) from None
    return parse_csv_dataset(text, catalog)


def load_dataset_file(path: Path, catalog: Catalog) -> Dataset:
    """`.csv` files hold observations as CSV; anything else is the JSON format."""
    if path.suffix.lower() == ".csv":
        from bot import stop_import  # it builds on this module's CSV helpers

        if stop_import.is_stop_file(path):  # Access Now's STOP tracker, told by its header
            return stop_import.load_stop_csv(path, catalog)
        return load_csv_dataset(path, catalog)
    return load_dataset(path, catalog)


def _expected_columns() -> str:
    return f"{','.join(CSV_REQUIRED)}[,{','.join(CSV_COLUMNS[len(CSV_REQUIRED) :])}]"


def _csv_records(text: str) -> list[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on; a quoted field may span lines."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                records.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as error:
        raise DatasetError([f"line {reader.line_num}: {error}"]) from None
    return records


def _csv_header(line: int, header: list[str]) -> list[str]:
    columns = [cell.strip().casefold() for cell in header]
    problems = []
    unknown = [name for name in columns if name not in CSV_COLUMNS]
    if unknown:
        problems.append(
            f"line {line}: unknown column{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(name) for name in unknown)}; expected {_expected_columns()}"
        )
    missing = [name for name in CSV_REQUIRED if name not in columns]
    if missing:
        problems.append(
            f"line {line}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        )
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        problems.append(f"line {line}: column {', '.join(repeated)} appears more than once")
    if problems:
        raise DatasetError(problems)
    return columns


def _csv_observation(line: int, cells: dict[str, str], names: _Resolver) -> Observation | None:
    """One row through the same model as JSON; None (with problems noted) when it is bad."""
    raw: dict[str, Any] = {key: value.strip() for key, value in cells.items()}
    if _INTEGER.fullmatch(raw["count"]):
        raw["count"] = int(raw["count"])  # CSV has no types; the model stays strict for JSON
    for optional in ("url", "baseline"):
        if not raw.get(optional):
            raw.pop(optional, None)
    before = len(names.problems)
    bad: set[str] = set()
    try:
        row = ObservationIn.model_validate(raw)
    except ValidationError as error:
        row = None
        seen: set[str] = set()
        for problem in error.errors(include_url=False):
            column = _location(problem["loc"])
            if column not in seen:
                seen.add(column)
                message = problem["msg"].removeprefix("Value error, ")
                names.problems.append(f"line {line}, column {column}: {message}")
        bad = seen
    # Names are checked even when another cell is bad, so one run reports everything.
    service = region = ""
    if "service" not in bad:
        service = names.service(raw["service"], f"line {line}, column service")
    if "region" not in bad:
        region = names.region(raw["region"], f"line {line}, column region")
    if row is None or len(names.problems) > before:
        return None
    return _observation(row, service, region)


def embedded_dataset_path() -> Path:
    return Path(__file__).parent / "data" / "default.json"

"""The dataset file format (docs/data-format.md): parse, validate, resolve names, or say where.

Validation happens entirely before anything is stored, so a bad record can never leave half an
import behind; the storage layer then lands the result in one transaction.

Observations come a million at a time (docs/performance.md), so their rules are all pydantic
constraints checked in its Rust core over the whole list at once; the only Python called per row
is a cached lookup for the time, and names are resolved once per distinct spelling. A CSV file
with nothing to report goes further: each distinct cell is validated once, by the same rules.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Annotated, Any, Literal, NotRequired, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from bot.core.catalog import Catalog, UnknownName
from bot.imports.reading import (
    DatasetError,
    NameResolver,
    csv_reader,
    csv_records,
    unknown_text,
)
from storage.bulk import no_cycle_collection
from storage.records import (
    Dataset,
    Event,
    Observation,
    PartialDate,
    Precision,
    Restriction,
    Source,
    TimelineStep,
)

# Stripped and non-empty, checked in pydantic's core ("string_too_short" reads "must not be blank").
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_FRIENDLIER = {"string_too_short": "must not be blank"}


# A file repeats the same few thousand 15-minute buckets across every pair: parse each once.
@lru_cache(maxsize=16_384)
def _instant(text: str) -> tuple[datetime, Literal["minute", "day"]]:
    """An ISO 8601 time with an offset, or a bare date when the source gave no time.

    Python's own parser rather than pydantic's datetime: that one also takes Unix timestamps
    ("1741600000") and rejects ISO forms `fromisoformat` reads, which would change what files
    mean.
    """
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC), "day"
    parsed = datetime.fromisoformat(text.replace("z", "Z"))
    if parsed.tzinfo is None:
        raise ValueError("needs a UTC offset, e.g. 2025-03-10T15:02:00+05:00 or ...Z")
    return parsed.astimezone(UTC), "minute"


# Checked as text, kept as (UTC time, precision): the field's value after validation.
Instant = Annotated[str, AfterValidator(_instant)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SourceIn(_Record):
    name: Text
    url: str | None = None
    description: str | None = None


@with_config(ConfigDict(extra="forbid", str_strip_whitespace=True))
class ObservationIn(TypedDict):
    """A plain dict, not a model: pydantic builds a million of these 2–3× faster."""

    service: Text
    region: Text
    at: Instant
    count: Annotated[int, Field(ge=0, strict=True)]
    source: Text
    url: NotRequired[str | None]
    qualifier: NotRequired[Literal["exact", "at_least", "about"]]
    note: NotRequired[str | None]
    baseline: NotRequired[Annotated[float, Field(ge=0)] | None]


class EventIn(_Record):
    service: Text
    region: Text
    at: Instant
    kind: Literal["report", "statement", "claim", "confirmation", "ban", "restoration", "note"]
    text: Text
    source: Text
    url: str | None = None


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
        elif part in {"str", "constrained-str"} or "[" in part:
            continue  # pydantic names the union branch; a person wants the field
        else:
            text += f".{part}" if text else part
    return text


def _validation_problems(error: ValidationError) -> list[str]:
    seen: dict[str, str] = {}
    for problem in error.errors(include_url=False):
        where = _location(problem["loc"])
        seen.setdefault(where, f"{where}: {_message(problem)}")
    return list(seen.values())


def _message(problem: Any) -> str:
    return _FRIENDLIER.get(problem["type"], problem["msg"].removeprefix("Value error, "))


@no_cycle_collection()
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


# Notes a problem by the row's index in the list, the field's name and what is wrong.
Note = Callable[[int, str, str], None]

# A validated observation in the order `_observations` reads it, whichever format it came from:
# (service, region, (at, precision), count, source, url, qualifier, note, baseline).
Fields = tuple[str, str, tuple[datetime, str], int, str, Any, str, Any, Any]


def _observations(rows: Iterable[Fields], names: NameResolver, note: Note) -> list[Observation]:
    """Validated rows as records, names resolved to catalog keys; unknown names noted.

    The loop every imported row goes through, so a location is only spelled for a problem, and
    the record is built with positional arguments (keywords cost a quarter of this loop).
    """
    observations: list[Observation] = []
    append, services, regions = observations.append, names.services, names.regions
    # tuple.__new__ itself: a named tuple's own __new__ is a Python function around it.
    new = tuple.__new__
    for index, row in enumerate(rows):
        service_text, region_text, (at, precision), count, source, url, qualifier, text, base = row
        service = services[service_text]
        region = regions[region_text]
        if isinstance(service, UnknownName) or isinstance(region, UnknownName):
            for field, found in (("service", service), ("region", region)):
                if isinstance(found, UnknownName):
                    note(index, field, unknown_text(found))
            continue
        fields = (service, region, at, count, source, url, qualifier, precision, text, base)
        append(new(Observation, fields))
    return observations


def _resolve(parsed: DatasetIn, catalog: Catalog) -> Dataset:
    names = NameResolver(catalog)
    observations = _observations(
        (
            (
                row["service"],
                row["region"],
                row["at"],  # type: ignore[misc]  # Instant: validated into (at, precision)
                row["count"],
                row["source"],
                row.get("url"),
                row.get("qualifier", "exact"),
                row.get("note"),
                row.get("baseline"),
            )
            for row in parsed.observations
        ),
        names,
        lambda index, field, text: names.problems.append(f"observations[{index}].{field}: {text}"),
    )
    events = []
    for index, event in enumerate(parsed.events):
        where = f"events[{index}]"
        at, precision = cast(tuple[datetime, Precision], event.at)  # Instant: validated to a pair
        events.append(
            Event(
                service=names.service(event.service, f"{where}.service"),
                region=names.region(event.region, f"{where}.region"),
                at=at,
                kind=event.kind,
                text=event.text,
                source=event.source,
                url=event.url,
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


def _blank_as_none(cell: str) -> str | None:
    return cell.strip() or None


# A CSV cell's rules: the JSON rules, but every cell is text, and an empty optional cell is none.
_CSV_TYPES: dict[str, Any] = {
    "service": Text,
    "region": Text,
    "at": Instant,
    "count": Annotated[int, Field(ge=0)],  # not strict: "12" is a number here
    "source": Text,
    "url": Annotated[str | None, BeforeValidator(_blank_as_none)],
    "baseline": Annotated[float | None, Field(ge=0), BeforeValidator(_blank_as_none)],
}


_CSV_CONFIG = ConfigDict(str_strip_whitespace=True)


@lru_cache(maxsize=8)
def _csv_rows(columns: tuple[str, ...]) -> TypeAdapter[list[tuple[Any, ...]]]:
    """A validator for rows of these columns, each row a tuple of its cells in this order.

    Tuples, not a dict per row: making the dicts cost more than validating them (measured:
    building and validating dicts 0.9 s for 300,000 rows, validating tuples 0.3 s).
    """
    cells = tuple.__class_getitem__(tuple(_CSV_TYPES[column] for column in columns))
    return TypeAdapter(list[cells], config=_CSV_CONFIG)  # type: ignore[valid-type]


@lru_cache(maxsize=len(CSV_COLUMNS))
def _csv_cells(column: str) -> TypeAdapter[list[Any]]:
    """A validator for cells of one column: the type and config `_csv_rows` gives that cell."""
    return TypeAdapter(list.__class_getitem__(_CSV_TYPES[column]), config=_CSV_CONFIG)


class _Unusual(Exception):
    """A file `_well_formed_csv` leaves to the locating reader: something in it is to report."""


def _distinct_cells(cells: Iterable[str], column: str) -> dict[str, Any]:
    """Each distinct cell of a column with its validated value; _Unusual if any is not valid."""
    distinct = list(set(cells))
    try:
        return dict(zip(distinct, _csv_cells(column).validate_python(distinct), strict=True))
    except ValidationError:
        raise _Unusual from None


def _names_of(values: dict[str, Any], known: dict[str, str | UnknownName]) -> dict[str, str]:
    """Each cell's catalog key, through the resolver every reader uses; _Unusual if unknown."""
    keys = {cell: known[text] for cell, text in values.items()}
    if any(isinstance(key, UnknownName) for key in keys.values()):
        raise _Unusual
    return cast(dict[str, str], keys)


def _well_formed_csv(text: str, catalog: Catalog) -> Dataset | None:
    """The observations of a file with nothing to report, or None if it has anything at all.

    Most files are well formed, and for them no line or location is ever spelled: the file is
    read column by column, each distinct cell validated once by the very rules the locating
    reader applies to it (`_CSV_TYPES`: a file repeats a few thousand times, a few hundred counts
    and a few dozen names), and the records are made with no Python code run per row. A blank
    line between rows is skipped as there; anything else unusual (a malformed header or quote,
    a row of another length, a blank-looking row, a bad cell, an unknown name) gives None, and
    `parse_csv_dataset` reads the file the locating way, which says what is wrong and where.
    """
    try:
        rows = list(csv_reader(text))
        columns = _csv_header(1, rows[0])
    except (csv.Error, IndexError, DatasetError):
        return None
    body = rows[1:]
    del rows
    widths = set(map(len, body))
    if 0 in widths:  # blank lines, as a spreadsheet leaves at the end
        body = list(filter(None, body))
        widths.discard(0)
    if widths - {len(columns)}:
        return None
    if not body:
        return Dataset()

    def column_of(column: str) -> Iterator[str]:
        return map(itemgetter(columns.index(column)), body)

    names = NameResolver(catalog)
    try:
        values = {column: _distinct_cells(column_of(column), column) for column in columns}
        values["service"] = _names_of(values["service"], names.services)
        values["region"] = _names_of(values["region"], names.regions)
    except _Unusual:
        return None
    instants: dict[str, tuple[datetime, str]] = values["at"]  # (UTC time, precision)
    values["at"] = {cell: at for cell, (at, _) in instants.items()}
    values["precision"] = {cell: precision for cell, (_, precision) in instants.items()}

    def cells(column: str, read_from: str | None = None) -> Iterable[Any]:
        if column not in values:
            return repeat(None)  # an optional column the file does not have
        return map(values[column].__getitem__, column_of(read_from or column))

    # In Observation's order: service, region, at, count, source, url, qualifier, precision,
    # note, baseline.
    fields = zip(
        cells("service"),
        cells("region"),
        cells("at"),
        cells("count"),
        cells("source"),
        cells("url"),
        repeat("exact"),
        cells("precision", read_from="at"),
        repeat(None),
        cells("baseline"),
    )
    return Dataset(observations=tuple(map(tuple.__new__, repeat(Observation), fields)))


def _as_fields(rows: list[tuple[Any, ...]], columns: tuple[str, ...]) -> Iterator[Fields]:
    """Validated CSV rows in the order `_observations` reads (CSV has no qualifier or note)."""
    if len(columns) == len(CSV_REQUIRED):
        return ((*row, None, "exact", None, None) for row in rows)
    url = columns.index("url") if "url" in columns else None
    baseline = columns.index("baseline") if "baseline" in columns else None
    return (
        (
            *row[: len(CSV_REQUIRED)],
            None if url is None else row[url],
            "exact",
            None,
            None if baseline is None else row[baseline],
        )
        for row in rows
    )


@no_cycle_collection()
def parse_csv_dataset(text: str, catalog: Catalog) -> Dataset:
    """Observations from CSV, held to the JSON rules, each problem as `line N, column <name>`.

    Spreadsheets are where counts quoted in the press usually get collected, so this is the
    format people can produce without writing JSON. Line numbers are the file's own (the
    header is line 1), so an editor can jump straight to the problem.
    """
    text = text.removeprefix("\ufeff")
    well_formed = _well_formed_csv(text, catalog)
    return _csv_by_line(text, catalog) if well_formed is None else well_formed


def _csv_by_line(text: str, catalog: Catalog) -> Dataset:
    """The locating reader: every record with its line, every problem found and placed.

    The one that decides what a file means; `_well_formed_csv` only takes the files this one
    would take without a word, and must make the very same records of them.
    """
    records = csv_records(text)
    if not records:
        raise DatasetError([f"line 1: no header row; expected {_expected_columns()}"])
    header_line, header = records[0]
    columns = _csv_header(header_line, header)
    # Cells are put in CSV_COLUMNS order (service and region first) whatever the file's order.
    ordered = tuple(column for column in CSV_COLUMNS if column in columns)
    pick = itemgetter(*(columns.index(column) for column in ordered))
    problems: list[tuple[int, str]] = []  # (line, problem), put in the file's order at the end
    lines: list[int] = []
    rows: list[tuple[str, ...]] = []
    for line, cells in records[1:]:
        if len(cells) == len(columns):
            lines.append(line)
            rows.append(pick(cells))
        else:
            problems.append(
                (
                    line,
                    f"line {line}: {len(cells)} values for {len(columns)} columns "
                    f"({', '.join(columns)})",
                )
            )

    def note(index: int, column: str, text: str) -> None:
        problems.append((lines[index], f"line {lines[index]}, column {column}: {text}"))

    names = NameResolver(catalog)
    try:
        validated = _csv_rows(ordered).validate_python(rows)
    except ValidationError as error:
        _csv_problems(error, rows, ordered, names, note)
        raise DatasetError([problem for _, problem in sorted(problems, key=_first)]) from None
    observations = _observations(_as_fields(validated, ordered), names, note)
    if problems:
        raise DatasetError([problem for _, problem in sorted(problems, key=_first)])
    return Dataset(observations=tuple(observations))


def load_csv_dataset(path: Path, catalog: Catalog) -> Dataset:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError([f"{path}: {error}"]) from None
    return parse_csv_dataset(text, catalog)


def _expected_columns() -> str:
    return f"{','.join(CSV_REQUIRED)}[,{','.join(CSV_COLUMNS[len(CSV_REQUIRED) :])}]"


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


def _first(pair: tuple[int, str]) -> int:
    return pair[0]


def _csv_problems(
    error: ValidationError,
    rows: list[tuple[str, ...]],
    columns: tuple[str, ...],
    names: NameResolver,
    note: Note,
) -> None:
    """Every bad cell, and every unknown name among the cells that are otherwise fine.

    Names are checked even when another cell of the row is bad, so one run reports everything.
    """
    bad: set[tuple[int, str]] = set()
    for problem in error.errors(include_url=False):
        # A tuple's errors are located by position: (row, cell, …).
        index, column = int(problem["loc"][0]), columns[int(problem["loc"][1])]
        if (index, column) not in bad:
            bad.add((index, column))
            note(index, column, _message(problem))
    for index, row in enumerate(rows):
        # service and region are the first two of CSV_COLUMNS, so of every row's cells
        for column, cell, known in (
            ("service", row[0], names.services),
            ("region", row[1], names.regions),
        ):
            name = known[cell.strip()]
            if (index, column) not in bad and isinstance(name, UnknownName):
                note(index, column, unknown_text(name))


def embedded_dataset_path() -> Path:
    return Path(__file__).parents[1] / "data" / "default.json"

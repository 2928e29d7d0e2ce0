"""The quick CSV reader takes a file only when the locating reader would take it without a word,
and then makes exactly the records that one makes; anything else is left to the locating one,
so every problem is still reported at its line and column, in the same words."""

from __future__ import annotations

import csv
import io
import sys
import unicodedata

import pytest

from bot.core.catalog import default_catalog
from bot.imports.dataset import (
    DatasetError,
    _csv_by_line,
    _well_formed_csv,
    parse_csv_dataset,
)
from storage.records import Dataset

HEADER = ("service", "region", "at", "count", "source", "url", "baseline")
GOOD_ROW = {
    "service": "x",
    "region": "pk",
    "at": "2025-03-10T10:00:00Z",
    "count": "5",
    "source": "Monitor",
    "url": "",
    "baseline": "",
}

# Cells either reader might read differently if they did not share their rules: padding,
# signs, other digits, number spellings, times with and without offsets, names by alias.
TRICKY = {
    "count": [
        "5",
        " 5",
        "5 ",
        "\t5",
        "05",
        "+5",
        "-1",
        "-0",
        "0",
        "5.0",
        "5.5",
        "1e3",
        "1_000",
        "0x10",
        "",
        " ",
        "٥",
        "５",
        "9" * 25,
        "True",
        "nan",
    ],
    "at": [
        "2025-03-10T10:00:00Z",
        "2025-03-10T10:00:00z",
        "2025-03-10T10:00:00+05:00",
        "2025-03-10T10:00:00-00:30",
        "2025-03-10T10:00:00.250Z",
        "2025-03-10 10:00:00Z",
        " 2025-03-10T10:00:00Z ",
        "2025-03-10T10:00Z",
        "2025-03-10T10:00:00",
        "2025-03-10",
        " 2025-03-10",
        "20250310",
        "2025-03-10T10",
        "2025-W11-1",
        "2025-02-30",
        "1741600000",
        "",
        "soon",
    ],
    "service": ["x", " X ", "twitter", "x.com", "Twitter ", "twiter", "", " "],
    "region": ["pk", "PAK", "Pakistan", " pakistan ", "United Kingdom", "Pakistn", "", " "],
    "source": ["Monitor", " Monitor ", "Downdetector, via Dawn", "M\nN", "", " ", "\u200bM"],
    "url": ["", " ", "https://example.org/", " https://example.org/ "],
    "baseline": ["", " ", "7.5", "7", " 7 ", "0", "-2", "1e3", "nan", "inf", "lots"],
}

# The cells a well-formed file is made of: these at least must take the quick way.
QUICK = {
    "count": ["5", " 5", "05", "0"],
    "at": ["2025-03-10T10:00:00Z", "2025-03-10T10:00:00+05:00", "2025-03-10"],
    "service": ["x", "twitter", " X "],
    "region": ["pk", "Pakistan"],
    "source": ["Monitor", "Downdetector, via Dawn"],
    "url": ["", "https://example.org/"],
    "baseline": ["", "7.5"],
}


def csv_text(*rows: dict[str, str], header: tuple[str, ...] = HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([row[column] for column in header] for row in rows)
    return out.getvalue()


def both_readers(text: str) -> tuple[Dataset | None, Dataset | DatasetError]:
    catalog = default_catalog()
    quick = _well_formed_csv(text, catalog)
    try:
        located: Dataset | DatasetError = _csv_by_line(text, catalog)
    except DatasetError as error:
        located = error
    return quick, located


def assert_agree(text: str) -> Dataset | None:
    """The quick reader's records are the locating reader's, to the type (5 is not 5.0)."""
    quick, located = both_readers(text)
    if isinstance(located, DatasetError):
        assert quick is None, located.problems
    elif quick is not None:
        assert repr(quick) == repr(located)
    return quick


@pytest.mark.parametrize(
    ("column", "cell"), [(column, cell) for column, cells in TRICKY.items() for cell in cells]
)
def test_the_quick_reader_takes_a_cell_only_as_the_locating_reader_reads_it(column, cell):
    assert_agree(csv_text(GOOD_ROW, {**GOOD_ROW, column: cell}))


@pytest.mark.parametrize(
    ("column", "cell"), [(column, cell) for column, cells in QUICK.items() for cell in cells]
)
def test_well_formed_cells_take_the_quick_way(column, cell):
    assert assert_agree(csv_text(GOOD_ROW, {**GOOD_ROW, column: cell})) is not None


def test_padding_is_read_alike_whatever_counts_as_whitespace():
    """Python's str.strip and pydantic's (Rust's) trimming disagree on a few characters, such as
    the information separators U+001C–U+001F; the quick reader must not depend on either."""
    spacey = [
        chr(code)
        for code in range(sys.maxunicode + 1)
        if chr(code).isspace() or unicodedata.category(chr(code)) in {"Zs", "Zl", "Zp", "Cf"}
    ]
    assert len(spacey) > 50
    for char in spacey:
        for column, value in (("source", "Monitor"), ("service", "x"), ("count", "5")):
            assert_agree(csv_text({**GOOD_ROW, column: f"{char}{value}{char}"}))


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(csv_text(GOOD_ROW, GOOD_ROW) + "\r\n\r\n", id="blank lines at the end"),
        pytest.param(
            csv_text(GOOD_ROW).replace("\r\n", "\r\n\r\n", 1) + "x,pk,2025-03-10,1,M,,\r\n",
            id="a blank line between rows",
        ),
        pytest.param(csv_text(GOOD_ROW, {**GOOD_ROW, "source": "two\nlines"}), id="quoted break"),
        pytest.param(csv_text(header=HEADER[:5]), id="a header alone"),
        pytest.param(
            csv_text(GOOD_ROW, header=("baseline", "source", "count", "at", "region", "service")),
            id="columns in another order",
        ),
        pytest.param("service,region,at,count,source\nx,pk,2025-03-10,5,M\n", id="five columns"),
    ],
)
def test_well_formed_files_take_the_quick_way_to_the_same_records(text):
    assert assert_agree(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(csv_text(GOOD_ROW) + ",,,,,,\r\n", id="a row of empty cells"),
        pytest.param(csv_text(GOOD_ROW) + " \r\n", id="a line of spaces"),
        pytest.param(csv_text(GOOD_ROW) + "x,pk\r\n", id="a short row"),
        pytest.param("\r\n" + csv_text(GOOD_ROW), id="a blank line before the header"),
        pytest.param(csv_text(GOOD_ROW) + 'x,"pk"z,a,1,b,,\r\n', id="a broken quote"),
        pytest.param("service,region,at,cuont,source\r\n", id="an unknown column"),
        pytest.param("", id="nothing"),
    ],
)
def test_anything_unusual_is_left_to_the_locating_reader(text):
    quick, _ = both_readers(text)
    assert quick is None
    assert_agree(text)


def test_a_bad_cell_deep_in_a_large_file_is_still_placed_at_its_line():
    rows = [{**GOOD_ROW, "at": f"2025-03-10T10:{minute % 60:02d}:00Z"} for minute in range(2000)]
    rows[1233] = {**rows[1233], "count": "-3"}
    rows[1500] = {**rows[1500], "region": "Pakistn"}
    with pytest.raises(DatasetError) as raised:
        parse_csv_dataset(csv_text(*rows), default_catalog())
    assert raised.value.problems == [
        "line 1235, column count: Input should be greater than or equal to 0",
        "line 1502, column region: unknown region 'Pakistn' (did you mean Pakistan?)",
    ]

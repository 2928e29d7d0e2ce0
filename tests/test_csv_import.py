"""CSV import: the JSON rules (validated, all or nothing, idempotent), by line and column."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.catalog import default_catalog
from bot.imports.dataset import DatasetError, parse_csv_dataset
from storage.database import Database
from storage.observations import count_observations

# A spreadsheet export as it comes: BOM, CRLF, a quoted source with a comma, blank lines at the end.
GOOD = (
    "\ufeffservice,region,at,count,source,url\r\n"
    'twitter,pk,2025-03-10T15:02:00+05:00,65,"Downdetector, via Dawn",https://www.dawn.com/\r\n'
    'X,"United Kingdom",2025-03-10,10800,Downdetector via Dawn,\r\n'
    "x.com,PAK,2025-03-10T16:32:00Z,109,Downdetector via Dawn,\r\n"
    "\r\n"
    "\r\n"
)


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def import_file(database: str, path: Path) -> int:
    """`outagebot import` into a database of this file's rows only, without the bundled dataset."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OUTAGEBOT_BUNDLED_DATASET", "false")
        return main(["--database", str(database), "import", str(path)])


def observations_in(database: str) -> int:
    async def count() -> int:
        db = await Database.open(database)
        try:
            return await count_observations(db)
        finally:
            await db.close()

    return asyncio.run(count())


def test_a_good_csv_imports_and_a_second_import_adds_nothing(tmp_path, database_target, capsys):
    path = write(tmp_path, GOOD)
    assert import_file(database_target, path) == 0
    assert "imported 3 new observations" in capsys.readouterr().out
    assert import_file(database_target, path) == 0
    assert "imported 0 new observations" in capsys.readouterr().out
    assert observations_in(database_target) == 3


def test_csv_values_resolve_like_json_and_keep_quoted_commas():
    dataset = parse_csv_dataset(GOOD, default_catalog())
    rows = dataset.observations
    assert [(row.service, row.region) for row in rows] == [("x", "PK"), ("x", "GB"), ("x", "PK")]
    assert rows[0].source == "Downdetector, via Dawn"
    assert rows[0].url == "https://www.dawn.com/"
    assert rows[1].url is None
    assert [row.precision for row in rows] == ["minute", "day", "minute"]


def test_a_bad_count_on_line_4_is_located_and_nothing_is_stored(tmp_path, database_target, capsys):
    assert import_file(database_target, write(tmp_path, GOOD)) == 0
    before = observations_in(database_target)
    bad = (
        "service,region,at,count,source\n"
        "x,pk,2025-03-11T10:00:00Z,12,New monitor\n"
        "x,pk,2025-03-11T10:15:00Z,13,New monitor\n"
        "x,pk,2025-03-11T10:30:00Z,lots,New monitor\n"
        "x,pk,2025-03-11T10:45:00Z,14,New monitor\n"
    )
    assert import_file(database_target, write(tmp_path, bad, "bad.csv")) == 1
    err = capsys.readouterr().err
    assert "nothing imported, 1 problem:" in err
    assert "line 4, column count: Input should be a valid integer" in err
    assert observations_in(database_target) == before


def test_an_unknown_region_gets_a_did_you_mean(tmp_path, database_target, capsys):
    text = "service,region,at,count,source\nx,Pakistn,2025-03-10T10:00:00Z,5,Monitor\n"
    assert import_file(database_target, write(tmp_path, text)) == 1
    err = capsys.readouterr().err
    assert "line 2, column region: unknown region 'Pakistn' (did you mean Pakistan?)" in err


def test_a_missing_header_column_is_named(tmp_path, database_target, capsys):
    text = "service,region,at,source\nx,pk,2025-03-10T10:00:00Z,Monitor\n"
    assert import_file(database_target, write(tmp_path, text)) == 1
    assert "line 1: missing column count" in capsys.readouterr().err
    assert observations_in(database_target) == 0


def test_an_unknown_header_column_is_named():
    with pytest.raises(DatasetError) as raised:
        parse_csv_dataset("service,region,at,cuont,source\n", default_catalog())
    assert raised.value.problems == [
        "line 1: unknown column 'cuont'; expected service,region,at,count,source[,url,baseline]",
        "line 1: missing column count",
    ]


def test_every_bad_cell_is_reported_with_the_files_own_line_numbers():
    """A quoted field may span lines; later rows still carry the line an editor shows."""
    text = (
        "service,region,at,count,source\n"
        'x,pk,2025-03-10T10:00:00Z,5,"Monitor\nwith a two-line name"\n'
        "x,Pakistn,2025-03-10T10:00,-1,Monitor\n"
        "x,pk\n"
    )
    with pytest.raises(DatasetError) as raised:
        parse_csv_dataset(text, default_catalog())
    assert raised.value.problems == [
        "line 4, column at: needs a UTC offset, e.g. 2025-03-10T15:02:00+05:00 or ...Z",
        "line 4, column count: Input should be greater than or equal to 0",
        "line 4, column region: unknown region 'Pakistn' (did you mean Pakistan?)",
        "line 5: 2 values for 5 columns (service, region, at, count, source)",
    ]


def test_an_empty_or_malformed_csv_says_what_is_wrong():
    with pytest.raises(DatasetError, match="line 1: no header row"):
        parse_csv_dataset("\ufeff\n\n", default_catalog())
    with pytest.raises(DatasetError, match="line 2: "):
        parse_csv_dataset('service,region,at,count,source\nx,"pk"z,a,1,b\n', default_catalog())


def test_files_not_ending_in_csv_are_still_read_as_json(tmp_path, database_target, capsys):
    path = write(tmp_path, GOOD, "data.txt")
    assert import_file(database_target, path) == 1
    assert "line 1, column 1" in capsys.readouterr().err  # a JSON syntax error


def test_optional_cells_may_be_empty_and_are_checked_when_filled():
    text = (
        "service,region,at,count,source,url,baseline\n"
        "x,pk,2025-03-10T10:00:00Z,5,Monitor,,\n"
        "x,pk,2025-03-10T10:15:00Z, 6 ,Monitor , https://example.org/ ,7.5\n"
    )
    first, second = parse_csv_dataset(text, default_catalog()).observations
    assert (first.url, first.baseline) == (None, None)
    assert (second.count, second.source, second.url, second.baseline) == (
        6,
        "Monitor",
        "https://example.org/",
        7.5,
    )
    bad = text + "x,pk,2025-03-10T10:30:00Z,7,  ,,-2\nx,pk\ntwiter,pk,2025-03-10,8,M,,lots\n"
    with pytest.raises(DatasetError) as raised:
        parse_csv_dataset(bad, default_catalog())
    assert raised.value.problems == [
        "line 4, column source: must not be blank",
        "line 4, column baseline: Input should be greater than or equal to 0",
        "line 5: 2 values for 7 columns (service, region, at, count, source, url, baseline)",
        "line 6, column baseline: Input should be a valid number, unable to parse string as a "
        "number",
        "line 6, column service: unknown service 'twiter' (did you mean X?)",
    ]


def test_columns_in_any_order_land_in_their_fields_and_problems_name_the_right_column():
    text = (
        "baseline,source,count,at,region,service\n"
        "2.5,Monitor,5,2025-03-10T10:00:00Z,pk,x\n"
        "-1,Monitor,many,2025-03-10T10:15:00Z,Pakistn,x\n"
    )
    with pytest.raises(DatasetError) as raised:
        parse_csv_dataset(text, default_catalog())
    assert raised.value.problems == [
        "line 3, column count: Input should be a valid integer, unable to parse string as an "
        "integer",
        "line 3, column baseline: Input should be greater than or equal to 0",
        "line 3, column region: unknown region 'Pakistn' (did you mean Pakistan?)",
    ]
    (row,) = parse_csv_dataset(text.rsplit("\n", 2)[0] + "\n", default_catalog()).observations
    assert (row.service, row.region, row.count, row.source, row.baseline, row.url) == (
        "x",
        "PK",
        5,
        "Monitor",
        2.5,
        None,
    )

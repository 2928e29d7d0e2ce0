"""Access Now's STOP shutdown tracker (CSV) as restrictions, through `outagebot import`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.catalog import default_catalog
from bot.imports.files import load_dataset_file
from bot.imports.reading import DatasetError
from bot.imports.stop import is_stop_file, parse_stop_csv
from storage.database import Database
from storage.imports import import_dataset
from storage.records import PartialDate, Restriction
from storage.restrictions import count_restrictions, restrictions_in

# STOP's header as its Google Sheet exports it to CSV (gviz `tqx=out:csv`), column for column.
# Checked against the public parsers of that export in RoyalLionSun/Iran-Censorship-Monitor
# (lib/accessnow.mjs, tests/accessnow.test.mjs) and Muhanad-husn/The-global-cost-of-internet-
# shutdowns (src/internet_shutdowns/clean.py, IMPLEMENTATION_PLAN.md); see docs/data-format.md.
# The rows' values are made up for these tests, not quoted from STOP.
HEADER = (
    "start_date_type,start_date,country,geo_scope,area_name,shutdown_type,affected_network,"
    "shutdown_extent,ordered_by,decision_maker,actual_cause,actual_cause_details,info_source,"
    "info_source_link,shutdown_status,end_date,duration,gov_justification,gov_ack,"
    "facebook_affected,twitter_affected,whatsapp_affected,instagram_affected,telegram_affected,"
    "other_affected,sms_affected,phonecall_affected,telcos_involved,election,violence,"
    "hr_abuse_reported,users_targeted,users_target_detail,event,an_link,region"
)
BLOCK = (
    "Actual,2/17/2024,Pakistan,It affected more than one province,Nationwide,Shutdown,"
    '"Broadband, Mobile",Service-based,Executive government,Telecom regulator,Elections,,'
    'News media article,"https://news.example/pk-1; https://news.example/pk-2",Ongoing,,,'
    "National security,Yes,Yes,Yes,No,No,No,,No,No,,Yes,No,No,,,"
    '"Platforms blocked, with ""no end date"" given",https://www.accessnow.org/example/,Asia'
)
SHUTDOWN = (
    "Actual,9/21/2022,Iran (Islamic Republic of),It affected one province,Kurdistan,Shutdown,"
    "Mobile,Full network,Executive government,,Protests,,CSO KIO partners,"
    "https://measurement.example/ir,Ended,10/7/2022,17,,No,No,No,No,No,No,,No,No,,No,Yes,No,,,"
    "Mobile data cut,,MENA"
)
THROTTLE = (
    "Actual,3/10/2021,Russian Federation,It affected more than one province,Nationwide,Throttle,"
    "Mobile,Service-based,Regulator,,Information control,,Government statement,"
    "https://news.example/ru,Ended,5/17/2021,68,Failure to remove content,Yes,No,Yes,No,No,No,,"
    "No,No,,No,No,No,,,Slowed down,,Europe"
)
STOP = "\n".join([HEADER, BLOCK, SHUTDOWN, THROTTLE]) + "\n"


def write(tmp_path: Path, text: str, name: str = "stop.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def import_file(database: str, path: Path) -> int:
    """`outagebot import` into a database of this file's rows only, without the bundled dataset."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OUTAGEBOT_BUNDLED_DATASET", "false")
        return main(["--database", str(database), "import", str(path)])


def stored(database: str, *regions: str) -> list[Restriction]:
    async def read() -> list[Restriction]:
        db = await Database.open(database)
        try:
            return [row for region in regions for row in await restrictions_in(db, region)]
        finally:
            await db.close()

    return asyncio.run(read())


def count_in(database: str) -> int:
    async def count() -> int:
        db = await Database.open(database)
        try:
            return await count_restrictions(db)
        finally:
            await db.close()

    return asyncio.run(count())


def test_stop_rows_become_restrictions_and_a_second_import_adds_nothing(
    tmp_path, database_target, capsys
):
    path = write(tmp_path, STOP)
    assert import_file(database_target, path) == 0
    assert "4 restrictions" in capsys.readouterr().out
    rows = {(r.region, r.service): r for r in stored(database_target, "PK", "IR", "RU")}
    assert {key: (r.kind, r.status) for key, r in rows.items()} == {
        ("PK", "x"): ("block", "active"),
        ("PK", "facebook"): ("block", "active"),
        ("IR", "internet"): ("shutdown", "lifted"),
        ("RU", "x"): ("throttle", "lifted"),
    }
    assert rows["PK", "x"].start == PartialDate(2024, 2, 17)
    assert rows["PK", "x"].end is None
    assert rows["IR", "internet"].end == PartialDate(2022, 10, 7)
    assert rows["PK", "x"].sources == ("Access Now STOP",)

    assert import_file(database_target, path) == 0
    assert "0 restrictions (0 timeline steps), 0 sources" in capsys.readouterr().out
    assert count_in(database_target) == 4


def test_an_unknown_country_names_line_and_column_and_changes_nothing(
    tmp_path, database_target, capsys
):
    assert import_file(database_target, write(tmp_path, STOP)) == 0
    before = stored(database_target, "PK", "IR", "RU")
    bad = STOP.replace("9/21/2022,Iran (Islamic Republic of)", "9/21/2022,Pakistn").replace(
        "Ended,5/17/2021", "Ended,5/17/2022"
    )
    assert import_file(database_target, write(tmp_path, bad, "bad.csv")) == 1
    err = capsys.readouterr().err
    assert "nothing imported, 1 problem:" in err
    assert "line 3, column country: unknown region 'Pakistn' (did you mean Pakistan?)" in err
    assert stored(database_target, "PK", "IR", "RU") == before


def test_the_record_keeps_who_said_what_side_by_side():
    dataset = parse_stop_csv(STOP, default_catalog())
    by_key = {(r.region, r.service): r for r in dataset.restrictions}
    block = by_key["PK", "x"]
    assert block.grounds == "Government: National security; Access Now: Elections"
    assert block.authority == (
        "Executive government, Telecom regulator; the government acknowledged it"
    )
    assert [(str(s.on), s.text, s.source, s.url) for s in block.timeline] == [
        (
            "2024-02-17",
            "Recorded by Access Now's STOP tracker (Nationwide, It affected more than one "
            "province)",
            "Access Now STOP",
            "https://news.example/pk-1",
        ),
        (
            "2024-02-17",
            "Recorded by Access Now's STOP tracker (Nationwide, It affected more than one "
            "province), source 2 of 2",
            "Access Now STOP",
            "https://news.example/pk-2",
        ),
    ]
    shutdown = by_key["IR", "internet"]
    assert shutdown.grounds == "Government: none stated in the STOP record; Access Now: Protests"
    assert shutdown.note == "STOP record: type Shutdown; extent Full network; network Mobile"
    assert dataset.sources[0].name == "Access Now STOP"


def test_missing_wording_says_the_record_does_not_state_it():
    text = "start_date,end_date,country,shutdown_type\n2025-01-05,,Pakistan,Shutdown\n"
    (row,) = parse_stop_csv(text, default_catalog()).restrictions
    assert (row.service, row.kind, row.status) == ("internet", "shutdown", "active")
    assert row.authority == row.grounds == "Not stated in the STOP record"
    assert row.timeline[0].text == "Recorded by Access Now's STOP tracker"


def test_services_named_in_other_affected_and_extra_flag_columns_count():
    text = (
        "Start_Date,End_Date,Country,Shutdown_Type,Shutdown_Extent,YouTube_Affected,"
        "SMS_affected,other_affected\n"
        '2024-05-01,2024-05-03,pk,Shutdown,Service-based,TRUE,TRUE,"Signal, Viber"\n'
    )
    rows = parse_stop_csv(text, default_catalog()).restrictions
    assert sorted(r.service for r in rows) == ["signal", "youtube"]
    assert {r.status for r in rows} == {"lifted"}
    assert (
        rows[0].note
        == "STOP record: type Shutdown; extent Service-based; also affected: sms, Viber"
    )


def test_rows_for_one_shutdown_in_several_areas_become_one_record():
    text = (
        "start_date,end_date,country,area_name,shutdown_type,shutdown_extent,shutdown_status\n"
        "8/4/2019,8/5/2019,India,Jammu,Shutdown,Full network,Ended\n"
        "8/4/2019,,India,Kashmir,Shutdown,Full network,Ongoing\n"
    )
    (row,) = parse_stop_csv(text, default_catalog()).restrictions
    assert (row.service, row.status, row.end) == ("internet", "active", None)
    assert [step.text for step in row.timeline] == [
        "Recorded by Access Now's STOP tracker (Jammu)",
        "Recorded by Access Now's STOP tracker (Kashmir)",
    ]


def test_every_bad_cell_is_reported_by_line_and_column():
    text = (
        "start_date,end_date,country,shutdown_type,shutdown_status,twitter_affected\n"
        "17/2/2024,,Pakistan,Shutdown,Ongoing,Yes\n"
        "2/17/2024,3/1/2024,Pakistan,Shutdown,Ongoing,Maybe\n"
        "2/17/2024,,Pakistan,Blackout,Ended,No\n"
    )
    with pytest.raises(DatasetError) as raised:
        parse_stop_csv(text, default_catalog())
    assert raised.value.problems == [
        "line 2, column start_date: expected a date as M/D/YYYY (as Access Now's sheet writes "
        "it) or YYYY-MM-DD, got '17/2/2024'",
        "line 3, column end_date: the record says the shutdown is Ongoing but gives an end date",
        "line 3, column twitter_affected: expected Yes or No, got 'Maybe'",
        "line 4, column end_date: the record says the shutdown Ended but gives no end date",
        "line 4, column shutdown_type: expected Shutdown, Throttle or both (or Full network / "
        "Service-based), got 'Blackout'",
    ]


def test_a_missing_column_is_named():
    with pytest.raises(DatasetError) as raised:
        parse_stop_csv("start_date,shutdown_type\n", default_catalog())
    assert raised.value.problems == ["line 1: missing columns end_date, country"]


def test_plain_observation_csv_still_imports_as_observations(tmp_path):
    observations = "service,region,at,count,source\nx,pk,2025-03-10T10:00:00Z,5,Monitor\n"
    plain = load_dataset_file(write(tmp_path, observations, "counts.csv"), default_catalog())
    assert len(plain.observations) == 1
    assert not plain.restrictions
    stop = load_dataset_file(write(tmp_path, STOP), default_catalog())
    assert len(stop.restrictions) == 4
    assert not stop.observations


def test_a_stop_file_is_told_by_its_header_even_with_a_broken_row_below(tmp_path):
    """Only the header decides the reader, so STOP's own reader names the broken row."""
    broken = write(tmp_path, "\ufeff\n" + "\n".join([HEADER, BLOCK, 'Actual,"2/17/2024"x']))
    assert is_stop_file(broken)
    with pytest.raises(DatasetError) as raised:
        load_dataset_file(broken, default_catalog())
    assert raised.value.problems[0].startswith("line 4: ")
    assert not is_stop_file(write(tmp_path, "service,region,at,count,source\n", "counts.csv"))


async def ban_record(harness, card) -> str:
    """What a person reads after tapping the card's 📜 Ban record button."""
    data = next(d for d in card.callback_data if d.startswith("st|b|"))
    [view] = await harness.driver.press(card, data)
    return view.plain


async def test_status_shows_the_stop_restriction_with_its_source(bot_harness):
    services = bot_harness.services
    await import_dataset(services.db, parse_stop_csv(STOP, services.catalog))
    card = await bot_harness.send("/status facebook pk")
    assert "Facebook is blocked in Pakistan (since 17 February 2024 — Access Now STOP" in card.plain
    text = await ban_record(bot_harness, card)
    assert "Access Now STOP" in text
    assert "Recorded by Access Now's STOP tracker (Nationwide" in text
    assert "Government: National security; Access Now: Elections" in text


async def test_a_block_recorded_by_two_sources_is_shown_side_by_side(bot_harness):
    """STOP dates X's block 17 Feb 2024; the court record says February 2024. Never merged."""
    services = bot_harness.services
    await import_dataset(services.db, parse_stop_csv(STOP, services.catalog))
    text = await ban_record(bot_harness, await bot_harness.send("/status x pk"))
    featured, _, rest = text.partition("Also on record:")
    assert "Blocked in Pakistan since February 2024" in featured  # the fuller legal record leads
    assert "Sindh High Court" in featured
    assert "Blocked in Pakistan since 17 February 2024 (active)" in rest
    assert "Access Now STOP" in rest

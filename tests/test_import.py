"""Dataset import: all or nothing, idempotent, and every problem located by record and field."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.core.catalog import default_catalog
from bot.imports.dataset import DatasetError, embedded_dataset_path, load_dataset, parse_dataset
from storage.database import Database
from storage.events import count_events
from storage.imports import import_dataset
from storage.observations import count_observations
from storage.records import Observation
from storage.restrictions import count_restrictions

GOOD = {
    "observations": [
        {
            "service": "twitter",
            "region": "pk",
            "at": "2025-03-10T15:02:00+05:00",
            "count": 65,
            "source": "Downdetector via Dawn",
        },
        {
            "service": "X",
            "region": "United Kingdom",
            "at": "2025-03-10",
            "count": 10800,
            "qualifier": "at_least",
            "source": "Downdetector via Dawn",
        },
    ],
    "events": [
        {
            "service": "x",
            "region": "global",
            "at": "2025-03-10T14:17:00Z",
            "kind": "statement",
            "text": "International outage, not country-level filtering",
            "source": "NetBlocks",
        },
    ],
    "restrictions": [
        {
            "service": ["facebook", "ig"],
            "region": "Pakistan",
            "kind": "block",
            "status": "lifted",
            "start": "2024-01",
            "end": "2024-01",
            "authority": "Not acknowledged",
            "grounds": "None given",
            "sources": ["Recorded Future News"],
            "timeline": [
                {
                    "on": "2024-01",
                    "text": "PTA blamed a technical failure",
                    "source": "PTA via Recorded Future News",
                }
            ],
        },
    ],
}


def write(tmp_path: Path, data: object, name: str = "data.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


async def counts(path: str) -> tuple[int, int, int]:
    db = await Database.open(path)
    try:
        return (await count_observations(db), await count_events(db), await count_restrictions(db))
    finally:
        await db.close()


def test_embedded_dataset_is_valid_and_every_record_has_a_source():
    dataset = load_dataset(embedded_dataset_path(), default_catalog())
    assert len(dataset.observations) >= 9
    assert all(row.source for row in (*dataset.observations, *dataset.events))
    for restriction in dataset.restrictions:
        assert restriction.sources
        assert all(step.source for step in restriction.timeline)


def test_import_twice_adds_nothing_the_second_time(tmp_path, database_target, capsys, monkeypatch):
    monkeypatch.setenv("OUTAGEBOT_BUNDLED_DATASET", "false")  # count this file's rows alone
    path = write(tmp_path, GOOD)
    assert main(["--database", database_target, "import", str(path)]) == 0
    assert "imported 2 new observations, 1 events, 2 restrictions" in capsys.readouterr().out
    assert main(["--database", database_target, "import", str(path)]) == 0
    assert "imported 0 new observations, 0 events, 0 restrictions" in capsys.readouterr().out


async def test_import_resolves_aliases_to_catalog_keys(database_target):
    db = await Database.open(database_target)
    try:
        await import_dataset(db, parse_dataset(json.dumps(GOOD), default_catalog()))
        rows = await db.fetchall("SELECT DISTINCT service, region FROM observations ORDER BY 2")
        assert [(r["service"], r["region"]) for r in rows] == [("x", "GB"), ("x", "PK")]
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d["observations"][1].update(count=-3),
            "observations[1].count: Input should be greater than or equal to 0",
        ),
        (lambda d: d["observations"][0].update(count="lots"), "observations[0].count:"),
        (
            lambda d: d["observations"][0].update(at="2025-03-10T15:02:00"),
            "observations[0].at: needs a UTC offset",
        ),
        (lambda d: d["observations"][0].update(cuont=3), "observations[0].cuont: Extra inputs"),
        (lambda d: d["events"][0].update(kind="rumour"), "events[0].kind:"),
        (
            lambda d: d["restrictions"][0].update(region="Pakistn"),
            "restrictions[0].region: unknown region 'Pakistn' (did you mean Pakistan",
        ),
        (
            lambda d: d["restrictions"][0].update(start="Feb 2024"),
            "restrictions[0].start: expected YYYY, YYYY-MM or YYYY-MM-DD",
        ),
        (
            lambda d: d["restrictions"][0].pop("end"),
            "restrictions[0].end: a lifted restriction needs an end date",
        ),
        (
            lambda d: d["events"][0].update(service="twiter"),
            "events[0].service: unknown service 'twiter' (did you mean X?)",
        ),
    ],
)
def test_bad_import_names_record_and_field_and_changes_nothing(
    tmp_path, database_target, capsys, mutate, expected
):
    import asyncio

    assert main(["--database", database_target, "import", str(write(tmp_path, GOOD))]) == 0
    before = asyncio.run(counts(database_target))
    data = json.loads(json.dumps(GOOD))
    data["observations"].append(
        {"service": "x", "region": "pk", "count": 7, "source": "New", "at": "2025-03-10T16:00:00Z"}
    )
    mutate(data)
    code = main(["--database", database_target, "import", str(write(tmp_path, data, "b.json"))])
    err = capsys.readouterr().err
    assert code == 1
    assert "nothing imported" in err
    assert expected in err
    assert asyncio.run(counts(database_target)) == before


def test_malformed_json_names_line_and_column(tmp_path, database_target, capsys):
    path = write(tmp_path, '{\n  "observations": [\n    {"service": "x",}\n  ]\n}')
    assert main(["--database", database_target, "import", str(path)]) == 1
    assert "line 3, column" in capsys.readouterr().err


async def test_an_import_failing_inside_the_transaction_leaves_no_trace(database_target):
    """A constraint the validator cannot see (a negative count slipped past it) rolls back all."""
    from dataclasses import replace

    db = await Database.open(database_target)
    try:
        dataset = parse_dataset(json.dumps(GOOD), default_catalog())
        broken = replace(
            dataset,
            observations=(dataset.observations[0], dataset.observations[1]._replace(count=-1)),
        )
        with pytest.raises(Exception, match=r"(?i)check constraint"):
            await import_dataset(db, broken)
        assert await count_observations(db) == 0
        assert await count_restrictions(db) == 0
        assert await db.scalar("SELECT COUNT(*) FROM sources") == 0
    finally:
        await db.close()


def test_dataset_errors_list_every_problem_not_just_the_first():
    data = json.loads(json.dumps(GOOD))
    data["observations"][0]["count"] = -1
    data["events"][0]["region"] = "Atlantis"
    with pytest.raises(DatasetError) as raised:
        parse_dataset(json.dumps(data), default_catalog())
    assert len(raised.value.problems) == 1  # pydantic errors stop before name resolution
    data["observations"][0]["count"] = 1
    data["restrictions"][0]["service"] = ["facebok", "ig"]
    with pytest.raises(DatasetError) as raised:
        parse_dataset(json.dumps(data), default_catalog())
    assert [p.split(":")[0] for p in raised.value.problems] == [
        "events[0].region",
        "restrictions[0].service[0]",
    ]


def test_every_observation_field_lands_in_its_place():
    """Records are built positionally on the fast path: each field must reach its own slot."""
    row = {
        "service": " twitter ",
        "region": "pk",
        "at": "2025-03-10",
        "count": 10800,
        "source": " Downdetector via Dawn ",
        "url": "https://www.dawn.com/",
        "qualifier": "at_least",
        "note": "shortly before 14:00 GMT",
        "baseline": 12.5,
    }
    dataset = parse_dataset(json.dumps({"observations": [row]}), default_catalog())
    (observation,) = dataset.observations
    assert observation == Observation(
        service="x",
        region="PK",
        at=datetime(2025, 3, 10, tzinfo=UTC),
        count=10800,
        source="Downdetector via Dawn",
        url="https://www.dawn.com/",
        qualifier="at_least",
        precision="day",
        note="shortly before 14:00 GMT",
        baseline=12.5,
    )


def test_a_bad_time_and_a_bad_count_are_reported_together():
    data = json.loads(json.dumps(GOOD))
    data["observations"][0].update(at="2025-03-10T15:02:00", count=-1, source="  ")
    data["observations"][1].update(at="yesterday")
    with pytest.raises(DatasetError) as raised:
        parse_dataset(json.dumps(data), default_catalog())
    assert raised.value.problems == [
        "observations[0].at: needs a UTC offset, e.g. 2025-03-10T15:02:00+05:00 or ...Z",
        "observations[0].count: Input should be greater than or equal to 0",
        "observations[0].source: must not be blank",
        "observations[1].at: Invalid isoformat string: 'yesterday'",
    ]

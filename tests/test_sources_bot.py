"""Outside sources through the whole bot: the scheduled jobs, /sources, and `sources check`."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from source_server import FakeAPI, Reply, ok

import bot.cli.main
from bot.config.settings import SettingsError, load_settings
from bot.runtime.context import BotContext
from bot.runtime.source_jobs import FORGET_JOB, job_name
from bot.sources.evidence import source_lines_for
from storage.source_health import health_of

ADMIN = 1001  # the default driver's user id


@pytest.fixture
def api():
    with FakeAPI() as server:
        server.route("/api/v2/summary.json", ok("statuspage_summary.json"))
        server.route("/api/v2/incidents.json", ok("statuspage_incidents.json"))
        yield server


def sources_file(tmp_path: Path, api: FakeAPI, extra: str = "") -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(
        f"""
[defaults]
interval = 300
timeout = 0.3
retries = 0

[[sources]]
name = "Discord status page"
kind = "statuspage"
url = "{api.url}"
service = "discord"

[[sources]]
name = "IODA"
kind = "ioda"
url = "{api.url}/v2"
regions = ["Pakistan"]
interval = 600
{extra}
""",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def harness(make_harness, tmp_path, api):
    async for made in make_harness(
        admin_ids=frozenset({ADMIN}), sources_file=sources_file(tmp_path, api)
    ):
        yield made


async def run_job(harness, name: str) -> None:
    """The scheduled job's callback itself, as the JobQueue calls it; it must not raise."""
    [job] = harness.application.job_queue.get_jobs_by_name(job_name(name))
    await job.callback(BotContext.from_job(job, harness.application))


async def test_each_source_gets_its_own_job_on_its_own_interval(harness):
    jobs = {
        job.name: job.trigger.interval.total_seconds()
        for job in harness.application.job_queue.jobs()
        if job.name.startswith("source:")
    }
    assert jobs == {"source:Discord status page": 300, "source:IODA": 600}


async def test_admin_sees_each_source_with_its_health(harness, api):
    await run_job(harness, "Discord status page")
    api.route("/v2/outages/events", Reply(status=503))
    harness.clock.advance(minutes=2)
    await run_job(harness, "IODA")
    harness.clock.advance(minutes=3)
    text = (await harness.send("/sources")).plain
    assert "Outside sources (2, from" in text
    assert "1 failing: their lines on cards may be out of date." in text
    failing, healthy = text.split("\n\n")[1:3]
    assert failing.startswith("❌ IODA · ioda · every 10 min")
    assert "failing for 3 min (1 run): HTTP 503 (GET /v2/outages/events, 1 attempt)" in failing
    assert "never succeeded · watching PK" in failing
    assert healthy.startswith("✅ Discord status page · statuspage · every 5 min")
    assert "last success 5 min ago · 4 items · watching discord everywhere" in healthy


async def test_a_source_not_run_yet_says_so(harness):
    text = (await harness.send("/sources")).plain
    assert "⏳ IODA · ioda · every 10 min\n    not run yet" in text


async def test_someone_else_is_refused(make_harness, tmp_path, api):
    async for harness in make_harness(
        admin_ids=frozenset({42}), sources_file=sources_file(tmp_path, api)
    ):
        reply = await harness.send("/sources")
        assert reply.plain == "Only the bot's admins can see its sources."


async def test_without_a_sources_file_the_bot_runs_as_before(make_harness):
    async for harness in make_harness(admin_ids=frozenset({ADMIN})):
        assert not [j for j in harness.application.job_queue.jobs() if j.name.startswith("source:")]
        assert "No outside sources are configured" in (await harness.send("/sources")).plain
        assert "X" in (await harness.send("/status X Pakistan")).plain


async def test_a_broken_sources_file_is_shown_not_fatal(make_harness, tmp_path, api):
    path = sources_file(tmp_path, api, extra='signals = ["gtr"]\n')
    async for harness in make_harness(admin_ids=frozenset({ADMIN}), sources_file=path):
        text = (await harness.send("/sources")).plain
        assert "could not be used, so no source runs" in text
        assert "source 'IODA': signals: unknown gtr" in text
        assert "Pakistan" in (await harness.send("/status X Pakistan")).plain


async def test_a_job_never_raises_whatever_happens(harness, caplog):
    del harness.application.bot_data.sources.adapters["IODA"]  # its setup went missing
    await run_job(harness, "IODA")
    assert "source job IODA failed outside the source's own run" in caplog.text
    await harness.services.db.close()  # even the database gone: logged, not raised
    await run_job(harness, "Discord status page")


async def test_a_failing_source_leaves_replies_and_other_sources_alone(harness, api):
    api.route("/v2/outages/events", Reply(hang=True))
    await run_job(harness, "IODA")
    await run_job(harness, "Discord status page")
    db = harness.services.db
    assert (await health_of(db, "IODA")).failing  # type: ignore[union-attr]
    assert not (await health_of(db, "Discord status page")).failing  # type: ignore[union-attr]
    assert "Pakistan" in (await harness.send("/status X Pakistan")).plain


async def test_a_source_taken_out_of_the_file_stops_speaking_on_cards(make_harness, tmp_path, api):
    api.route("/v2/outages/events", Reply(status=500))
    path = sources_file(tmp_path, api)
    async for harness in make_harness(sources_file=path):
        await run_job(harness, "IODA")
        assert (await source_lines_for(harness.services.db, "x", "PK")).failing
    path.write_text(path.read_text().split('[[sources]]\nname = "IODA"')[0])
    async for harness in make_harness(sources_file=path):
        [job] = harness.application.job_queue.get_jobs_by_name(FORGET_JOB)
        await job.callback(BotContext.from_job(job, harness.application))
        assert (await source_lines_for(harness.services.db, "x", "PK")).failing == []
        assert await health_of(harness.services.db, "IODA") is None
        await run_job(harness, "Discord status page")
    async for harness in make_harness():  # no sources file at all: every source forgotten
        [job] = harness.application.job_queue.get_jobs_by_name(FORGET_JOB)
        await job.callback(BotContext.from_job(job, harness.application))
        assert await health_of(harness.services.db, "Discord status page") is None


# ------------------------------------------------------------------ outagebot sources check


def check(monkeypatch, tmp_path: Path, *args: str) -> int:
    for key in list(os.environ):
        if key.startswith("OUTAGEBOT_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # no .env from the developer's checkout
    monkeypatch.setattr(bot.cli.main, "configure_logging", lambda *a, **k: None)
    return bot.cli.main.main(
        ["--database", str(tmp_path / "check.sqlite3"), "sources", "check", *args]
    )


def test_sources_check_prints_what_came_back_and_exits_0(monkeypatch, tmp_path, capsys, api):
    api.route("/v2/outages/events", ok("ioda_outages_events_PK.json"))
    api.route_by(
        "/v2/signals/raw/country/PK",
        "datasource",
        {s: ok(f"ioda_signals_{s}_PK.json") for s in ("bgp", "ping-slash24", "merit-nt")},
    )
    code = check(monkeypatch, tmp_path, "--file", str(sources_file(tmp_path, api)))
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].split() == ["source", "kind", "targets", "result", "time"]
    assert out[1].startswith("Discord status page  statuspage  1        ok: 4 events")
    assert out[2].startswith("IODA                 ioda        1        ok: 2 events, 3 readings")
    assert out[3] == "2 of 2 sources answered."
    with sqlite3.connect(tmp_path / "check.sqlite3") as stored:  # a check stores nothing
        assert stored.execute("SELECT COUNT(*) FROM events").fetchone() == (0,)
        assert stored.execute("SELECT COUNT(*) FROM source_health").fetchone() == (0,)


def test_sources_check_says_why_not_and_exits_1(monkeypatch, tmp_path, capsys, api):
    api.route("/v2/outages/events", Reply(body=b"<html>Bad gateway</html>"))
    code = check(monkeypatch, tmp_path, "--file", str(sources_file(tmp_path, api)))
    out = capsys.readouterr().out
    assert code == 1
    assert "failed: malformed JSON (Expecting value: line 1 column 1 (char 0))" in out
    assert "1 of 2 sources answered." in out


def test_sources_check_without_a_file_explains_and_exits_2(monkeypatch, tmp_path, capsys):
    assert check(monkeypatch, tmp_path) == 2
    assert "OUTAGEBOT_SOURCES_FILE" in capsys.readouterr().err


def test_a_missing_sources_file_stops_the_bot_at_start_naming_the_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("OUTAGEBOT_SOURCES_FILE", str(tmp_path / "nowhere.toml"))
    with pytest.raises(SettingsError, match=r"OUTAGEBOT_SOURCES_FILE: .*existing sources file"):
        load_settings(_env_file=None)

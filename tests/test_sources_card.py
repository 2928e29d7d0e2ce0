"""The /status card tells the three situations apart, with who measured them, and says when a
source behind it is failing: the IODA job, the refresh job and /status through the real stack."""

from __future__ import annotations

from pathlib import Path

import pytest
from source_server import FakeAPI, Reply, ok, sources_file

from bot.runtime.context import BotContext
from bot.runtime.jobs import REFRESH_JOB
from bot.runtime.source_jobs import job_name

SIGNALS_PK = "/v2/signals/raw/country/PK"
EVENTS = "/v2/outages/events"


def serve_ioda(api: FakeAPI, events: Reply | None = None) -> None:
    api.route(EVENTS, events or ok("ioda_outages_events_PK.json"))
    api.route_by(
        SIGNALS_PK,
        "datasource",
        {s: ok(f"ioda_signals_{s}_PK.json") for s in ("bgp", "ping-slash24", "merit-nt")},
    )


@pytest.fixture
def api():
    with FakeAPI() as server:
        yield server


@pytest.fixture
async def harness(make_harness, tmp_path: Path, api):
    path = sources_file(tmp_path, name="IODA", kind="ioda", url=f"{api.url}/v2")
    async for made in make_harness(sources_file=path):
        yield made


async def run_job(harness, name: str) -> None:
    [job] = harness.application.job_queue.get_jobs_by_name(name)
    await job.callback(BotContext.from_job(job, harness.application))


async def test_status_shows_the_countrys_connectivity_with_who_measured_it(harness, api):
    serve_ioda(api)
    await run_job(harness, job_name("IODA"))
    await run_job(harness, REFRESH_JOB)
    text = (await harness.send("/status x pk")).plain
    assert (
        "🌐 Internet in Pakistan: BGP-visible networks 40% below normal since 14:00 PKT "
        "(09:00 UTC) (IODA, 5 min ago)"
    ) in text
    assert "Updated 0 s ago" in text  # the prepared card, not one made on demand


async def test_status_says_when_the_source_behind_the_card_is_failing(harness, api):
    serve_ioda(api)
    await run_job(harness, job_name("IODA"))
    await run_job(harness, REFRESH_JOB)
    serve_ioda(api, events=Reply(status=500))
    harness.clock.advance(hours=3)
    await run_job(harness, job_name("IODA"))
    await run_job(harness, REFRESH_JOB)
    text = (await harness.send("/status youtube pakistan")).plain
    assert "⚠️ IODA data stale: last success 3 h ago (HTTP 500)" in text
    assert "X in Pakistan" in (await harness.send("/status x pk")).plain  # the rest still works

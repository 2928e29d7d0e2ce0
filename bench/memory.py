"""Peak memory of the bot on the 1,000,000-row history: target under 200 MB.

A child process (this file with --child) does what a bot does after a restart on that data:
builds the Application over the in-process Bot API, opens its services (loading the 10,000
prepared summaries), runs the refresh job's work for 100 pairs with new data, and answers
300 /status. It reports its own peak RSS (VmHWM in /proc/self/status) after each step; the
parent also reads ru_maxrss of its children. The database is bench/out/prepared-100.sqlite3
(made by `common.prepared_db`, shared with status_latency), copied.

    python bench/memory.py
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import common
from common import NOW, header, note, verdict

TARGET_MB = 200.0
DIRTY = 100
REQUESTS = 300


def vm(field: str) -> float:
    """A /proc/self/status figure in MB (VmHWM: peak RSS so far; VmRSS: now)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


async def child(database: str) -> None:
    steps: list[tuple[str, float, float]] = []

    def mark(step: str) -> None:
        steps.append((step, vm("VmRSS"), vm("VmHWM")))

    mark("python started, bench helpers imported")
    from bot.app.application import build_application, close_services, open_services
    from bot.config.settings import Settings
    from bot.core.clock import FixedClock
    from bot.offline.botapi import ChatDriver, InProcessBotAPI
    from storage.imports import import_dataset

    catalog = common.bench_catalog()
    mark("bot imported, catalog built")
    clock = FixedClock(NOW + timedelta(seconds=40))
    api = InProcessBotAPI(clock=lambda: clock.now().timestamp())
    settings = Settings(_env_file=None, database=Path(database))  # type: ignore[call-arg]
    application = build_application(settings, request=api, clock=clock, catalog=catalog)
    await application.initialize()
    await open_services(application)
    services = application.bot_data.state
    loaded = len(services.summaries.prepared)
    mark(f"services open, {loaded:,} summaries loaded")
    try:
        pairs = common.quiet_pairs(catalog)
        rng = random.Random(7)
        await import_dataset(services.db, common.one_more_reading(rng.sample(pairs, DIRTY)))
        start = time.perf_counter()
        report = await services.summaries.refresh(NOW)
        seconds = time.perf_counter() - start
        mark(f"refresh of {report.pairs} dirty pairs ({seconds:.1f} s)")
        driver = ChatDriver(application, api)
        for service, region in rng.sample(common.all_pairs(catalog), REQUESTS):
            await driver.send(f"/status {service} {region}")
        api.sent.clear()
        mark(f"{REQUESTS} /status answered")
    finally:
        await close_services(application)
        await application.shutdown()
    print(json.dumps(steps))


def main() -> None:
    header("memory", "python bench/memory.py")
    prepared = asyncio.run(common.prepared_db())
    path = common.copy_database(prepared, "memory")
    note("child process")
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(path)],
            capture_output=True,
            text=True,
            timeout=280,
            check=False,
        )
    finally:
        common.remove_database(path)
    if done.returncode != 0:
        raise SystemExit(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    steps = json.loads(done.stdout.strip().splitlines()[-1])
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"workload: one process opens the bot on {prepared.name} (10,000 pairs, 1,000,000 "
        f"rows), refreshes {DIRTY} dirty pairs, answers {REQUESTS} /status"
    )
    print("| step | RSS MB | peak RSS so far MB |")
    print("|---|---:|---:|")
    for step, rss, peak in steps:
        print(f"| {step} | {rss:.0f} | {peak:.0f} |")
    peak = steps[-1][2]
    ok = peak < TARGET_MB
    print(
        f"peak RSS {peak:.0f} MB (VmHWM; ru_maxrss {children_peak:.0f} MB) "
        f"(target < {TARGET_MB:.0f} MB) {verdict(ok)}"
    )
    print(f"memory: {int(ok)} of 1 pass")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        asyncio.run(child(sys.argv[2]))
    else:
        main()

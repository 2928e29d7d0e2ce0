"""/status latency through the real Application and the in-process Bot API.

Targets: p99 under 5 ms, and p99 under 2× that of a trivial echo command measured the same way
in the same run. The bot runs on the 1,000,000-row history with every pair's summary prepared
(bench/out/prepared-100.sqlite3, made once by `common.prepared_db`), as a bot is once its first
refresh is done. Each request is one `ChatDriver.send`, timed with `perf_counter_ns`: from the
update's JSON to the reply accepted by the in-process Bot API (which checks the HTML as
Telegram does). /status and /echo requests are interleaved in a shuffled order.

    python bench/status_latency.py
"""

from __future__ import annotations

import asyncio
import html
import random
import statistics
import time
from datetime import timedelta

import common
from common import NOW, bench_catalog, header, note, percentile, verdict
from telegram import Update
from telegram.ext import CommandHandler, ContextTypes

from bot.app.application import build_application, close_services, open_services
from bot.config.settings import Settings
from bot.core.arguments import parse_pair
from bot.core.clock import FixedClock
from bot.offline.botapi import ChatDriver, InProcessBotAPI

REQUESTS = 2000  # of each kind
WARMUP = 100  # of each kind, not counted
TARGET_P99_MS = 5.0
TARGET_RATIO = 2.0


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The baseline: the same Application and Bot API round trip, no work of its own."""
    await update.effective_message.reply_html(html.escape(" ".join(context.args) or "echo"))


def status_messages(catalog, count: int, rng: random.Random) -> list[str]:
    """What people type: names as the catalog shows them, codes where a name would not parse."""
    pairs = common.all_pairs(catalog)
    messages = []
    for service_key, region_code in rng.choices(pairs, k=count):
        service, region = catalog.service(service_key), catalog.region(region_code)
        text = f"{service.name} {region.name}"
        try:
            query = parse_pair(text, catalog, usage="")
            if (query.service, query.region) != (service, region):
                raise ValueError(text)
        except Exception:
            text = f"{service.key} {region.code}"
        messages.append(f"/status {text}")
    return messages


def figures(samples_ns: list[int]) -> dict[str, float]:
    ms = sorted(value / 1e6 for value in samples_ns)
    return {
        "p50": percentile(ms, 0.50),
        "p90": percentile(ms, 0.90),
        "p99": percentile(ms, 0.99),
        "max": ms[-1],
        "mean": statistics.fmean(ms),
    }


async def main() -> None:
    header("status_latency", "python bench/status_latency.py")
    catalog = bench_catalog()
    start = time.perf_counter()
    prepared = await common.prepared_db()
    made = time.perf_counter() - start
    path = common.copy_database(prepared, "status")
    clock = FixedClock(NOW + timedelta(seconds=40))
    api = InProcessBotAPI(clock=lambda: clock.now().timestamp())
    settings = Settings(_env_file=None, database=path)  # type: ignore[call-arg]
    application = build_application(settings, request=api, clock=clock, catalog=catalog)
    application.add_handler(CommandHandler("echo", echo))
    await application.initialize()
    await open_services(application)
    try:
        services = application.bot_data.state
        loaded = len(services.summaries.prepared)
        print(
            f"workload: {loaded:,} prepared summaries loaded (database ready in {made:.0f} s), "
            f"{REQUESTS:,} /status across random pairs + {REQUESTS:,} /echo, interleaved, "
            f"after {WARMUP} of each not counted; one chat, sequential"
        )
        rng = random.Random(20261122)
        statuses = status_messages(catalog, WARMUP + REQUESTS, rng)
        echoes = [f"/echo {text.removeprefix('/status ')}" for text in statuses]
        driver = ChatDriver(application, api)
        for text in [*statuses[:WARMUP], *echoes[:WARMUP]]:
            await driver.send(text)
        plan = [("status", text) for text in statuses[WARMUP:]]
        plan += [("echo", text) for text in echoes[WARMUP:]]
        rng.shuffle(plan)
        samples: dict[str, list[int]] = {"status": [], "echo": []}
        sizes: list[int] = []
        wrong = 0
        note(f"{len(plan):,} requests")
        for kind, text in plan:
            begin = time.perf_counter_ns()
            replies = await driver.send(text)
            samples[kind].append(time.perf_counter_ns() - begin)
            if len(replies) != 1:
                wrong += 1
            elif kind == "status":
                sizes.append(len(replies[0].text))
                wrong += "Updated" not in replies[0].plain  # a prepared card carries its age
        status, baseline = figures(samples["status"]), figures(samples["echo"])
        print(
            f"replies: status cards {statistics.fmean(sizes):,.0f} characters on average "
            f"(max {max(sizes):,}); {wrong} replies not as expected"
        )
        print("| request | p50 ms | p90 ms | p99 ms | max ms | mean ms |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, row in (("/status", status), ("/echo", baseline)):
            print(
                f"| {name} | {row['p50']:.2f} | {row['p90']:.2f} | {row['p99']:.2f} | "
                f"{row['max']:.2f} | {row['mean']:.2f} |"
            )
        ratio = status["p99"] / baseline["p99"]
        ok_abs = status["p99"] < TARGET_P99_MS
        ok_ratio = ratio < TARGET_RATIO
        print(
            f"/status p99 {status['p99']:.2f} ms (target < {TARGET_P99_MS:.0f} ms) "
            f"{verdict(ok_abs)}"
        )
        print(
            f"p99(/status) / p99(/echo) = {ratio:.2f} (target < {TARGET_RATIO:.0f}) "
            f"{verdict(ok_ratio)}; p50 ratio {status['p50'] / baseline['p50']:.2f}"
        )
        print(
            f"status_latency: {ok_abs + ok_ratio} of 2 pass"
            + ("" if wrong == 0 else f"; {wrong} WRONG REPLIES")
        )
    finally:
        await close_services(application)
        await application.shutdown()
        common.remove_database(path)


if __name__ == "__main__":
    asyncio.run(main())

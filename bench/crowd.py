"""A crowd at once (issue 14): N different people send `/status X Pakistan` at the same moment;
answers per second until the last one has its answer, outagebot beside a bare PTB echo bot, as
ratios measured in one run.

Everything runs on 127.0.0.1. A Bot API stand-in in a process of its own (bench/botapi.py) takes
`--delay` seconds to answer each sendMessage, as Telegram's round trip does, and holds a queue of
updates per bot token that getUpdates long-polls. Five bots run side by side, each its own
process and token:

    echo (concurrent)   a bare PTB echo bot with `concurrent_updates(True)`: the reference
    echo (concurrent; 16 connections)
                        the same with outagebot's pool of Bot API connections: against it,
                        what differs is outagebot's own work
    echo (default)      the same with PTB's defaults (one update at a time): context
    outagebot polling   `outagebot run` with its default settings
    outagebot webhook   `outagebot run --webhook`, the crowd posted by a Telegram stand-in
                        keeping at most OUTAGEBOT_WEBHOOK_MAX_CONNECTIONS (40) requests open

A crowd is N updates put in the bot's queue at one instant (for the webhook: N posts started
at one instant); the figure is N ÷ (last sendMessage answered − that instant). Each outagebot
must first answer with the card its own refresh prepared, and every answer of a measured crowd
must be that card, or the figure is marked invalid. `--rounds` rounds, in each every delay and
every bot in rotating order; ratios are taken per round and their median printed.

    python bench/crowd.py                       # about 3 minutes
    python bench/crowd.py --people 500 --delays 0.06 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

import httpx
from botapi import (
    HOST,
    BotAPIProtocol,
    bot_user,
    checkout_path,
    child_env,
    children,
    cpu_seconds,
    free_port,
    ok,
    params_of,
    sent_message,
    serve,
    start,
    status_message,
    stop,
)
from common import OUT, header, note

SECRET = "bench-crowd-secret_0123456789abcdef"
WEBHOOK_URL = "https://example.invalid/telegram"  # never contacted: --no-set-webhook
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_CONNECTIONS = 40  # Telegram opens at most max_connections; outagebot's default is 40
CARD_MARK = "since February 2024"  # on every /status X Pakistan card (its ban context)
PREPARED_MARK = "<i>Updated "  # the footer of a prepared card ("As of" when made on demand)
START_TIMEOUT = 120.0
CROWD_TIMEOUT = 180.0
LOGS = OUT / "crowd"
BOTS = (
    "echo (concurrent)",
    "echo (concurrent; 16 connections)",
    "echo (default)",
    "outagebot polling",
    "outagebot webhook",
)
ECHO_POOL = 16  # outagebot's own pool (bot.app.application.BOT_API_CONNECTIONS)
REFERENCE = "echo (concurrent)"


# --------------------------------------------------------------------------- the Bot API


@dataclass
class BotQueue:
    """One bot's side of the stand-in: its pending updates and what it has answered."""

    delay: float = 0.0
    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 1
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    started: float = 0.0
    expected: int = 0
    answered: int = 0
    last: float = 0.0
    cards: int = 0
    prepared: int = 0
    message_id: int = 0


class CrowdBotAPI(BotAPIProtocol):
    """Bot API methods under /bot<token>/, and two of its own for the bench:

    POST /crowd?token=&people=&first_chat=&delay=&queue=1|0  start a crowd (queue=0: webhook,
        the bench posts the updates itself; only the clock and the counters start)
    GET /stats?token=  what that bot has answered since its crowd started
    """

    queues: ClassVar[dict[str, BotQueue]] = {}

    def answer(self, verb: str, target: str, content_type: str, body: bytes) -> Any:
        path, _, query = target.partition("?")
        if path == "/crowd":
            return self.crowd({k: v[0] for k, v in parse_qs(query).items()})
        if path == "/stats":
            queue = self.queue(parse_qs(query)["token"][0])
            return json.dumps(
                {
                    "answered": queue.answered,
                    "seconds": queue.last - queue.started,
                    "cards": queue.cards,
                    "prepared": queue.prepared,
                    "pending": len(queue.updates),
                }
            ).encode()
        _, token, method = path.rsplit("/", 2)
        queue = self.queue(token.removeprefix("bot"))
        if method == "getMe":
            return ok(bot_user(int(token.removeprefix("bot").split(":", 1)[0])))
        if method == "getUpdates":
            return self.get_updates(queue, params_of(body, content_type))
        if method == "sendMessage":
            return self.send_message(queue, params_of(body, content_type))
        return ok(True)

    def queue(self, token: str) -> BotQueue:
        return self.queues.setdefault(token, BotQueue())

    def crowd(self, params: dict[str, str]) -> bytes:
        queue = self.queue(params["token"])
        people, first = int(params["people"]), int(params["first_chat"])
        queue.delay = float(params["delay"])
        queue.expected, queue.answered, queue.cards, queue.prepared = people, 0, 0, 0
        queue.started = queue.last = asyncio.get_running_loop().time()
        if params.get("queue", "1") == "1":
            for index in range(people):
                queue.updates.append(status_message(queue.next_update_id, first + index))
                queue.next_update_id += 1
            queue.arrived.set()
        return ok(True)

    async def get_updates(self, queue: BotQueue, params: dict[str, str]) -> bytes:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        if offset:
            queue.updates = [u for u in queue.updates if u["update_id"] >= offset]
        if not queue.updates:
            queue.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.arrived.wait(), float(params.get("timeout") or 0))
        return ok(queue.updates[:limit])

    async def send_message(self, queue: BotQueue, params: dict[str, str]) -> bytes:
        await asyncio.sleep(queue.delay)  # Telegram's round trip; others are answered meanwhile
        text = params.get("text", "")
        queue.answered += 1
        queue.last = asyncio.get_running_loop().time()
        queue.cards += CARD_MARK in text
        queue.prepared += CARD_MARK in text and PREPARED_MARK in text
        queue.message_id += 1
        return ok(sent_message(queue.message_id, int(params.get("chat_id", 0))))


@dataclass
class BotAPI:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@contextlib.contextmanager
def bot_api() -> Iterator[BotAPI]:
    process = start([sys.executable, __file__, "--serve-bot-api"], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        yield BotAPI(process, int(process.stdout.readline()))
    finally:
        stop(process)


# --------------------------------------------------------------------------- the bots


def run_echo_bot(base_url: str, token: str, concurrent: bool, pool: int | None) -> None:
    """The reference: PTB's echo example, nothing else (`pool`: connections to the Bot API)."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    builder = ApplicationBuilder().token(token).base_url(base_url)
    if concurrent:
        builder = builder.concurrent_updates(True)
    if pool:
        builder = builder.connection_pool_size(pool).pool_timeout(30)
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(poll_interval=0, timeout=30)


@dataclass
class Bot:
    name: str
    token: str
    process: subprocess.Popen[bytes]
    log: Path
    webhook_port: int | None = None
    client: httpx.AsyncClient | None = None
    next_update: int = 1

    @property
    def checks_cards(self) -> bool:
        return self.name.startswith("outagebot")

    def failed_to_start(self) -> str | None:
        if self.process.poll() is None:
            return None
        return (
            f"{self.name} exited with {self.process.returncode}:\n"
            + self.log.read_text(errors="replace")[-3000:]
        )


def start_bot(index: int, name: str, api: BotAPI, folder: Path) -> Bot:
    token = f"{5550100 + index}:bench-crowd-token-{index}-0123456789abcdefghij"
    log = LOGS / f"{name.replace(' ', '-').replace('(', '').replace(')', '')}.log"
    env = child_env({"PYTHONPATH": checkout_path(), "HOME": str(folder)})
    port = None
    if name.startswith("echo"):
        concurrent = "concurrent" in name
        command = [sys.executable, __file__, "--echo-bot", f"{api.url}/bot", token]
        command += ["--concurrent"] if concurrent else []
        command += ["--pool", str(ECHO_POOL)] if "connections" in name else []
    else:
        env.update(
            OUTAGEBOT_TOKEN=token,
            OUTAGEBOT_BASE_URL=f"{api.url}/bot",
            OUTAGEBOT_DATABASE=str(folder / f"bot-{index}.sqlite3"),
        )
        command = [sys.executable, "-m", "bot.cli", "run"]
        if name.endswith("webhook"):
            port = free_port()
            env["OUTAGEBOT_WEBHOOK_SECRET"] = SECRET
            command += ["--webhook", "--listen", HOST, "--port", str(port), "--url", WEBHOOK_URL]
            command += ["--no-set-webhook"]
    with log.open("wb") as out:
        process = start(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=folder)
    return Bot(name, token, process, log, port)


async def post_updates(bot: Bot, updates: list[dict[str, Any]]) -> None:
    """Telegram's side of a webhook: every update posted, at most 40 requests open at once."""
    assert bot.client is not None
    gate = asyncio.Semaphore(WEBHOOK_CONNECTIONS)

    async def post(update: dict[str, Any]) -> None:
        async with gate:
            for attempt in range(3):
                try:
                    response = await bot.client.post(  # type: ignore[union-attr]
                        "/telegram", json=update, headers={SECRET_HEADER: SECRET}
                    )
                except httpx.TransportError:
                    # A kept-alive connection the server closed as it was reused: Telegram
                    # delivers such an update again, and so does this stand-in.
                    if attempt == 2:
                        raise
                    continue
                response.raise_for_status()
                return

    await asyncio.gather(*(post(update) for update in updates))


async def crowd(
    client: httpx.AsyncClient, api: BotAPI, bot: Bot, people: int, delay: float, first: int
) -> dict[str, Any]:
    """One crowd, waited for until every person has an answer; the stand-in's figures."""
    webhook = bot.webhook_port is not None
    params = {
        "token": bot.token,
        "people": people,
        "first_chat": first,
        "delay": delay,
        "queue": 0 if webhook else 1,
    }
    (await client.post(f"{api.url}/crowd", params=params)).raise_for_status()
    posting = None
    if webhook:
        updates = [status_message(bot.next_update + i, first + i) for i in range(people)]
        bot.next_update += people
        posting = asyncio.create_task(post_updates(bot, updates))
    deadline = time.monotonic() + CROWD_TIMEOUT
    while True:
        stats = (await client.get(f"{api.url}/stats", params={"token": bot.token})).json()
        if stats["answered"] >= people:
            break
        if posting is not None and posting.done() and posting.exception():
            raise RuntimeError(f"{bot.name}: {posting.exception()!r}")
        if time.monotonic() > deadline or bot.failed_to_start():
            raise RuntimeError(f"{bot.name} answered {stats['answered']} of {people}; {bot.log}")
        await asyncio.sleep(0.02)
    if posting is not None:
        await posting
    return stats


async def wait_ready(client: httpx.AsyncClient, api: BotAPI, bot: Bot, first: int) -> None:
    """A crowd of one until the bot answers, and an outagebot with its prepared card.

    Until outagebot's first refresh is stored it computes the card on demand, which is not what
    this bench measures.
    """
    if bot.webhook_port is not None:
        bot.client = httpx.AsyncClient(
            base_url=f"http://{HOST}:{bot.webhook_port}",
            limits=httpx.Limits(
                max_connections=WEBHOOK_CONNECTIONS, max_keepalive_connections=WEBHOOK_CONNECTIONS
            ),
            timeout=60,
            trust_env=False,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if why := bot.failed_to_start():
            raise RuntimeError(why)
        if bot.webhook_port is not None:
            try:
                health = await bot.client.get("/healthz")  # type: ignore[union-attr]
            except httpx.TransportError:
                health = None
            if health is None or health.status_code != 200:
                await asyncio.sleep(0.2)
                continue
        with contextlib.suppress(RuntimeError):
            stats = await asyncio.wait_for(crowd(client, api, bot, 1, 0.0, first), 10)
            if not bot.checks_cards or stats["prepared"] == 1:
                return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{bot.name} not ready within {START_TIMEOUT:.0f} s; log: {bot.log}")


# --------------------------------------------------------------------------- measuring


@dataclass
class Figure:
    rate: float  # answers per second
    seconds: float
    cpu: float  # CPU seconds of the bot's process during the crowd
    valid: bool


async def measure(args: argparse.Namespace) -> tuple[dict[float, dict[str, list[Figure]]], str]:
    LOGS.mkdir(parents=True, exist_ok=True)
    names = [name for name in BOTS if name in args.bots]
    figures: dict[float, dict[str, list[Figure]]] = {d: {b: [] for b in names} for d in args.delays}
    with tempfile.TemporaryDirectory(prefix="outagebot-crowd-") as scratch, bot_api() as api:
        folder = Path(scratch)
        bots = [start_bot(index, name, api, folder) for index, name in enumerate(names)]
        async with httpx.AsyncClient(timeout=60, trust_env=False) as client:
            try:
                for index, bot in enumerate(bots):
                    await wait_ready(client, api, bot, 900_000_000 + index * 1_000)
                note("every bot answers; outagebot with its prepared card")
                chat = 1_000_000
                for round_index in range(args.rounds):
                    for delay in args.delays:
                        shift = round_index % len(bots)
                        for bot in bots[shift:] + bots[:shift]:
                            before = cpu_seconds(bot.process.pid)
                            stats = await crowd(client, api, bot, args.people, delay, chat)
                            chat += args.people  # new people every time
                            cpu = cpu_seconds(bot.process.pid) - before
                            valid = not bot.checks_cards or stats["prepared"] == args.people
                            rate = args.people / stats["seconds"]
                            figures[delay][bot.name].append(
                                Figure(rate, stats["seconds"], cpu, valid)
                            )
                            note(
                                f"round {round_index + 1}, {delay * 1000:.0f} ms, {bot.name}: "
                                f"{rate:.1f}/s{'' if valid else ' (INVALID: not all cards)'}"
                            )
            finally:
                for bot in bots:
                    if bot.client is not None:
                        await bot.client.aclose()
                    stop(bot.process)
        problems = [
            f"{bot.name}: {line}"
            for bot in bots
            for line in bot.log.read_text(errors="replace").splitlines()
            if " ERROR " in line or line.startswith("Traceback")
        ]
    return figures, "\n".join(problems)


def report(figures: dict[float, dict[str, list[Figure]]], problems: str, people: int) -> int:
    failed = False
    for delay, by_bot in figures.items():
        print(f"\n### {people} people at once, sendMessage takes {delay * 1000:.0f} ms")
        print(
            "| bot | ratio to echo (concurrent), median | per round | answers per second,"
            " median | CPU ms per answer | target ≥ 0.8x |"
        )
        print("|---|---|---|---|---|---|")
        reference = by_bot[REFERENCE]
        for name, runs in by_bot.items():
            ratios = [run.rate / ref.rate for run, ref in zip(runs, reference, strict=True)]
            ratio = statistics.median(ratios)
            invalid = sum(not run.valid for run in runs)
            failed |= bool(invalid)  # a missed target is a figure; a wrong answer is a failure
            verdict = ("PASS" if ratio >= 0.8 else "FAIL") if name.startswith("outagebot") else "—"
            print(
                f"| {name} | {ratio:.2f}x | {', '.join(f'{r:.2f}' for r in ratios)} |"
                f" {statistics.median(run.rate for run in runs):.1f}"
                f"{f' ({invalid} INVALID)' if invalid else ''} |"
                f" {statistics.median(run.cpu for run in runs) / people * 1000:.2f} | {verdict} |"
            )
    if problems:
        print("\nerrors in the bots' logs:\n" + problems)
        failed = True
    print(f"\nchecks: {'FAIL' if failed else 'all passed'}")
    return 1 if failed else 0


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=200, help="people in a crowd (200)")
    parser.add_argument(
        "--delays",
        default="0.06,0",
        help="seconds each sendMessage takes, comma-separated (0.06,0)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="crowds per bot and delay (3)")
    parser.add_argument(
        "--bots",
        default=",".join(BOTS),
        help=f"comma-separated, of: {', '.join(BOTS)} (all; {REFERENCE} is always run)",
    )
    parser.add_argument("--serve-bot-api", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--echo-bot", nargs=2, metavar=("BASE_URL", "TOKEN"), help=argparse.SUPPRESS
    )
    parser.add_argument("--concurrent", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--pool", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bot_api:
        asyncio.run(serve(CrowdBotAPI))
        return 0
    if args.echo_bot:
        run_echo_bot(*args.echo_bot, concurrent=args.concurrent, pool=args.pool)
        return 0
    args.delays = [float(value) for value in args.delays.split(",")]
    args.bots = {REFERENCE, *(name.strip() for name in args.bots.split(","))}
    if unknown := args.bots - set(BOTS):
        parser.error(f"unknown bots {sorted(unknown)}; choose from {', '.join(BOTS)}")
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _interrupted)
    header("crowd", " ".join(["python bench/crowd.py", *sys.argv[1:]]))
    print(f"python-telegram-bot {version('python-telegram-bot')}, httpx {version('httpx')}")
    try:
        figures, problems = asyncio.run(measure(args))
    except KeyboardInterrupt:
        print("interrupted: every process this bench started is gone", file=sys.stderr)
        return 130
    finally:
        for process in children:
            stop(process)
    return report(figures, problems, args.people)


if __name__ == "__main__":
    raise SystemExit(main())

"""`/status` throughput of one vs three replicas on PostgreSQL, and of SQLite in one process,
through webhook requests on loopback, as ratios measured in one run (issue 7).

Everything runs on 127.0.0.1: a fake Bot API in a process of its own (raw asyncio, so it takes
little of the CPU it shares), a throwaway PostgreSQL cluster (the tests' `throwaway_cluster`),
and real `outagebot run --webhook` processes with the default settings. Each configuration gets
a fresh database, which its first replica fills from the bundled dataset:

    sqlite-1   one replica on a SQLite file
    pg-1       one replica on PostgreSQL
    pg-3       three replicas on one PostgreSQL database (one leads; all answer updates)

All configurations start at once and stay up. Once every replica answers with the card the
leader's first refresh prepared, `--rounds` rounds follow; in each, every configuration takes
its turn (in rotating order, so none is always first): `--alone` updates one at a time (latency
without a queue), then `--workers` concurrent httpx clients posting `/status X Pakistan` with
the webhook secret, round-robin across its replicas, `--warmup` seconds and then `--duration`
seconds measured. Ratios are taken per round. Each update is answered inside its request, so
every 200 must match one sendMessage at the fake Bot API, and that reply must be the prepared
card. CPU time of every process (from /proc) says where the cores went, including to
processes this bench did not start. Replica logs: bench/out/replicas/.

    python bench/replicas.py                      # about 3 minutes
    python bench/replicas.py --duration 30 --workers 64
    python bench/replicas.py --configs pg-1,pg-3 --rounds 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from botapi import (
    CLOCK_TICKS,
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
    proc_stat,
    sent_message,
    serve,
    start,
    status_message,
    stop,
)
from common import OUT, header, note, percentile

from tests.postgres import PostgresUnavailable, throwaway_cluster

TOKEN = "5550001:bench-replicas-token-0123456789abcdefghij"
SECRET = "bench-replicas-secret_0123456789abcdef"
WEBHOOK_URL = "https://example.invalid/telegram"  # never contacted: --no-set-webhook
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
CONFIGS = {"sqlite-1": ("sqlite", 1), "pg-1": ("postgresql", 1), "pg-3": ("postgresql", 3)}
# A chat id carries the replica its updates go to (id // CHAT_BLOCK - 1), so the fake Bot API
# can tell which replica sent each reply without the replicas telling it.
CHAT_BLOCK = 1_000_000
# On every /status X Pakistan card (its ban context); the footer tells a prepared card
# ("Updated …") from one computed on demand ("As of …").
CARD_MARK = "since February 2024"
PREPARED_MARK = "<i>Updated "
START_TIMEOUT = 90.0  # a leader refreshes at start; followers take it in within 5 s
LOGS = OUT / "replicas"


# --------------------------------------------------------------------------- the fake Bot API


class FakeTelegram(BotAPIProtocol):
    """Answers getMe with a bot, sendMessage with a Message, any other method with ok:true, and
    GET /stats with what it saw: methods called, and the replies per replica by kind.
    """

    methods: ClassVar[Counter[str]] = Counter()
    replies: ClassVar[dict[str, Counter[int]]] = {
        "card": Counter(),
        "prepared": Counter(),
        "other": Counter(),
    }
    message_id: ClassVar[int] = 0

    def answer(self, verb: str, target: str, content_type: str, body: bytes) -> bytes:
        cls = type(self)
        if verb == "GET" and target == "/stats":
            return json.dumps({"methods": cls.methods, "replies": cls.replies}).encode()
        method = target.rsplit("/", 1)[-1]
        cls.methods[method] += 1
        result: object = True
        if method == "getMe":
            result = bot_user(5550001)
        elif method == "sendMessage":
            params = params_of(body, content_type)
            chat_id = int(params.get("chat_id", 0))
            text = params.get("text", "")
            replica = chat_id // CHAT_BLOCK - 1
            if CARD_MARK in text:
                cls.replies["card"][replica] += 1
                if PREPARED_MARK in text:
                    cls.replies["prepared"][replica] += 1
            else:
                cls.replies["other"][replica] += 1
            cls.message_id += 1
            result = sent_message(cls.message_id, chat_id)
        return ok(result)


@dataclass
class FakeBotAPI:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/bot"

    async def stats(self, client: httpx.AsyncClient) -> dict[str, Any]:
        data = (await client.get(f"http://{HOST}:{self.port}/stats")).json()
        replies = {
            kind: Counter({int(k): v for k, v in counts.items()})
            for kind, counts in data["replies"].items()
        }
        return {"methods": Counter(data["methods"]), "replies": replies}


@contextlib.contextmanager
def fake_bot_api() -> Iterator[FakeBotAPI]:
    process = start([sys.executable, __file__, "--serve-fake-telegram"], stdout=subprocess.PIPE)
    try:
        assert process.stdout is not None
        yield FakeBotAPI(process, int(process.stdout.readline()))
    finally:
        stop(process)


# --------------------------------------------------------------------------- processes and CPU


def postgres_cpu(postmaster: int) -> float:
    """The whole cluster: the postmaster, its live backends, and the ones it reaped."""
    total = cpu_seconds(postmaster, reaped_children=True)
    for entry in Path("/proc").iterdir():
        fields = proc_stat(entry.name) if entry.name.isdigit() else None
        if fields is not None and int(fields[1]) == postmaster:
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


def machine_cpu() -> tuple[float, float]:
    """(busy, idle) CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    first = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in first)
    busy = user + nice + system + irq + softirq + steal
    return busy / CLOCK_TICKS, (idle + iowait) / CLOCK_TICKS


class Replica:
    """One `outagebot run --webhook` process, and the load generator's connection pool to it."""

    def __init__(self, name: str, index: int, database: str, fake: FakeBotAPI) -> None:
        self.name = name
        self.index = index
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log = LOGS / f"{name}.log"
        self.client: httpx.AsyncClient | None = None
        env = child_env(
            {
                "OUTAGEBOT_TOKEN": TOKEN,
                "OUTAGEBOT_BASE_URL": fake.base_url,
                "OUTAGEBOT_DATABASE": database,
                "OUTAGEBOT_WEBHOOK_SECRET": SECRET,
                "HOME": str(LOGS),  # with cwd=LOGS: no developer's .env or default database
                # this checkout's code, installed or not
                "PYTHONPATH": checkout_path(),
            }
        )
        command = [
            sys.executable,
            "-m",
            "bot.cli",
            "run",
            "--webhook",
            "--listen",
            HOST,
            "--port",
            str(self.port),
            "--url",
            WEBHOOK_URL,
            "--no-set-webhook",
        ]
        with self.log.open("wb") as out:
            self.process = start(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=LOGS)

    def connect(self, workers: int) -> httpx.AsyncClient:
        # A pool per replica: httpcore scans every pooled connection on each request, and one
        # pool shared by three origins would also close and reopen connections at its limit.
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        self.client = httpx.AsyncClient(
            base_url=self.base, limits=limits, timeout=30, trust_env=False
        )
        return self.client

    async def health(self, client: httpx.AsyncClient) -> dict[str, Any] | None:
        try:
            response = await client.get(f"{self.base}/healthz", timeout=5)
        except httpx.TransportError:
            return None
        return response.json() if response.status_code == 200 else None

    def problems(self) -> list[str]:
        """Log lines at ERROR or worse, and tracebacks."""
        text = self.log.read_text(errors="replace")
        return [
            line
            for line in text.splitlines()
            if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
        ]


# --------------------------------------------------------------------------- databases


async def _admin(admin_url: str, *statements: str) -> Any:
    """Run statements on the server's admin database; the last one's value."""
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        result = None
        for statement in statements:
            result = await connection.fetchval(statement)
        return result
    finally:
        await connection.close()


def _database_url(admin_url: str, name: str) -> str:
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


async def _postmaster_pid(admin_url: str) -> int:
    folder = await _admin(admin_url, "SHOW data_directory")
    return int((Path(folder) / "postmaster.pid").read_text().split()[0])


@contextlib.asynccontextmanager
async def fresh_database(engine: str, name: str, admin_url: str | None) -> Any:
    """A new, empty database for one configuration; dropped (or deleted) afterwards."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="outagebot-bench-") as folder:
            yield str(Path(folder) / "bot.sqlite3")
        return
    assert admin_url is not None
    dbname = f"bench_{name.replace('-', '_')}_{os.getpid()}"
    # C collation: ORDER BY on text sorts as on SQLite (docs/deploy.md).
    await _admin(
        admin_url,
        f"DROP DATABASE IF EXISTS {dbname}",
        f"CREATE DATABASE {dbname} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'",
    )
    try:
        yield _database_url(admin_url, dbname)
    finally:
        await _admin(admin_url, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


# --------------------------------------------------------------------------- the load


@dataclass
class Load:
    """What the load generator saw; `window_*` only for requests that ended inside the window."""

    ok_total: int = 0
    ok_by_replica: Counter[int] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # of every 200
    window_ok: int = 0
    window_errors: int = 0
    window_latencies: list[float] = field(default_factory=list)


def status_update(update_id: int, chat_id: int) -> bytes:
    return json.dumps(status_message(update_id, chat_id)).encode()


class LoadGenerator:
    """Request k goes to replica k mod n, from person k div n mod `users` of that replica."""

    def __init__(self, replicas: list[Replica], users: int, *, first: int = 0) -> None:
        self.replicas = replicas
        self.users = users
        self.next = first
        self.load = Load()
        self.window: tuple[float, float] | None = None
        self.stopping = False

    def pick(self) -> tuple[Replica, bytes]:
        k = self.next
        self.next += 1
        n = len(self.replicas)
        replica = self.replicas[k % n]
        chat_id = (replica.index + 1) * CHAT_BLOCK + (k // n) % self.users
        return replica, status_update(k + 1, chat_id)

    async def post(self, replica: Replica, body: bytes) -> None:
        assert replica.client is not None
        load = self.load
        start = time.perf_counter()
        try:
            response = await replica.client.post(
                "/telegram",
                content=body,
                headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
            )
            status: int | None = response.status_code
        except httpx.HTTPError as error:
            status = None
            load.errors[type(error).__name__] += 1
        end = time.perf_counter()
        if status is not None:
            load.statuses[status] += 1
        if status == 200:
            load.ok_total += 1
            load.ok_by_replica[replica.index] += 1
            load.latencies.append(end - start)
        if self.window is not None and self.window[0] <= end <= self.window[1]:
            if status == 200:
                load.window_ok += 1
                load.window_latencies.append(end - start)
            else:
                load.window_errors += 1

    async def worker(self) -> None:
        while not self.stopping:
            await self.post(*self.pick())

    async def run(
        self,
        workers: int,
        warmup: float,
        duration: float,
        on_window: Callable[[str], Awaitable[None]],
    ) -> None:
        tasks = [asyncio.create_task(self.worker()) for _ in range(workers)]
        try:
            await asyncio.sleep(warmup)
            await on_window("start")
            start = time.perf_counter()
            self.window = (start, start + duration)
            await asyncio.sleep(duration)
            await on_window("end")
            self.stopping = True
            await asyncio.gather(*tasks)  # in-flight requests finish, so totals can be compared
        finally:
            for task in tasks:
                task.cancel()


async def _wait_healthy(client: httpx.AsyncClient, replicas: list[Replica]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        for replica in replicas:
            if replica.process.poll() is not None:
                raise RuntimeError(
                    f"{replica.name} exited with {replica.process.returncode}:\n"
                    + replica.log.read_text(errors="replace")[-3000:]
                )
        if all([await replica.health(client) for replica in replicas]):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"replicas not healthy within {START_TIMEOUT:.0f} s; logs in {LOGS}")


async def _prime(client: httpx.AsyncClient, replicas: list[Replica], fake: FakeBotAPI) -> None:
    """One update at a time to each replica until its reply is the prepared card.

    A replica answers from the summaries the leader's refresh prepared; until the first refresh
    is stored (at once, by the leader) and a follower has taken it in (every 5 s), it computes the
    card on demand, which is not what this bench measures.
    """
    for replica in replicas:
        generator = LoadGenerator([replica], users=1, first=900_000_000)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            before = (await fake.stats(client))["replies"]["prepared"][replica.index]
            await generator.post(*generator.pick())
            if (await fake.stats(client))["replies"]["prepared"][replica.index] > before:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{replica.name} never answered with the prepared card")
            await asyncio.sleep(0.5)


async def _one_at_a_time(replicas: list[Replica], count: int, users: int, first: int) -> Load:
    """Latency without a queue: `count` updates, each sent when the last was answered."""
    generator = LoadGenerator(replicas, users, first=first)
    for _ in range(count):
        await generator.post(*generator.pick())
    return generator.load


# --------------------------------------------------------------------------- configurations


@dataclass
class Round:
    """One configuration's turn: updates one at a time, then the load with its CPU samples."""

    alone: Load
    load: Load
    window: float
    cpu: dict[str, float]

    @property
    def requests_per_s(self) -> float:
        return self.load.window_ok / self.window


@dataclass
class Configuration:
    name: str
    engine: str
    replicas: list[Replica] = field(default_factory=list)
    rounds: list[Round] = field(default_factory=list)
    leaders_before: list[bool | None] = field(default_factory=list)
    leaders_after: list[bool | None] = field(default_factory=list)
    exit_codes: list[int | None] = field(default_factory=list)
    problems: int = 0

    def loads(self) -> list[Load]:
        return [load for turn in self.rounds for load in (turn.alone, turn.load)]

    @property
    def ok_total(self) -> int:
        return sum(load.ok_total for load in self.loads())

    def latencies(self, kind: str) -> list[float]:
        if kind == "alone":
            return sorted(t for turn in self.rounds for t in turn.alone.latencies)
        return sorted(t for turn in self.rounds for t in turn.load.window_latencies)

    def cpu(self, key: str) -> float:
        return sum(turn.cpu[key] for turn in self.rounds)

    @property
    def answered_in_windows(self) -> int:
        return sum(turn.load.window_ok for turn in self.rounds)

    @property
    def window(self) -> float:
        return sum(turn.window for turn in self.rounds)


async def start_all(
    configs: list[Configuration],
    databases: dict[str, str],
    fake: FakeBotAPI,
    client: httpx.AsyncClient,
) -> None:
    """Every configuration's replicas, each on its own fresh database.

    The first replica of each fills its empty database from the bundled dataset; the others
    start once it is healthy (as compose's `depends_on: condition: service_healthy` would).
    """
    index = 0
    for config in configs:
        config.replicas.append(Replica(f"{config.name}-r1", index, databases[config.name], fake))
        index += 1
    await _wait_healthy(client, [config.replicas[0] for config in configs])
    for config in configs:
        for number in range(2, CONFIGS[config.name][1] + 1):
            replica = Replica(f"{config.name}-r{number}", index, databases[config.name], fake)
            config.replicas.append(replica)
            index += 1
    await _wait_healthy(client, [r for config in configs for r in config.replicas])


async def measure_round(
    config: Configuration,
    others: list[Replica],
    args: argparse.Namespace,
    fake: FakeBotAPI,
    postmaster: int | None,
    first: int,
) -> Round:
    alone = await _one_at_a_time(config.replicas, args.alone, args.users, first)
    samples: dict[str, dict[str, float]] = {}

    async def sample(moment: str) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        busy, idle = machine_cpu()
        samples[moment] = {
            "replicas": sum(cpu_seconds(r.process.pid) for r in config.replicas),
            "postgresql": postgres_cpu(postmaster) if postmaster else 0.0,
            "fake Bot API": cpu_seconds(fake.process.pid),
            "load generator": usage.ru_utime + usage.ru_stime,
            "idle replicas": sum(cpu_seconds(r.process.pid) for r in others),
            "busy": busy,
            "idle": idle,
            "wall": time.perf_counter(),
        }

    generator = LoadGenerator(config.replicas, args.users, first=first + args.alone)
    await generator.run(args.workers, args.warmup, args.duration, sample)
    cpu = {key: samples["end"][key] - samples["start"][key] for key in samples["start"]}
    window = cpu.pop("wall")
    ours = sum(cpu[key] for key in OURS)
    cpu["others"] = max(0.0, cpu.pop("busy") - ours)
    return Round(alone, generator.load, window, cpu)


OURS = ("replicas", "postgresql", "fake Bot API", "load generator", "idle replicas")


async def measure_all(
    args: argparse.Namespace, fake: FakeBotAPI, admin_url: str | None
) -> tuple[list[Configuration], dict[str, Any]]:
    configs = [Configuration(name, CONFIGS[name][0]) for name in args.configs]
    postmaster = await _postmaster_pid(admin_url) if admin_url else None
    async with contextlib.AsyncExitStack() as stack:
        databases = {
            config.name: await stack.enter_async_context(
                fresh_database(config.engine, config.name, admin_url)
            )
            for config in configs
        }
        client = await stack.enter_async_context(httpx.AsyncClient(timeout=30, trust_env=False))
        everyone: list[Replica] = []
        try:
            await start_all(configs, databases, fake, client)
            everyone = [r for config in configs for r in config.replicas]
            for replica in everyone:
                await stack.enter_async_context(replica.connect(args.workers))
            for config in configs:
                config.leaders_before = [
                    (await r.health(client) or {}).get("leader") for r in config.replicas
                ]
            note(
                f"{len(everyone)} replica(s) healthy; waiting for each leader's first refresh "
                "to reach every replica"
            )
            await _prime(client, everyone, fake)
            before = await fake.stats(client)
            for number in range(args.rounds):
                # Each round in another order, so no configuration always runs first or last.
                order = configs[number % len(configs) :] + configs[: number % len(configs)]
                for config in order:
                    others = [r for r in everyone if r not in config.replicas]
                    first = (number * len(configs) + configs.index(config) + 1) * 10_000_000
                    turn = await measure_round(
                        config,
                        others,
                        args,
                        fake,
                        postmaster if config.engine != "sqlite" else None,
                        first,
                    )
                    config.rounds.append(turn)
                    note(
                        f"round {number + 1}, {config.name}: {turn.requests_per_s:,.0f} requests/s"
                    )
            after = await fake.stats(client)
            for config in configs:
                config.leaders_after = [
                    (await r.health(client) or {}).get("leader") for r in config.replicas
                ]
        finally:
            for config in configs:
                config.exit_codes = [stop(r.process) for r in config.replicas]
                config.problems = sum(len(r.problems()) for r in config.replicas)
    replies = {kind: n - before["replies"][kind] for kind, n in after["replies"].items()}
    methods = after["methods"] - before["methods"]
    return configs, {"replies": replies, "methods": methods}


# --------------------------------------------------------------------------- printing


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _spread(values: list[float], digits: int = 0) -> str:
    if len(values) == 1:
        return f"{values[0]:,.{digits}f}"
    return f"{_median(values):,.{digits}f} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"


def report(configs: list[Configuration], seen: dict[str, Any], args: argparse.Namespace) -> int:
    """The tables, the checks and the ratios; 1 if a check failed."""
    cores = os.cpu_count() or 1
    rounds = f"{args.rounds} rounds" if args.rounds > 1 else "1 round"
    print(
        f"load: {rounds}, each configuration in turn (rotating order): {args.alone} updates "
        f"one at a time, then {args.workers} in flight for {args.warmup:g} s warm-up + "
        f"{args.duration:g} s measured; /status X Pakistan from {args.users} people per "
        "replica, round-robin across the configuration's replicas"
    )
    print(
        f"NOTE: {cores} cores for everything: the replicas, PostgreSQL, the fake Bot API and "
        "the load generator share them, so a second and third replica bring no new CPU here."
    )
    print()
    spread = "median (min–max) of the rounds" if args.rounds > 1 else "one round"
    print(
        f"| configuration | replicas | requests/s, {spread} | p50 ms | p99 ms | errors | "
        "alone p50 ms | alone p99 ms |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for c in configs:
        loaded, alone = c.latencies("load"), c.latencies("alone")
        errors = sum(turn.load.window_errors for turn in c.rounds)
        print(
            f"| {c.name} | {len(c.replicas)} | {_spread([t.requests_per_s for t in c.rounds])}"
            f" | {percentile(loaded, 0.5) * 1000:.1f} | {percentile(loaded, 0.99) * 1000:.1f} "
            f"| {errors} | {percentile(alone, 0.5) * 1000:.1f} | "
            f"{percentile(alone, 0.99) * 1000:.1f} |"
        )
    print(
        f"(p50/p99 under load are mostly queueing: {args.workers} requests always in flight; "
        '"alone" is one request at a time; both pooled over the rounds)'
    )
    print()
    keys = [
        "replicas",
        "postgresql",
        "fake Bot API",
        "load generator",
        "idle replicas",
        "others",
        "idle",
    ]
    print(
        f'CPU in the measured windows: seconds (% of {cores} cores × the windows); "idle '
        'replicas" = the other configurations\' (started, not loaded); "others" = processes '
        "this bench did not start"
    )
    print("| configuration | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for c in configs:
        available = cores * c.window
        cells = [
            "—"
            if key == "postgresql" and c.engine == "sqlite"
            else f"{c.cpu(key):.1f} ({100 * c.cpu(key) / available:.0f} %)"
            for key in keys
        ]
        print(f"| {c.name} | " + " | ".join(cells) + " |")
    print()
    print("CPU per update answered in the windows, ms")
    print(
        "| configuration | replicas | postgresql | load generator | "
        "updates per replica CPU-second |"
    )
    print("|---|---:|---:|---:|---:|")
    for c in configs:
        answered = c.answered_in_windows
        pg = "—" if c.engine == "sqlite" else f"{1000 * c.cpu('postgresql') / answered:.2f}"
        print(
            f"| {c.name} | {1000 * c.cpu('replicas') / answered:.2f} | {pg} | "
            f"{1000 * c.cpu('load generator') / answered:.2f} | "
            f"{answered / c.cpu('replicas'):,.0f} |"
        )
    print()
    replies = seen["replies"]
    failed = False
    for c in configs:
        indices = [r.index for r in c.replicas]
        cards = sum(replies["card"][i] for i in indices)
        prepared = sum(replies["prepared"][i] for i in indices)
        other = sum(replies["other"][i] for i in indices)
        by_replica = Counter[int]()
        statuses, errors = Counter[int](), Counter[str]()
        for load in c.loads():
            by_replica += load.ok_by_replica
            statuses += load.statuses
            errors += load.errors
        bad = {status: n for status, n in statuses.items() if status != 200}
        leaders = [i + 1 for i, lead in enumerate(c.leaders_before) if lead]
        leaders_after = [i + 1 for i, lead in enumerate(c.leaders_after) if lead]
        answered = all(replies["card"][i] > 0 for i in indices)
        per = ", ".join(
            f"r{n + 1}{' (leader)' if c.leaders_before[n] else ''} {by_replica[r.index]:,} "
            f"200s, {replies['card'][r.index]:,} cards"
            for n, r in enumerate(c.replicas)
        )
        matched = c.ok_total == cards and other == 0 and prepared == cards
        print(f"{c.name}:")
        print(
            f"  every 200 is one card reply: {c.ok_total:,} 200s, {cards:,} cards "
            f"({prepared:,} prepared, {other} other replies) {'OK' if matched else 'MISMATCH'}"
        )
        print(f"  non-200 responses {bad or 0}, transport errors {dict(errors) or 0}")
        print(f"  leader (healthz): replica {leaders} before the load, {leaders_after} after")
        print(
            f"  answered: {per}"
            + (
                ""
                if len(c.replicas) == 1
                else f"; the followers answered too: {'yes' if answered else 'NO'}"
            )
        )
        print(
            f"  stopped on SIGTERM, exit codes {c.exit_codes}; ERROR lines or tracebacks "
            f"in the logs: {c.problems}" + (f" (see {LOGS})" if c.problems else "")
        )
        failed |= not (
            matched
            and answered
            and not bad
            and not errors
            and len(leaders) == 1
            and leaders == leaders_after
            and c.problems == 0
            and all(code == 0 for code in c.exit_codes)
        )
    total_ok = sum(c.ok_total for c in configs)
    sent = seen["methods"]["sendMessage"]
    print(
        f"all configurations: {total_ok:,} 200s, {sent:,} sendMessage at the fake Bot API "
        f"{'OK' if total_ok == sent else 'MISMATCH'}"
    )
    failed |= total_ok != sent
    by_name = {c.name: c for c in configs}
    print()
    for top, bottom in (("pg-3", "pg-1"), ("pg-1", "sqlite-1"), ("pg-3", "sqlite-1")):
        if top in by_name and bottom in by_name:
            a, b = by_name[top], by_name[bottom]
            pairs = zip(a.rounds, b.rounds, strict=True)
            ratios = [x.requests_per_s / y.requests_per_s for x, y in pairs]
            efficiency = (a.answered_in_windows / a.cpu("replicas")) / (
                b.answered_in_windows / b.cpu("replicas")
            )
            print(
                f"{top} / {bottom}: {_spread(ratios, 2)}× the requests/s; "
                f"{efficiency:.2f}× the updates per replica CPU-second"
            )
    print(f"checks: {'FAIL' if failed else 'all passed'}")
    return 1 if failed else 0


# --------------------------------------------------------------------------- main


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _stack() -> str:
    servers = [name for name in ("uvloop", "httptools") if importlib.util.find_spec(name)]
    return (
        f"python-telegram-bot {version('python-telegram-bot')}, uvicorn {version('uvicorn')} "
        f"({'with ' + ' and '.join(servers) if servers else 'h11 on the asyncio loop'}), "
        f"httpx {version('httpx')}, asyncpg {version('asyncpg')}, "
        f"aiosqlite {version('aiosqlite')}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--duration",
        type=float,
        default=10.0,
        help="seconds measured per configuration and round (10)",
    )
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load first (3)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="turns per configuration, in rotating order (3)"
    )
    parser.add_argument("--workers", type=int, default=32, help="requests in flight (32)")
    parser.add_argument(
        "--alone",
        type=int,
        default=100,
        help="updates sent one at a time before each turn's load (100)",
    )
    parser.add_argument(
        "--users", type=int, default=1000, help="distinct people per replica, cycled (1000)"
    )
    parser.add_argument(
        "--configs", default=",".join(CONFIGS), help=f"comma-separated, of {', '.join(CONFIGS)}"
    )
    parser.add_argument("--serve-fake-telegram", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake_telegram:
        asyncio.run(serve(FakeTelegram))
        return 0
    args.configs = [name.strip() for name in args.configs.split(",") if name.strip()]
    unknown = [name for name in args.configs if name not in CONFIGS]
    if unknown or not args.configs:
        parser.error(f"unknown configuration {unknown}; choose from {', '.join(CONFIGS)}")
    # The same cleanup for either, even where a shell started us with SIGINT ignored.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _interrupted)
    LOGS.mkdir(parents=True, exist_ok=True)
    header("replicas", " ".join(["python bench/replicas.py", *sys.argv[1:]]))
    print(_stack())
    try:
        with contextlib.ExitStack() as stack:
            fake = stack.enter_context(fake_bot_api())
            admin_url = None
            if any(CONFIGS[name][0] == "postgresql" for name in args.configs):
                try:
                    admin_url = stack.enter_context(throwaway_cluster())
                except PostgresUnavailable as error:
                    print(f"no PostgreSQL: {error}", file=sys.stderr)
                    return 2
                assert urlsplit(admin_url).hostname == HOST, "the cluster must be on loopback"
                server = asyncio.run(_admin(admin_url, "SHOW server_version"))
                print(
                    f"PostgreSQL {server}: throwaway cluster on {HOST}, fsync and "
                    "synchronous_commit off (tests/postgres.py)"
                )
            configs, seen = asyncio.run(measure_all(args, fake, admin_url))
    except KeyboardInterrupt:
        print("interrupted: every process and database this bench started is gone", file=sys.stderr)
        return 130
    finally:
        for process in children:  # whatever an interruption left running
            stop(process)
    print()
    return report(configs, seen, args)


if __name__ == "__main__":
    raise SystemExit(main())

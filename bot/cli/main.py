"""`outagebot run | console | ask | import`: the console script."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config.settings import ENV_PREFIX, Settings, SettingsError, load_settings
from bot.core.catalog import default_catalog
from bot.core.clock import Clock, FixedClock, SystemClock, parse_instant
from bot.imports.files import fill_when_empty, load_dataset_file
from bot.imports.reading import DatasetError
from bot.runtime.logs import configure_logging, redact
from storage.database import (
    Database,
    DatabaseUnavailable,
    UnsupportedDatabase,
    database_target,
    password_of,
    redacted,
)
from storage.imports import import_dataset

NO_TOKEN = f"""outagebot run needs a bot token.

  1. In Telegram, open @BotFather and send /newbot; it replies with a token like 123456:ABC-DEF…
  2. export {ENV_PREFIX}TOKEN='<that token>'   (or put {ENV_PREFIX}TOKEN=… in a .env file)
  3. outagebot run

To try the bot without Telegram: outagebot console
"""
REFUSED_TOKEN = (
    f"the Bot API refused the token in {ENV_PREFIX}TOKEN; check it with @BotFather (/mybots)"
)


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time with offset, e.g. 2025-03-10T18:30:00Z"
        ) from error


def _minutes(text: str) -> int:
    """`15m`, `1h` or plain minutes."""
    units = {"m": 1, "h": 60}
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "m")
    try:
        minutes = int(number) * units[unit]
    except ValueError:
        minutes = 0
    if not 1 <= minutes <= 1440:
        raise argparse.ArgumentTypeError(f"{text!r} is not a bucket size like 15m or 1h")
    return minutes


DATABASE_HELP = f"SQLite file or postgresql:// URL (default: {ENV_PREFIX}DATABASE)"


def _with(common: argparse.ArgumentParser) -> type[argparse.ArgumentParser]:
    """A parser class whose every instance also takes the options of `common`."""

    class Parser(argparse.ArgumentParser):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["parents"] = [*kwargs.get("parents", []), common]
            super().__init__(*args, **kwargs)

    return Parser


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="outagebot",
        description="What is down, where, how badly, since when, and whether it is blocked.",
    )
    top.add_argument("--database", help=DATABASE_HELP)
    # The same option after the command (`outagebot import FILE --database X`); SUPPRESS keeps a
    # subcommand that was not given it from overwriting the one given before the command.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database", default=argparse.SUPPRESS, help=DATABASE_HELP)
    commands = top.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_with(common)
    )
    runs = commands.add_parser(
        "run", help="run the bot on Telegram (long polling, or a webhook with --webhook)"
    )
    runs.add_argument(
        "--webhook",
        action="store_true",
        help=f"serve Telegram's webhook instead of polling (implied by --url or {ENV_PREFIX}"
        "WEBHOOK_URL); the secret comes from the environment only",
    )
    runs.add_argument(
        "--url", help=f"public HTTPS URL for updates (default: {ENV_PREFIX}WEBHOOK_URL)"
    )
    runs.add_argument(
        "--listen", help=f"address to listen on (default: {ENV_PREFIX}WEBHOOK_LISTEN, 127.0.0.1)"
    )
    runs.add_argument(
        "--port", type=int, help=f"port to listen on (default: {ENV_PREFIX}WEBHOOK_PORT, 8443)"
    )
    runs.add_argument(
        "--no-set-webhook",
        dest="set_webhook",
        action="store_false",
        help="do not call setWebhook at start (another replica or a deploy step sets it)",
    )
    console = commands.add_parser("console", help="chat with the bot in this terminal, offline")
    console.add_argument("--at", type=_instant, help="answer as of this instant (ISO 8601)")
    ask = commands.add_parser("ask", help='print the reply to one message, e.g. "/status X PK"')
    ask.add_argument("message", help="what you would type in Telegram")
    ask.add_argument("--at", type=_instant, help="answer as of this instant (ISO 8601)")
    ask.add_argument(
        "--full",
        action="store_true",
        help="also print every view behind a card's buttons (timeline, what was said, ban "
        "record, sources)",
    )
    imports = commands.add_parser("import", help="import a JSON or .csv dataset file; idempotent")
    imports.add_argument("file", type=Path)
    replays = commands.add_parser(
        "replay", help="watch a dataset's outage unfold in accelerated time (fresh database)"
    )
    replays.add_argument("file", type=Path)
    replays.add_argument(
        "--speed",
        type=float,
        default=600.0,
        help="how many times faster than real time (default 600)",
    )
    replays.add_argument(
        "--max-wait",
        type=float,
        default=5.0,
        help="longest pause between two readings, seconds (default 5)",
    )
    backtests = commands.add_parser(
        "backtest",
        help="replay a recorded series through the live path and print every alert a"
        " subscriber would have got; with --labels, NAB scores",
    )
    backtests.add_argument("file", type=Path, help="NAB timestamp,value CSV, or a dataset file")
    backtests.add_argument("--labels", type=Path, help="NAB-style windows.json to score against")
    backtests.add_argument(
        "--bucket", type=_minutes, help="bucket size, e.g. 15m or 1h (default: the setting)"
    )
    backtests.add_argument("--json", action="store_true", help="one JSON object per line")
    backtests.add_argument("--service", default="x", help="pair for a NAB series (default x)")
    backtests.add_argument("--region", default="us", help="(default us)")
    sources = commands.add_parser("sources", help="outside sources: status pages, IODA, OONI")
    source_actions = sources.add_subparsers(
        dest="action", required=True, metavar="ACTION", parser_class=_with(common)
    )
    check = source_actions.add_parser(
        "check", help="try each configured source once and print what came back (stores nothing)"
    )
    check.add_argument(
        "--file", type=Path, help=f"sources file (default: {ENV_PREFIX}SOURCES_FILE)"
    )
    migrate = commands.add_parser(
        "migrate-data",
        help="copy every table into another database (e.g. SQLite to PostgreSQL), then verify;"
        " rerun to resume",
    )
    migrate.add_argument("source", help="SQLite file, sqlite:///… or postgresql://… to copy from")
    migrate.add_argument(
        "target", help="database to copy into: a new, empty one, or an interrupted copy"
    )
    migrate.add_argument(
        "--batch", type=int, help="rows copied per transaction and checkpoint (default 5000)"
    )
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        overrides = {"database": args.database} if args.database else {}
        settings = load_settings(**overrides)
    except SettingsError as error:
        print(f"outagebot: {error}", file=sys.stderr)
        return 2
    secrets = settings.secrets()
    if args.command == "migrate-data":
        try:  # the same spellings and refusals as OUTAGEBOT_DATABASE
            args.source, args.target = database_target(args.source), database_target(args.target)
        except UnsupportedDatabase as error:
            print(f"outagebot: migrate-data: {error}", file=sys.stderr)
            return 2
        # URLs typed on the command line are secrets too: a driver's warning may quote them
        secrets += [secret for secret in map(password_of, (args.source, args.target)) if secret]
    quiet = args.command in {"console", "ask", "import", "sources", "backtest"}
    configure_logging("WARNING" if quiet else settings.log_level, secrets)
    clock: Clock = FixedClock(args.at) if getattr(args, "at", None) else SystemClock()
    try:
        return _command(args, settings, clock)
    except DatabaseUnavailable as error:
        print(f"outagebot: {error}", file=sys.stderr)  # the password is already masked
        return 1


def run_on_telegram(settings: Settings, options: argparse.Namespace) -> int:
    """`run`, with a refused token or an unreachable Bot API said in one line.

    telegram is imported here, not at the top: every other command starts without it, and an
    `outagebot import` from cron spent a tenth of its time loading it.
    """
    from telegram.error import InvalidToken, NetworkError

    try:
        return run(settings, options)
    except InvalidToken:
        print(f"outagebot: {REFUSED_TOKEN}", file=sys.stderr)
        return 2
    except NetworkError as error:  # only a start-up failure gets this far; PTB retries the rest
        why = redact(str(error), settings.secrets())
        print(f"outagebot: cannot reach the Bot API at {settings.base_url}: {why}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    if args.command == "run":
        return run_on_telegram(settings, args)
    if args.command == "import":
        return asyncio.run(import_file(settings, args.file))
    if args.command == "replay":
        return asyncio.run(replay_file(args.file, args.speed, args.max_wait))
    if args.command == "backtest":
        from bot.cli.backtest import backtest_file

        return asyncio.run(backtest_file(settings, args))
    if args.command == "sources":
        from bot.cli.sources_check import check_sources

        return asyncio.run(check_sources(settings, args.file))
    if args.command == "migrate-data":
        from bot.cli.migrate_data import migrate_data

        return migrate_data(args.source, args.target, batch=args.batch)
    from bot.cli.console import ask, console

    if args.command == "ask":
        return asyncio.run(ask(settings, args.message, clock, full=args.full))
    return asyncio.run(console(settings, clock))


def run(settings: Settings, options: argparse.Namespace | None = None) -> int:
    """Long polling, or the webhook when one is asked for or configured.

    A configured webhook URL selects webhook mode by itself, so replicas need only environment
    variables; Telegram refuses getUpdates while a webhook is set anyway.
    """
    if not settings.token_value():
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from bot.app.application import build_application
    from bot.app.webhook import ALLOWED_UPDATES, NO_SECRET, NO_URL, WebhookConfig, run_webhook

    flags = vars(options) if options is not None else {}
    overrides = {
        f"webhook_{name}": flags[name]
        for name in ("url", "listen", "port")
        if flags.get(name) is not None
    }
    if overrides:
        try:  # the flags pass the same checks as the variables they stand in for
            settings = load_settings(database=settings.database, **overrides)
        except SettingsError as error:
            print(f"outagebot: {error}", file=sys.stderr)
            return 2
    if flags.get("webhook") or settings.webhook_url:
        if settings.webhook_secret is None:
            print(NO_SECRET, file=sys.stderr)
            return 2
        if not settings.webhook_url:
            print(NO_URL, file=sys.stderr)
            return 2
        config = WebhookConfig.from_settings(settings, set_webhook=flags.get("set_webhook", True))
        return run_webhook(build_application(settings), config)

    application = build_application(settings)
    logging.getLogger(__name__).info("starting long polling against %s", settings.base_url)
    application.run_polling(
        poll_interval=settings.poll_interval,
        timeout=settings.poll_timeout,
        allowed_updates=ALLOWED_UPDATES,
    )
    return 0


async def import_file(settings: Settings, path: Path) -> int:
    catalog = default_catalog()
    try:
        dataset = load_dataset_file(path, catalog)
    except DatasetError as error:
        count = len(error.problems)
        print(
            f"{path}: nothing imported, {count} problem{'s' if count != 1 else ''}:",
            file=sys.stderr,
        )
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    db = await Database.open(settings.database)
    try:
        bundled = await fill_when_empty(db, catalog) if settings.bundled_dataset else None
        counts = await import_dataset(db, dataset)
    finally:
        await db.close()
    if bundled is not None:
        print(
            f"{redacted(settings.database)} was empty: filled it from the bundled dataset first"
            f" ({bundled.observations} observations, {bundled.events} events,"
            f" {bundled.restrictions} restrictions)"
        )
    print(
        f"{path}: imported {counts.observations} new observations, {counts.events} events, "
        f"{counts.restrictions} restrictions ({counts.timeline_steps} timeline steps), "
        f"{counts.sources} sources into {redacted(settings.database)}"
    )
    return 0


async def replay_file(path: Path, speed: float, max_wait: float) -> int:
    from bot.engine.replay import replay

    if speed <= 0:
        print("outagebot: --speed must be positive", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="outagebot-replay-") as folder:
        try:
            await replay(
                path,
                Path(folder) / "replay.sqlite3",
                default_catalog(),
                speed=speed,
                max_wait=max_wait,
            )
        except DatasetError as error:
            print(f"{path}: cannot replay:", file=sys.stderr)
            for problem in error.problems:
                print(f"  {problem}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

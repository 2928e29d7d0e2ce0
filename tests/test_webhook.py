"""Webhook mode as Telegram and an operator meet it: updates in, cards out, refusals, shutdown.

In-process tests run the real Application and the real uvicorn server on 127.0.0.1 over the
in-process Bot API; the last test runs `outagebot run --webhook` as a process against a Bot API
served over HTTP on 127.0.0.1. Nothing reaches the internet.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from processes import command_update, free_port, post_update, wait_until
from telegram import Update
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.app.application import build_application
from bot.app.webhook import (
    ALLOWED_UPDATES,
    SECRET_HEADER,
    WebhookConfig,
    WebhookError,
    WebhookRunner,
)
from bot.cli.main import main
from bot.config.settings import SettingsError, load_settings
from bot.core.clock import FixedClock
from bot.offline.botapi import InProcessBotAPI
from bot.render.telegram_html import html_to_text
from tests.conftest import TODAY, offline_settings
from tests.faulty_botapi import FaultyBotAPI

SECRET = "webhook-test-secret_0123456789abcdefABCDEF"
TOKEN = "5557654:webhook-test-token-0123456789abcdefghij"
URL = "https://bot.example.org/telegram"
BAN_CONTEXT = "Blocked in Pakistan since February 2024"
AYESHA = 1001
BILAL = 1002
DEADLINE = 30.0  # seconds; generous, only ever reached when something is broken


@dataclass
class Webhook:
    """A running webhook server and what Telegram and the bot did through it."""

    runner: WebhookRunner
    api: InProcessBotAPI
    client: httpx.AsyncClient
    processed: list[int] = field(default_factory=list)  # update_ids the Application processed

    @property
    def application(self) -> Application:
        return self.runner.application

    async def post(self, body: Any, *, secret: str | None = SECRET) -> httpx.Response:
        headers = {} if secret is None else {SECRET_HEADER: secret}
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.client.post("/telegram", content=content, headers=headers)

    def sent_to(self, chat_id: int) -> list[str]:
        return [message.plain for message in self.api.messages_for(chat_id)]


def status_update(api: InProcessBotAPI, user_id: int = AYESHA) -> dict[str, Any]:
    """The update Telegram posts when someone sends /status X Pakistan in a private chat."""
    text = "/status X Pakistan"
    chat = {"id": user_id, "type": "private", "first_name": "Ayesha"}
    person = {"id": user_id, "is_bot": False, "first_name": "Ayesha", "language_code": "en"}
    command = {"type": "bot_command", "offset": 0, "length": len("/status")}
    message = api.incoming_message(chat, person, text=text, entities=[command])
    return {"update_id": api.new_update_id(), "message": message}


@asynccontextmanager
async def serving(
    database_path: Path | str, api: InProcessBotAPI | None = None, **options: Any
) -> AsyncIterator[Webhook]:
    clock = FixedClock(TODAY)
    api = api or FaultyBotAPI(clock=lambda: clock.now().timestamp())
    settings = offline_settings(database_path, webhook_secret=SECRET)
    application = build_application(settings, request=api, clock=clock)
    config = WebhookConfig(url=URL, secret=SECRET, listen="127.0.0.1", port=0, **options)
    runner = WebhookRunner(application, config, handle_signals=False)
    processed: list[int] = []

    async def remember(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        processed.append(update.update_id)

    application.add_handler(TypeHandler(Update, remember), group=-100)
    running = asyncio.create_task(runner.run())
    ready = asyncio.create_task(runner.ready.wait())
    await asyncio.wait({running, ready}, timeout=DEADLINE, return_when="FIRST_COMPLETED")
    ready.cancel()
    if running.done():
        running.result()  # startup failed: show why
    assert runner.ready.is_set(), "the webhook server never got ready"
    base_url = f"http://127.0.0.1:{runner.port}"
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=DEADLINE) as client:
            yield Webhook(runner, api, client, processed)
    finally:
        runner.stop()
        await asyncio.wait_for(running, timeout=DEADLINE)


@pytest.fixture
async def webhook(database_target: str) -> AsyncIterator[Webhook]:
    """A webhook server on each engine: replicas serve updates on PostgreSQL."""
    async with serving(database_target) as running:
        yield running


async def test_webhook_answers_status_update_with_the_card(webhook):
    update = status_update(webhook.api)
    response = await webhook.post(update)
    assert response.status_code == 200
    assert response.content == b""  # a body would be taken by Telegram as a method call
    [card] = webhook.sent_to(AYESHA)  # processed inside the request: the reply is already out
    assert "X in Pakistan" in card
    assert BAN_CONTEXT in card
    assert "X is blocked in Pakistan" in card
    assert webhook.processed == [update["update_id"]]


async def test_webhook_sets_the_webhook_with_secret_and_allowed_updates(webhook):
    [params] = [params for method, params in webhook.api.calls if method == "setWebhook"]
    assert params["url"] == URL
    assert params["secret_token"] == SECRET
    assert params["allowed_updates"] == list(ALLOWED_UPDATES)
    assert params["max_connections"] == 40


async def test_webhook_refuses_update_with_wrong_secret(webhook):
    response = await webhook.post(status_update(webhook.api), secret="not-the-secret")
    assert response.status_code == 403
    assert webhook.processed == []
    assert webhook.sent_to(AYESHA) == []


async def test_webhook_refuses_update_without_secret_header(webhook):
    response = await webhook.post(status_update(webhook.api), secret=None)
    assert response.status_code == 403
    assert webhook.processed == []
    assert webhook.sent_to(AYESHA) == []


async def test_webhook_refuses_a_secret_that_only_starts_like_ours(webhook):
    response = await webhook.post(status_update(webhook.api), secret=SECRET + "x")
    assert response.status_code == 403
    assert webhook.processed == []


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe\x00",
        b"",
        b"[" * 100_000,  # nested deeper than the JSON parser recurses
        b"[]",
        b'"update"',
        b'{"message": {}}',
        b'{"update_id": "1"}',
        b'{"update_id": true}',
        b'{"update_id": 7, "message": "not a message"}',
    ],
    ids=[
        "broken",
        "not-utf8",
        "empty",
        "too-deep",
        "list",
        "string",
        "no-update-id",
        "text-id",
        "bool-id",
        "bad-message",
    ],
)
async def test_webhook_answers_a_body_that_is_no_update_with_400(webhook, body):
    response = await webhook.post(body)
    assert response.status_code == 400
    assert webhook.processed == []
    # and the server lives on
    assert (await webhook.post(status_update(webhook.api))).status_code == 200


async def test_webhook_refuses_a_body_over_the_cap_with_413(database_path):
    async with serving(database_path, max_body_bytes=10_000) as webhook:
        update = status_update(webhook.api)
        update["padding"] = "x" * 20_000
        response = await webhook.post(update)
        assert response.status_code == 413
        assert webhook.processed == []


async def test_webhook_refuses_a_chunked_body_over_the_cap_with_413(database_path):
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 1_000  # no Content-Length: the cap is counted as the body arrives

    async with serving(database_path, max_body_bytes=10_000) as webhook:
        response = await webhook.client.post(
            "/telegram", content=chunks(), headers={SECRET_HEADER: SECRET}
        )
        assert response.status_code == 413


async def test_healthz_reports_the_database_ok_and_who_leads(webhook):
    response = await webhook.client.get("/healthz")
    assert response.status_code == 200
    # One process on a SQLite file always leads: it runs the scheduled work.
    assert response.json() == {"status": "ok", "database": "ok", "leader": True}


async def test_healthz_says_503_with_the_reason_when_the_database_fails(webhook, monkeypatch):
    async def broken(*args: object) -> object:
        raise OSError("disk I/O error")

    monkeypatch.setattr(webhook.application.bot_data.state.db, "scalar", broken)
    response = await webhook.client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"
    assert "OSError" in response.json()["database"]


async def test_handler_error_is_answered_by_the_bot_and_acknowledged_to_telegram(webhook):
    async def explode(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        raise RuntimeError("a bug")

    webhook.application.add_handler(TypeHandler(Update, explode), group=-50)
    response = await webhook.post(status_update(webhook.api))
    assert response.status_code == 200  # 5xx would make Telegram redeliver it forever
    assert any("went wrong" in text for text in webhook.sent_to(AYESHA))


async def test_set_webhook_failure_is_logged_and_the_server_still_serves(database_path, caplog):
    api = FaultyBotAPI(clock=lambda: TODAY.timestamp())
    api.fail_next("setWebhook", error_code=400, description="Bad Request: bad webhook")
    async with serving(database_path, api) as webhook:
        assert "could not set the webhook" in caplog.text
        assert (await webhook.post(status_update(api))).status_code == 200
        assert BAN_CONTEXT in webhook.sent_to(AYESHA)[0]


async def test_webhook_can_leave_setting_the_webhook_to_someone_else(database_path):
    async with serving(database_path, set_webhook=False) as webhook:
        assert "setWebhook" not in [method for method, _ in webhook.api.calls]
        assert (await webhook.post(status_update(webhook.api))).status_code == 200


async def test_a_busy_port_fails_the_start_and_still_closes_the_application(database_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = offline_settings(database_path, webhook_secret=SECRET)
        api = FaultyBotAPI()
        application = build_application(settings, request=api, clock=FixedClock(TODAY))
        port = taken.getsockname()[1]
        config = WebhookConfig(url=URL, secret=SECRET, listen="127.0.0.1", port=port)
        with pytest.raises(WebhookError, match=f"could not listen on 127.0.0.1:{port}"):
            await WebhookRunner(application, config, handle_signals=False).run()
    assert not application.running
    assert application.bot_data.state is None


class HeldBotAPI(InProcessBotAPI):
    """Holds every sendMessage until released, so an update can be caught in flight."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.sending = asyncio.Event()
        self.release = asyncio.Event()

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        if url.endswith("/sendMessage"):
            self.sending.set()
            await self.release.wait()
        return await super().do_request(url, method, *args, **kwargs)


async def test_shutdown_finishes_the_update_in_flight_and_refuses_new_ones(database_target):
    api = HeldBotAPI(clock=lambda: TODAY.timestamp())
    async with serving(database_target, api) as webhook:
        in_flight = asyncio.create_task(webhook.post(status_update(api, AYESHA)))
        await asyncio.wait_for(api.sending.wait(), timeout=DEADLINE)

        webhook.runner.stop()  # what SIGTERM does
        try:
            late = await webhook.post(status_update(api, BILAL))
        except httpx.TransportError:  # the listening socket may already be closed
            late = None
        assert late is None or late.status_code == 503
        assert (await webhook.client.get("/healthz")).status_code == 503

        api.release.set()
        response = await asyncio.wait_for(in_flight, timeout=DEADLINE)
        assert response.status_code == 200
        assert BAN_CONTEXT in webhook.sent_to(AYESHA)[0]
        assert webhook.sent_to(BILAL) == []
        assert len(webhook.processed) == 1
    assert not webhook.application.running
    assert webhook.application.bot_data.state is None  # post_shutdown closed them


# ---------------------------------------------------------------------- settings and the CLI


def test_webhook_secret_must_follow_telegrams_rule_and_is_never_echoed(monkeypatch):
    monkeypatch.setenv("OUTAGEBOT_WEBHOOK_SECRET", "has spaces and a ; secret!")
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
    assert "OUTAGEBOT_WEBHOOK_SECRET" in str(raised.value)
    assert "secrets.token_urlsafe" in str(raised.value)
    assert "secret!" not in str(raised.value)


def test_webhook_url_must_be_https(monkeypatch):
    monkeypatch.setenv("OUTAGEBOT_WEBHOOK_URL", "http://bot.example.org/telegram")
    with pytest.raises(SettingsError, match=r"OUTAGEBOT_WEBHOOK_URL: .*https://"):
        load_settings(_env_file=None)


def test_webhook_config_never_shows_the_secret():
    config = WebhookConfig(url=URL, secret=SECRET)
    assert SECRET not in repr(config)
    assert config.path == "/telegram"


def _without_outagebot_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [name for name in os.environ if name.startswith("OUTAGEBOT_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no developer's .env
    monkeypatch.setenv("OUTAGEBOT_TOKEN", TOKEN)
    monkeypatch.setenv("OUTAGEBOT_DATABASE", str(tmp_path / "bot.sqlite3"))


def test_webhook_without_secret_says_how_to_make_one_and_exits_2(monkeypatch, tmp_path, capsys):
    _without_outagebot_env(monkeypatch, tmp_path)
    assert main(["run", "--webhook", "--url", URL]) == 2
    error = capsys.readouterr().err
    assert 'python -c "import secrets; print(secrets.token_urlsafe(32))"' in error
    assert "OUTAGEBOT_WEBHOOK_SECRET" in error


def test_webhook_without_url_says_where_to_put_it_and_exits_2(monkeypatch, tmp_path, capsys):
    _without_outagebot_env(monkeypatch, tmp_path)
    monkeypatch.setenv("OUTAGEBOT_WEBHOOK_SECRET", SECRET)
    assert main(["run", "--webhook"]) == 2
    error = capsys.readouterr().err
    assert "--url https://" in error
    assert SECRET not in error


def test_webhook_flag_with_a_bad_url_exits_2_naming_it(monkeypatch, tmp_path, capsys):
    _without_outagebot_env(monkeypatch, tmp_path)
    monkeypatch.setenv("OUTAGEBOT_WEBHOOK_SECRET", SECRET)
    assert main(["run", "--url", "bot.example.org/telegram"]) == 2
    assert "WEBHOOK_URL" in capsys.readouterr().err


# ---------------------------------------------------------------------- a real process


def healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.process
def test_outagebot_run_webhook_serves_updates_and_stops_cleanly_on_sigterm(tmp_path, fake_telegram):
    fake = fake_telegram
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTAGEBOT_")}
    env.update(
        OUTAGEBOT_TOKEN=TOKEN,
        OUTAGEBOT_BASE_URL=fake.base_url,
        OUTAGEBOT_DATABASE=str(tmp_path / "bot.sqlite3"),
        OUTAGEBOT_WEBHOOK_SECRET=SECRET,
        OUTAGEBOT_LOG_LEVEL="DEBUG",  # PTB logs each call's parameters, setWebhook's secret too
        HOME=str(tmp_path),
    )
    command = [sys.executable, "-m", "bot.cli", "run", "--webhook", "--listen", "127.0.0.1"]
    command += ["--port", str(port), "--url", "https://example.invalid/telegram"]
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:  # a file, not a pipe: DEBUG output would fill a pipe
        process = subprocess.Popen(command, env=env, cwd=tmp_path, stderr=stderr)
    try:
        started = wait_until(lambda: healthy(port) or process.poll() is not None, DEADLINE)
        assert started and process.poll() is None, log.read_text()
        [webhook] = fake.called("setWebhook")
        assert webhook["secret_token"] == SECRET
        assert webhook["url"] == "https://example.invalid/telegram"

        update = command_update("/status X Pakistan", chat_id=AYESHA, update_id=1)
        response = post_update(port, update, SECRET, timeout=DEADLINE)
        assert response.status_code == 200
        [reply] = fake.called("sendMessage")
        assert int(reply["chat_id"]) == AYESHA
        assert BAN_CONTEXT in html_to_text(reply["text"])
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=DEADLINE)
    stderr_text = log.read_text()
    assert returncode == 0, stderr_text
    assert "stopped" in stderr_text
    assert "<token>" in stderr_text  # the secret was there to scrub, and it was masked
    for secret in (TOKEN, TOKEN.split(":")[1], SECRET):
        assert secret not in stderr_text

"""The console script as a person runs it: settings errors, run without a token, ask, console."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest
from processes import free_port

from bot.cli.main import main
from bot.config.settings import SettingsError, load_settings

TOKEN = "7654321:AAH-very-secret-token-value-0123456789abc"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OUTAGEBOT_")}
    env.update({"OUTAGEBOT_DATABASE": str(tmp_path / "bot.sqlite3"), "HOME": str(tmp_path)})
    env.update(extra)
    return env


def outagebot(
    *args: str,
    env: dict[str, str],
    cwd: Path,
    stdin: str | None = None,
    timeout: float = 60,
    wrapper: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """`outagebot ARGS` as a process; `wrapper` goes in front (setpriv, to drop a privilege)."""
    return subprocess.run(
        [*wrapper, sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def test_invalid_setting_fails_naming_the_variable(monkeypatch):
    monkeypatch.setenv("OUTAGEBOT_REFRESH_SECONDS", "soon")
    with pytest.raises(SettingsError, match="OUTAGEBOT_REFRESH_SECONDS"):
        load_settings(_env_file=None)


def test_invalid_setting_never_echoes_the_value(monkeypatch):
    monkeypatch.setenv("OUTAGEBOT_ADMIN_IDS", "12,abc-secret")
    with pytest.raises(SettingsError) as raised:
        load_settings(_env_file=None)
    assert "OUTAGEBOT_ADMIN_IDS" in str(raised.value)
    assert "abc-secret" not in str(raised.value)


def test_settings_read_prefixed_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("OUTAGEBOT_ADMIN_IDS", "1, 2")
    monkeypatch.setenv("OUTAGEBOT_CHANNEL_ID", "@outages")
    monkeypatch.setenv("OUTAGEBOT_TOKEN", TOKEN)
    settings = load_settings(_env_file=None)
    assert settings.admin_ids == frozenset({1, 2})
    assert settings.channel_id == "@outages"
    assert TOKEN not in repr(settings)


@pytest.mark.process
def test_run_without_token_explains_botfather_and_exits_2(tmp_path):
    result = outagebot("run", env=clean_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "@BotFather" in result.stderr
    assert "OUTAGEBOT_TOKEN" in result.stderr


@pytest.mark.process
def test_bad_setting_makes_the_cli_exit_2_naming_it(tmp_path):
    result = outagebot(
        "ask", "/help", env=clean_env(tmp_path, OUTAGEBOT_LOG_LEVEL="LOUD"), cwd=tmp_path
    )
    assert result.returncode == 2
    assert "OUTAGEBOT_LOG_LEVEL" in result.stderr


@pytest.mark.process
def test_ask_prints_the_reply_as_plain_text_on_a_fresh_database(tmp_path):
    result = outagebot("ask", "/status X Pakistan", env=clean_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "X in Pakistan" in result.stdout
    assert "<b>" not in result.stdout
    assert "23:06 PKT (18:06 UTC) · 136 reports" in result.stdout


@pytest.mark.process
def test_ask_at_a_past_instant_shows_the_outage_live(tmp_path):
    result = outagebot(
        "ask",
        "/status X Pakistan",
        "--at",
        "2025-03-10T18:30:00Z",
        env=clean_env(tmp_path),
        cwd=tmp_path,
    )
    assert "Outage now" in result.stdout


@pytest.mark.process
def test_ask_full_prints_the_card_then_every_view_behind_its_buttons(tmp_path):
    result = outagebot(
        "ask",
        "--full",
        "--at",
        "2025-03-10T18:30:00Z",
        "/status X Pakistan",
        env=clean_env(tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    card, *views = result.stdout.split("─" * 40)
    assert card.startswith("🇵🇰 X in Pakistan\n🔴 X is down worldwide")
    assert [view.strip().splitlines()[0] for view in views] == [
        "🇵🇰 X in Pakistan — timeline",
        "🇵🇰 X in Pakistan — what was said",
        "🇵🇰 X in Pakistan — ban record",
        "🇵🇰 X in Pakistan — sources",
    ]
    assert "Sindh High Court" in views[2]  # the legal record the short card leaves out
    assert "Musk blamed a" in views[1]


@pytest.mark.process
def test_the_console_lists_a_cards_buttons_and_a_number_presses_one(tmp_path):
    result = outagebot(
        "console", env=clean_env(tmp_path), cwd=tmp_path, stdin="/status x pk\n3\n9\n1\n"
    )
    assert result.returncode == 0, result.stderr
    assert "[1] 🕒 Timeline  [2] 💬 What was said  [3] 📜 Ban record" in result.stdout
    assert "bot> 🇵🇰 X in Pakistan — ban record" in result.stdout
    assert "[1] « Back to the card" in result.stdout
    assert "(no button 9: [1] « Back to the card)" in result.stdout
    assert result.stdout.count("bot> 🇵🇰 X in Pakistan\n") == 2  # back on the card


@pytest.mark.process
def test_ask_rejects_a_time_without_offset(tmp_path):
    result = outagebot("ask", "/help", "--at", "yesterday", env=clean_env(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert "ISO 8601" in result.stderr


@pytest.mark.process
def test_console_answers_each_line_until_end_of_input(tmp_path):
    result = outagebot(
        "console", env=clean_env(tmp_path), cwd=tmp_path, stdin="/start\n/status twiter pk\n"
    )
    assert result.returncode == 0, result.stderr
    assert "bot> Hello" in result.stdout
    assert "Did you mean: X?" in result.stdout


@pytest.mark.process
def test_run_polls_a_self_hosted_bot_api_and_never_logs_the_token(tmp_path, fake_telegram):
    base_url = fake_telegram.base_url
    env = clean_env(
        tmp_path,
        OUTAGEBOT_TOKEN=TOKEN,
        OUTAGEBOT_BASE_URL=base_url,
        OUTAGEBOT_LOG_LEVEL="DEBUG",
        OUTAGEBOT_POLL_TIMEOUT="0",
        OUTAGEBOT_POLL_INTERVAL="0.2",
    )
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log_file:  # a file, not a pipe: DEBUG output would fill a pipe
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            env=env,
            cwd=tmp_path,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            assert fake_telegram.polled.wait(timeout=60), "the bot never polled"
        finally:
            process.terminate()
            process.wait(timeout=30)
    logs = log_path.read_text()
    assert fake_telegram.called("getMe") and fake_telegram.called("setMyCommands")
    assert "HTTP Request: POST http://127.0.0.1" in logs  # httpx did log the URLs…
    assert "/bot<token>/getMe" in logs  # …with the token masked
    assert TOKEN not in logs
    assert TOKEN.split(":")[1] not in logs


def test_import_via_main_reports_counts(tmp_path, capsys):
    path = tmp_path / "one.json"
    path.write_text(
        json.dumps(
            {
                "observations": [
                    {
                        "service": "x",
                        "region": "pk",
                        "at": "2025-01-01T00:00:00Z",
                        "count": 3,
                        "source": "test",
                    }
                ]
            }
        )
    )
    assert main(["--database", str(tmp_path / "d.sqlite3"), "import", str(path)]) == 0
    assert "imported 1 new observations" in capsys.readouterr().out


@pytest.mark.process
async def test_an_open_console_leaves_the_scheduled_work_to_a_running_bot(tmp_path):
    """`outagebot console` beside `outagebot run` on one SQLite file must not take the lead."""
    from bot.cli.console import offline_bot
    from bot.config.settings import Settings
    from bot.core.clock import SystemClock
    from storage.leases import FileLock

    database = tmp_path / "bot.sqlite3"
    settings = Settings(_env_file=None, database=str(database))  # type: ignore[call-arg]
    async with offline_bot(settings, SystemClock()):
        running_bot = FileLock(f"{database}.leader")
        assert await running_bot.try_acquire() is True
        await running_bot.release()


def test_every_configured_secret_is_masked_in_log_lines():
    import logging

    from bot.config.settings import Settings
    from bot.runtime.logs import RedactingFormatter

    secrets = {"cloudflare": "cf-radar-token-5551234", "hook": "hook-secret_0987", "pg": "pg-pw-42"}
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        token=TOKEN,
        cloudflare_token=secrets["cloudflare"],
        webhook_secret=secrets["hook"],
        database=f"postgresql://bot:{secrets['pg']}@127.0.0.1:5432/bot",
    )
    everything = " ".join([TOKEN, *secrets.values()])
    record = logging.LogRecord("test", logging.ERROR, __file__, 1, "%s", (everything,), None)
    line = RedactingFormatter("%(message)s", settings.secrets()).format(record)
    assert [secret for secret in [TOKEN, *secrets.values()] if secret in line] == []


@pytest.mark.process
def test_an_unreachable_database_gets_one_line_naming_it_without_the_password(tmp_path):
    target = f"postgresql://bot:pg-secret-pw@127.0.0.1:{free_port()}/outagebot"
    result = outagebot(
        "ask", "/help", env=clean_env(tmp_path, OUTAGEBOT_DATABASE=target), cwd=tmp_path
    )
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"outagebot: cannot open the database {target.replace('pg-secret-pw', '***')}: "
    )
    assert "pg-secret-pw" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.process
def test_run_without_a_reachable_bot_api_says_so_and_exits_1(tmp_path):
    base_url = f"http://127.0.0.1:{free_port()}/bot"
    env = clean_env(tmp_path, OUTAGEBOT_TOKEN=TOKEN, OUTAGEBOT_BASE_URL=base_url)
    result = outagebot("run", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert f"outagebot: cannot reach the Bot API at {base_url}: " in result.stderr
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr


@pytest.mark.process
def test_run_with_an_unreachable_database_says_so_and_exits_1(tmp_path, fake_telegram):
    target = f"postgresql://bot@127.0.0.1:{free_port()}/outagebot"
    env = clean_env(
        tmp_path,
        OUTAGEBOT_TOKEN=TOKEN,
        OUTAGEBOT_BASE_URL=fake_telegram.base_url,
        OUTAGEBOT_DATABASE=target,
    )
    result = outagebot("run", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert f"outagebot: cannot open the database {target}: " in result.stderr
    assert "Traceback" not in result.stderr

"""A database the bot cannot use: one line naming the file, what is wrong and what to do; a
non-zero exit; and the data as it was. Real faults only: a read-only folder or file, a full
filesystem (a small tmpfs), and a file that is not a database; for `ask`, `import` and `run`.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from processes import FakeTelegram
from test_cli import TOKEN, clean_env, outagebot

from bot.app.application import build_application, close_services, open_services
from bot.core.clock import FixedClock
from bot.offline.botapi import ChatDriver
from tests.conftest import TODAY, offline_settings
from tests.faulty_botapi import FaultyBotAPI

# Root writes through any permission bits; without CAP_DAC_OVERRIDE it is held to them like
# anyone else, which is what a bot running as its own user meets.
SETPRIV = shutil.which("setpriv")
NO_OVERRIDE = (
    [SETPRIV, "--bounding-set", "-dac_override,-dac_read_search"]
    if os.geteuid() == 0 and SETPRIV
    else []
)
CSV_ROWS = 20_000


def permissions_apply() -> None:
    if os.geteuid() == 0 and not NO_OVERRIDE:
        pytest.skip("running as root without setpriv: file permissions cannot be made to apply")


def big_csv(folder: Path) -> Path:
    """Enough new observations to need far more pages than a nearly full disk has."""
    path = folder / "counts.csv"
    lines = ["service,region,at,count,source"]
    lines += [
        f"x,pk,2026-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{i % 59:02d}Z,"
        f"{i},Filler counts"
        for i in range(CSV_ROWS)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def made_database(folder: Path) -> Path:
    """A database as `ask` leaves it: created, migrated, filled from the bundled dataset."""
    database = folder / "bot.sqlite3"
    created = outagebot(
        "ask", "/help", env=clean_env(folder, OUTAGEBOT_DATABASE=str(database)), cwd=folder
    )
    assert created.returncode == 0, created.stderr
    return database


def contents(database: Path) -> tuple[int, int, str]:
    # Read-write, so closing the last connection removes the -wal and -shm files again: a
    # read-only one would leave them, and a bot in a read-only folder could then read through them.
    connection = sqlite3.connect(database)
    try:
        observations = connection.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
        sources = connection.execute("SELECT COUNT(*) FROM sources").fetchone()[0]
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()
    return observations, sources, integrity


def command(name: str, folder: Path, database: Path, fake: FakeTelegram) -> tuple[list[str], dict]:
    env = clean_env(folder, OUTAGEBOT_DATABASE=str(database))
    if name == "run":
        env |= {"OUTAGEBOT_TOKEN": TOKEN, "OUTAGEBOT_BASE_URL": fake.base_url}
        return ["run"], env
    if name == "import":
        return ["import", str(big_csv(folder))], env
    return ["ask", "/status X Pakistan"], env


def assert_one_line(result: subprocess.CompletedProcess[str], database: Path, says: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "RuntimeError" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if line.startswith("outagebot:")]
    assert len(problems) == 1, result.stderr
    assert (
        problems[0].startswith("outagebot: cannot ")
        and f"the database {database}: " in (problems[0])
    )
    assert says in problems[0]
    if "run" not in result.args:  # run logs its start at INFO; the others say only this
        assert result.stderr.count("\n") == 1, result.stderr


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs: a real filesystem that fills up, mounted for this test only."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {made.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def fill(folder: Path, *, leave_kib: int) -> None:
    free = shutil.disk_usage(folder).free // 1024
    with (folder / "filler").open("wb") as filler:
        filler.write(b"\0" * max(0, free - leave_kib) * 1024)


@pytest.mark.parametrize("name", ["ask", "import", "run"])
def test_a_file_that_is_not_a_database_gets_one_line_and_stays_as_it_was(
    tmp_path, fake_telegram, name
):
    database = tmp_path / "notes.sqlite3"
    database.write_bytes(b"shopping: milk, eggs\n" * 100)
    args, env = command(name, tmp_path, database, fake_telegram)
    result = outagebot(*args, env=env, cwd=tmp_path)
    assert_one_line(result, database, "it is not a SQLite database")
    assert database.read_bytes() == b"shopping: milk, eggs\n" * 100


@pytest.mark.parametrize("name", ["ask", "import", "run"])
def test_a_read_only_folder_gets_one_line_and_the_data_stays(tmp_path, fake_telegram, name):
    permissions_apply()
    folder = tmp_path / "data"
    folder.mkdir()
    database = made_database(folder)
    before = contents(database)
    args, env = command(name, tmp_path, database, fake_telegram)
    folder.chmod(0o555)
    try:
        result = outagebot(*args, env=env, cwd=tmp_path, wrapper=NO_OVERRIDE)
    finally:
        folder.chmod(0o755)
    assert_one_line(result, database, "it is read-only for this user")
    assert contents(database) == before


def test_a_read_only_file_still_answers_and_refuses_an_import_in_one_line(tmp_path):
    permissions_apply()
    database = made_database(tmp_path)
    before = contents(database)
    database.chmod(0o444)
    env = clean_env(tmp_path, OUTAGEBOT_DATABASE=str(database))
    asked = outagebot("ask", "/status X Pakistan", env=env, cwd=tmp_path, wrapper=NO_OVERRIDE)
    assert asked.returncode == 0, asked.stderr
    assert "X in Pakistan" in asked.stdout  # reading needs no write access

    imported = outagebot(
        "import", str(big_csv(tmp_path)), env=env, cwd=tmp_path, wrapper=NO_OVERRIDE
    )
    assert_one_line(imported, database, "it is read-only for this user")
    database.chmod(0o644)
    assert contents(database) == before


def test_a_disk_filling_up_during_an_import_gets_one_line_and_loses_nothing(small_disk):
    database = made_database(small_disk)
    before = contents(database)
    fill(small_disk, leave_kib=150)
    env = clean_env(small_disk, OUTAGEBOT_DATABASE=str(database))
    result = outagebot("import", str(big_csv(small_disk.parent)), env=env, cwd=small_disk.parent)
    assert_one_line(result, database, "the disk is full")
    assert "cannot rollback" not in result.stderr
    assert contents(database) == before == (before[0], before[1], "ok")


@pytest.mark.parametrize("name", ["ask", "import", "run"])
def test_a_full_disk_gets_one_line_and_the_data_stays(small_disk, fake_telegram, name):
    database = made_database(small_disk)
    before = contents(database)
    fill(small_disk, leave_kib=0)
    args, env = command(name, small_disk.parent, database, fake_telegram)
    result = outagebot(*args, env=env, cwd=small_disk.parent)
    assert_one_line(result, database, "the disk")
    (small_disk / "filler").unlink()
    assert contents(database) == before


async def test_a_disk_that_fills_while_the_bot_runs_gets_a_clear_reply_and_one_log_line(
    small_disk, tmp_path, caplog
):
    """Not only at start: a write that meets a full disk mid-run is told as such, to the person
    (nothing recorded) and in the log (one line naming the file, no traceback)."""
    database = small_disk / "bot.sqlite3"
    clock = FixedClock(TODAY)
    api = FaultyBotAPI(clock=lambda: clock.now().timestamp())
    settings = offline_settings(database, report_key_file=tmp_path / "reporter.key")
    application = build_application(settings, request=api, clock=clock)
    await application.initialize()
    await open_services(application)
    try:
        driver = ChatDriver(application, api)
        before = contents(database)
        fill(small_disk, leave_kib=0)
        with caplog.at_level(logging.ERROR):
            (reply,) = await driver.send("/report x pk")
        assert "my storage is failing" in reply.plain
        assert "not recorded" in reply.plain
        told = [r for r in caplog.records if r.name == "handlers.errors"]
        assert len(told) == 1 and told[0].exc_info is None
        assert str(database) in told[0].getMessage()
        assert "disk is full" in told[0].getMessage()
    finally:
        await close_services(application)
        await application.shutdown()
    (small_disk / "filler").unlink()
    assert contents(database) == before

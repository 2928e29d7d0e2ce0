"""Which database a command opens: URL spellings, refused schemes, options after the command,
and the one rule for filling a new database from the bundled dataset."""

from __future__ import annotations

from pathlib import Path

import pytest
from processes import free_port
from test_cli import clean_env, outagebot

PASSWORD = "pwSECRET9"
CSV = "service,region,at,count,source\nx,pk,2026-11-22T09:00:00Z,4321,Test counts\n"


def files_under(folder: Path) -> set[Path]:
    """Files a command left, leaving out caches (matplotlib keeps its font list in HOME)."""
    return {
        path
        for path in folder.rglob("*")
        if path.is_file() and ".cache" not in path.relative_to(folder).parts
    }


@pytest.mark.parametrize(
    "url",
    [f"mysql://u:{PASSWORD}@h/db", f"mongodb+srv://u:{PASSWORD}@h/db", f"redis://:{PASSWORD}@h"],
)
def test_an_unsupported_database_url_is_refused_without_its_password(tmp_path, url):
    env = clean_env(tmp_path, OUTAGEBOT_DATABASE=url)
    before = files_under(tmp_path)
    result = outagebot("ask", "/status x pk", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "OUTAGEBOT_DATABASE" in result.stderr and "cannot use a" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    assert files_under(tmp_path) == before  # no SQLite file named after the URL


@pytest.mark.parametrize("scheme", ["postgresql+asyncpg", "postgres", "postgresql+psycopg"])
def test_common_spellings_of_postgresql_reach_postgresql(tmp_path, scheme):
    port = free_port()
    env = clean_env(tmp_path, OUTAGEBOT_DATABASE=f"{scheme}://bot:{PASSWORD}@127.0.0.1:{port}/b")
    before = files_under(tmp_path)
    result = outagebot("ask", "/status x pk", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"outagebot: cannot open the database postgresql://bot:***@127.0.0.1:{port}/b: "
    )
    assert PASSWORD not in result.stderr
    assert files_under(tmp_path) == before


def test_sqlalchemy_spelling_of_sqlite_opens_that_file(tmp_path):
    database = tmp_path / "spelled.sqlite3"
    env = clean_env(tmp_path, OUTAGEBOT_DATABASE=f"sqlite+aiosqlite:///{database}")
    result = outagebot("ask", "/status X Pakistan", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "X in Pakistan" in result.stdout
    assert database.is_file()


def test_migrate_data_refuses_an_unsupported_target_without_its_password(tmp_path):
    source = tmp_path / "bot.sqlite3"
    assert outagebot("ask", "/help", env=clean_env(tmp_path), cwd=tmp_path).returncode == 0
    result = outagebot(
        "migrate-data",
        str(source),
        f"mysql://u:{PASSWORD}@h/db",
        env=clean_env(tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "cannot use a mysql:// database" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


def test_migrate_data_masks_the_password_of_a_url_on_its_command_line(tmp_path):
    source = f"postgresql+asyncpg://bot:{PASSWORD}@127.0.0.1:{free_port()}/gone"
    result = outagebot(
        "migrate-data",
        source,
        str(tmp_path / "copy.sqlite3"),
        env=clean_env(tmp_path),
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "cannot open postgresql://bot:***@127.0.0.1:" in result.stderr
    assert PASSWORD not in result.stderr + result.stdout


def test_database_option_after_the_command_is_taken(tmp_path):
    data = tmp_path / "counts.csv"
    data.write_text(CSV)
    database = tmp_path / "after.sqlite3"
    env = clean_env(tmp_path)
    imported = outagebot("import", str(data), "--database", str(database), env=env, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert f"into {database}" in imported.stdout
    asked = outagebot(
        "ask", "/timeline X Pakistan 2026-11-22", "--database", str(database), env=env, cwd=tmp_path
    )
    assert "4,321" in asked.stdout
    assert not (tmp_path / "bot.sqlite3").exists()  # OUTAGEBOT_DATABASE was not used


def test_database_option_before_the_command_still_wins_over_the_setting(tmp_path):
    database = tmp_path / "before.sqlite3"
    result = outagebot(
        "--database", str(database), "ask", "/help", env=clean_env(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert database.is_file() and not (tmp_path / "bot.sqlite3").exists()


def test_import_into_a_new_file_fills_the_bundled_dataset_first_like_ask(tmp_path):
    data = tmp_path / "counts.csv"
    data.write_text(CSV)
    env = clean_env(tmp_path)
    imported = outagebot("import", str(data), env=env, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "was empty: filled it from the bundled dataset first" in imported.stdout
    card = outagebot("ask", "/status X Pakistan", env=env, cwd=tmp_path).stdout
    assert "Blocked in Pakistan since February 2024" in card  # the bundled ban context
    timeline = outagebot("ask", "/timeline X Pakistan 2026-11-22", env=env, cwd=tmp_path).stdout
    assert "4,321" in timeline  # and the imported row beside it

    again = outagebot("import", str(data), env=env, cwd=tmp_path)
    assert "was empty" not in again.stdout  # only an empty database is filled


def test_without_the_bundled_dataset_a_new_database_holds_only_what_was_imported(tmp_path):
    data = tmp_path / "counts.csv"
    data.write_text(CSV)
    env = clean_env(tmp_path, OUTAGEBOT_BUNDLED_DATASET="false")
    imported = outagebot("import", str(data), env=env, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "was empty" not in imported.stdout
    card = outagebot("ask", "/status X Pakistan", env=env, cwd=tmp_path).stdout
    assert "4,321" in card
    assert "Blocked in Pakistan" not in card

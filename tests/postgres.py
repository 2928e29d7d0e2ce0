"""A PostgreSQL server for the tests: the one CI started, or a throwaway cluster on 127.0.0.1.

`OUTAGEBOT_TEST_POSTGRES` names a server (an admin URL, e.g.
postgresql://postgres@127.0.0.1:55432/postgres); without it, a cluster is made with the
distribution's initdb in a temporary folder and removed afterwards. Where neither is possible,
PostgreSQL tests are skipped, unless `OUTAGEBOT_REQUIRE_POSTGRES=1` (CI) makes that a failure.

Each test gets its own database, copied from a migrated template (~30 ms), and dropped after.
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ENV_URL = "OUTAGEBOT_TEST_POSTGRES"
ENV_REQUIRE = "OUTAGEBOT_REQUIRE_POSTGRES"
TEMPLATE = f"outagebot_template_{os.getpid()}"


class PostgresUnavailable(Exception):
    pass


def database_url(admin_url: str, name: str) -> str:
    """The admin URL pointed at another database on the same server."""
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


def _bindir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """initdb + pg_ctl start in a temporary folder; as root, run as the `postgres` user."""
    bindir = _bindir()
    if bindir is None:
        raise PostgresUnavailable("no initdb found (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="outagebot-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = folder / "data", _free_port()

    def run(*command: str) -> None:
        result = subprocess.run(
            [*as_user, *command], capture_output=True, text=True, timeout=120, check=False
        )
        if result.returncode != 0:
            raise PostgresUnavailable(f"{command[0]} failed: {result.stderr.strip()[-500:]}")

    run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-A",
        "trust",
        "-U",
        "postgres",
        "-E",
        "UTF8",
        "--no-locale",
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
        " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    )
    run(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-o",
        options,
        "-l",
        str(folder / "log"),
        "-w",
        "start",
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(folder, ignore_errors=True)


async def _admin(admin_url: str, *statements: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def _migrate_template(admin_url: str) -> None:
    from storage.database import Database

    await _admin(
        admin_url,
        f"DROP DATABASE IF EXISTS {TEMPLATE}",
        f"CREATE DATABASE {TEMPLATE} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C'"
        " LC_CTYPE 'C'",
    )
    database = await Database.open(database_url(admin_url, TEMPLATE))
    await database.close()


def _run(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run to completion from sync code, even inside a test whose event loop is running."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coroutine)
        return
    with ThreadPoolExecutor(max_workers=1) as worker:
        worker.submit(asyncio.run, coroutine).result()


class PostgresServer:
    """Fresh databases on one server."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        _run(_migrate_template(admin_url))

    def fresh(self, *, migrated: bool = True) -> str:
        name = f"test_{uuid.uuid4().hex[:12]}"
        template = TEMPLATE if migrated else "template0"
        _run(
            _admin(
                self.admin_url,
                f"CREATE DATABASE {name} TEMPLATE {template}"
                " ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'",
            )
        )
        return database_url(self.admin_url, name)

    def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        _run(_admin(self.admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def close(self) -> None:
        _run(_admin(self.admin_url, f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    url = os.environ.get(ENV_URL)
    if url:
        server = PostgresServer(url)
        try:
            yield server
        finally:
            server.close()
        return
    with throwaway_cluster() as admin_url:
        yield PostgresServer(admin_url)

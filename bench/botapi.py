"""What the benchmarks that run real bot processes share: a Bot API stand-in's HTTP side, the
updates Telegram would send, and starting and stopping processes on 127.0.0.1.

The stand-in speaks HTTP/1.1 with keep-alive on raw asyncio, just enough for PTB's httpx client
and no framework in the way, so it takes little of the CPU it shares with the bot it serves.
A subclass decides the answers (`answer`); an answer may be awaitable, for a stand-in that
takes its time like Telegram does.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

HOST = "127.0.0.1"  # the only address these benchmarks ever talk to
STOP_TIMEOUT = 30.0  # the bot's own grace is 25 s
ROOT = Path(__file__).resolve().parent.parent

children: list[subprocess.Popen[bytes]] = []  # everything started; a bench stops what is left


class BotAPIProtocol(asyncio.Protocol, ABC):
    """One client connection: requests parsed as they arrive, answered in order."""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.buffer = bytearray()
        self.previous: asyncio.Task[None] | None = None  # answers leave in request order

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            verb, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", ""):
                parsed = _dechunk(self.buffer, end + 4)
                if parsed is None:
                    return
                body, used = parsed
            else:
                used = end + 4 + int(headers.get("content-length") or 0)
                if len(self.buffer) < used:
                    return
                body = bytes(self.buffer[end + 4 : used])
            del self.buffer[:used]
            close = headers.get("connection", "").lower() == "close"
            payload = self.answer(verb, target, headers.get("content-type", ""), body)
            if isinstance(payload, bytes) and self.previous is None:
                self._write(payload, close)
            else:
                self.previous = asyncio.ensure_future(
                    self._write_later(self.previous, payload, close)
                )
            if close:
                return

    @abstractmethod
    def answer(self, verb: str, target: str, content_type: str, body: bytes) -> Any:
        """The response body (JSON bytes), or an awaitable of it: each stand-in says its own."""

    async def _write_later(
        self, previous: asyncio.Task[None] | None, payload: Any, close: bool
    ) -> None:
        if previous is not None:
            await previous
        self._write(await payload if isinstance(payload, Awaitable) else payload, close)

    def _write(self, payload: bytes, close: bool) -> None:
        if self.transport.is_closing():
            return
        self.transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(payload)).encode()
            + b"\r\n\r\n"
            + payload
        )
        if close:
            self.transport.close()


async def serve(protocol: Callable[[], asyncio.Protocol]) -> None:
    """A stand-in's own process: print the port, then serve until SIGTERM."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, HOST, 0, backlog=1024)
    print(server.sockets[0].getsockname()[1], flush=True)
    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    async with server:
        await done.wait()


def _dechunk(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    """A chunked body and where it ends, or None while it is still arriving."""
    body = bytearray()
    at = start
    while True:
        line_end = buffer.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(bytes(buffer[at:line_end]).split(b";")[0], 16)
        at = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", at)
            return None if trailer_end < 0 else (bytes(body), trailer_end + 2)
        if len(buffer) < at + size + 2:
            return None
        body += buffer[at : at + size]
        at += size + 2


def params_of(body: bytes, content_type: str) -> dict[str, str]:
    """A Bot API call's parameters, sent as JSON or as a form."""
    if "json" in content_type:
        return {key: str(value) for key, value in json.loads(body or b"{}").items()}
    return {key: values[0] for key, values in parse_qs(body.decode()).items()}


def ok(result: object) -> bytes:
    return json.dumps({"ok": True, "result": result}).encode()


def bot_user(bot_id: int) -> dict[str, Any]:
    """What getMe answers."""
    return {"id": bot_id, "is_bot": True, "first_name": "bench", "username": "bench_bot"}


def sent_message(message_id: int, chat_id: int) -> dict[str, Any]:
    """What sendMessage answers (the text left out: nobody reads it back)."""
    return {
        "message_id": message_id,
        "date": int(time.time()),
        "text": "",
        "chat": {"id": chat_id, "type": "private"},
    }


def status_message(update_id: int, chat_id: int) -> dict[str, Any]:
    """The update Telegram sends when someone writes /status X Pakistan in a private chat."""
    person = {"id": chat_id, "is_bot": False, "first_name": "Ayesha", "language_code": "en"}
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": "private", "first_name": "Ayesha"},
        "from": person,
        "text": "/status X Pakistan",
        "entities": [{"type": "bot_command", "offset": 0, "length": len("/status")}],
    }
    return {"update_id": update_id, "message": message}


# --------------------------------------------------------------------------- processes


def start(command: list[str], **options: Any) -> subprocess.Popen[bytes]:
    # A session of its own: Ctrl-C reaches only the bench, which then stops each child.
    options.setdefault("cwd", ROOT)
    process = subprocess.Popen(command, start_new_session=True, **options)
    children.append(process)
    return process


def stop(process: subprocess.Popen[bytes]) -> int | None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)
    return process.returncode


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment for a bot process: no OUTAGEBOT_ settings or proxies of ours."""
    proxies = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OUTAGEBOT_") and k.upper() not in proxies
    }
    env["NO_PROXY"] = env["no_proxy"] = HOST  # PTB's httpx honours proxy variables: not here
    env.update(extra)
    return env


def checkout_path() -> str:
    """PYTHONPATH for a child: this checkout's code, installed or not."""
    return os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_stat(pid: int | str) -> list[str] | None:
    """/proc/<pid>/stat from field 3 (state) on: the name may hold spaces and parentheses."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def cpu_seconds(pid: int, *, reaped_children: bool = False) -> float:
    """User + system CPU of a process (all its threads); 0 once it is gone."""
    fields = proc_stat(pid)
    if fields is None:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime: backends that exited
    return ticks / CLOCK_TICKS

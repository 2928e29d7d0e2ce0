"""For tests that run real `outagebot` processes: a Bot API over HTTP on 127.0.0.1, free ports,
updates posted to a webhook, and waiting for what a process does (it answers in its own time)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class FakeTelegram:
    """Accepts every call and remembers it; `hold_after` acceptances of sendMessage on, the next
    one is left unanswered (Telegram never accepted it) until `release` is set."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, str]]] = []
        self.accepted: list[int] = []  # the chat of every sendMessage answered, in order
        self.lock = threading.Lock()
        self.hold_after: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.polled = threading.Event()  # someone called getUpdates
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/bot"

    def called(self, method: str) -> list[dict[str, str]]:
        with self.lock:
            return [params for name, params in self.calls if name == method]

    def start(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()  # a held request must not keep its thread past the test
        self.server.shutdown()

    def _answer(self, method: str, params: dict[str, str], token: str) -> object | None:
        """The result for one call, or None to leave it unanswered."""
        if method == "getMe":
            bot_id = int(token.split(":", 1)[0])
            return {"id": bot_id, "is_bot": True, "first_name": "t", "username": "t_bot"}
        if method == "getUpdates":
            self.polled.set()
            time.sleep(0.2)  # a short long-poll, so a polling bot does not spin
            return []
        if method != "sendMessage":
            return True
        chat_id = int(params["chat_id"])
        with self.lock:
            hold = self.hold_after is not None and len(self.accepted) >= self.hold_after
        if hold:
            self.holding.set()
            self.release.wait(timeout=60)
            return None
        with self.lock:
            self.accepted.append(chat_id)
            message_id = len(self.accepted)
        return {
            "message_id": message_id,
            "date": 0,
            "text": params.get("text", ""),
            "chat": {"id": chat_id, "type": "private"},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                _, token, method = self.path.rsplit("/", 2)
                params = _params(body, self.headers.get("Content-Type", ""))
                with fake.lock:
                    fake.calls.append((method, params))
                result = fake._answer(method, params, token.removeprefix("bot"))
                if result is None:
                    return
                payload = json.dumps({"ok": True, "result": result}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return

        return Handler


def _params(body: bytes, content_type: str) -> dict[str, str]:
    if "json" in content_type:
        return {key: str(value) for key, value in json.loads(body or b"{}").items()}
    return {key: values[0] for key, values in parse_qs(body.decode()).items()}


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def command_update(text: str, *, chat_id: int, update_id: int, name: str = "Ayesha") -> dict:
    """A private message holding one command, as Telegram posts it to a webhook."""
    command = text.split()[0]
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": name},
            "from": {"id": chat_id, "is_bot": False, "first_name": name},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
        },
    }


def post_update(port: int, update: dict, secret: str, *, timeout: float = 30) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{port}/telegram",
        json=update,
        headers={SECRET_HEADER: secret},
        timeout=timeout,
    )

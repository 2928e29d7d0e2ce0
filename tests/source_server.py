"""A local stand-in for the outside APIs: recorded responses and bad days, on 127.0.0.1 only.

A thread runs `http.server`, so the same server serves async tests (the bot's httpx client in
the test's event loop) and sync ones (`bot.cli.main.main`, which runs its own loop). Besides plain
replies it can hang (never answer), drip (one byte at a time, slower than any timeout allows)
and answer by path, counting what was asked.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"{}"
    hang: bool = False  # accept the request, never answer
    drip: float = 0.0  # seconds between single bytes of the body
    declare_length: bool = True  # False: no Content-Length, the body ends when the server closes
    content_type: str = "application/json"


def sources_file(folder: Path, *, name: str, kind: str, url: str) -> Path:
    """A sources file with one source for Pakistan, quick to give up: for a harness."""
    path = folder / "sources.toml"
    path.write_text(
        f'[defaults]\ntimeout = 0.3\nretries = 0\n\n[[sources]]\nname = "{name}"\n'
        f'kind = "{kind}"\nurl = "{url}"\nregions = ["Pakistan"]\n',
        encoding="utf-8",
    )
    return path


def ok(name: str) -> Reply:
    return Reply(body=fixture(name))


class FakeAPI:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.by_param: dict[str, tuple[str, dict[str, Reply]]] = {}
        self.asked: dict[str, list[dict[str, list[str]]]] = defaultdict(list)
        self.stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        # A short poll: shutdown() waits up to one poll interval (0.5 s by default) per test.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, *replies: Reply) -> None:
        """Answer `path` with these replies in turn; the last one repeats."""
        self.routes[path] = list(replies)

    def route_by(self, path: str, param: str, replies: dict[str, Reply]) -> None:
        """Answer `path` by the value of one query parameter (IODA's `datasource`)."""
        self.by_param[path] = (param, dict(replies))

    def hits(self, path: str) -> int:
        return len(self.asked[path])

    def __enter__(self) -> FakeAPI:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()  # hanging and dripping handlers give up now
        self.server.shutdown()
        self.server.server_close()

    def _next(self, path: str, query: dict[str, list[str]]) -> Reply | None:
        if path in self.by_param:
            param, replies_by_value = self.by_param[path]
            return replies_by_value.get((query.get(param) or [""])[0])
        replies = self.routes.get(path)
        if not replies:
            return None
        return replies.pop(0) if len(replies) > 1 else replies[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                api.asked[parts.path].append(query)
                reply = api._next(parts.path, query)
                if reply is None:
                    reply = Reply(status=404, body=b'{"detail": "Not Found"}')
                if reply.hang:
                    api.stopping.wait(10)
                    return
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    if reply.declare_length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    if not reply.drip:
                        self.wfile.write(reply.body)
                        return
                    for index in range(len(reply.body)):
                        self.wfile.write(reply.body[index : index + 1])
                        self.wfile.flush()
                        if api.stopping.wait(reply.drip):
                            return
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

        return Handler

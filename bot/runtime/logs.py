"""Logging that never prints the bot token.

Bot API URLs carry the token (`/bot<TOKEN>/sendMessage`), and httpx logs every request URL at
INFO; exceptions from the network layer quote URLs too. So the token is scrubbed from the final
formatted text, tracebacks included, and anything shaped like a token is masked as well.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b")
MASK = "<token>"


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.secrets = [secret for secret in secrets if secret]

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return TOKEN_SHAPE.sub(MASK, text)


def without_bootstrap_traceback(record: logging.LogRecord) -> bool:
    """PTB logs a failed start (getMe unreachable, token refused) with a sixty-line traceback
    and then raises; the command line answers that with one sentence, so the traceback only
    buries it. Kept at DEBUG, where someone is looking for it."""
    bootstrap = record.name.startswith("telegram.ext") and "Bootstrap" in record.getMessage()
    if bootstrap and logging.getLogger().level > logging.DEBUG:
        record.exc_info = None
        record.exc_text = None
    return True


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
    handler.addFilter(without_bootstrap_traceback)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs each request line (the token is in the URL) at INFO: only wanted when
    # debugging, and then masked like everything else.
    httpx_level = logging.DEBUG if root.level <= logging.DEBUG else logging.WARNING
    logging.getLogger("httpx").setLevel(httpx_level)
    logging.getLogger("apscheduler").setLevel(max(logging.WARNING, root.level))
    # aiosqlite logs every statement with its parameters at DEBUG: noise that drowns the rest.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))

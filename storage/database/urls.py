"""Database targets as people write them: a path, `sqlite:///…` or `postgresql://…`.

A target may carry a password, so everything that prints one goes through `redacted`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite://"


def is_postgres(target: str | Path) -> bool:
    return str(target).startswith(POSTGRES_SCHEMES)


def sqlite_path(target: str | Path) -> str:
    """`sqlite:///relative.db`, `sqlite:////abs/file.db` or a bare path, as a file path."""
    text = str(target)
    if text.startswith(SQLITE_SCHEME):
        text = text[len(SQLITE_SCHEME) :]
        return text[1:] if text.startswith("/") else text
    return text


def redacted(target: str | Path) -> str:
    """A database target fit for logs and messages: a URL's password replaced by ***."""
    text = str(target)
    if not is_postgres(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def password_of(target: str | Path) -> str | None:
    """The secret a logger must scrub, if the target carries one."""
    return urlsplit(str(target)).password if is_postgres(target) else None


class DatabaseUnavailable(Exception):
    """The database could not be opened at all: a message for the person starting the bot."""


def unavailable(target: str | Path, error: BaseException) -> DatabaseUnavailable:
    why = str(error) or type(error).__name__
    password = password_of(target)
    if password:
        why = why.replace(password, "***")
    return DatabaseUnavailable(f"cannot open the database {redacted(target)}: {why}")

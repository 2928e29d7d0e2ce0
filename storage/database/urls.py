"""Database targets as people write them: a path, `sqlite:///…` or `postgresql://…`.

A target may carry a password, so everything that prints one goes through `redacted`.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite://"


# The URL schemes each engine answers to, as other tools spell them (SQLAlchemy's driver suffixes
# included), so a URL copied from another project's settings works as it is.
_SCHEMES = {
    "sqlite": SQLITE_SCHEME,
    "sqlite3": SQLITE_SCHEME,
    "sqlite+aiosqlite": SQLITE_SCHEME,
    "sqlite+pysqlite": SQLITE_SCHEME,
    "postgresql": "postgresql://",
    "postgres": "postgresql://",
    "postgresql+asyncpg": "postgresql://",
    "postgresql+psycopg": "postgresql://",
    "postgresql+psycopg2": "postgresql://",
    "pgsql": "postgresql://",
}
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")


class UnsupportedDatabase(ValueError):
    """A URL naming an engine the bot does not run on; the message names the scheme only."""


def database_target(target: str | Path) -> str:
    """The target in the spelling the engines read: a path, `sqlite://…` or `postgresql://…`.

    Any other `scheme://` is refused: taken as a file path it would create a SQLite file named
    after the URL, password and all, and the bot would answer from an empty database.
    """
    text = str(target)
    match = _URL.match(text)
    if match is None:
        return text
    scheme = _SCHEMES.get(match.group(1).lower())
    if scheme is None:
        raise UnsupportedDatabase(
            f"the bot cannot use a {match.group(1)}:// database; give a SQLite file path,"
            " sqlite:///file.db or postgresql://user:password@host/db"
        )
    return scheme + text[match.end() :]


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
    if not _URL.match(text):
        return text
    parts = urlsplit(text)
    if parts.password is None:
        return text
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def password_of(target: str | Path) -> str | None:
    """The secret a logger must scrub, if the target carries one."""
    return urlsplit(str(target)).password if _URL.match(str(target)) else None


class DatabaseUnavailable(Exception):
    """The database cannot be used (opened, or written): one line for the person running the bot,
    naming the database, what is wrong and what to do."""


# What the environment did to a SQLite file, by SQLite's primary result code, and what a person
# can do about it. Extended codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED) share the advice.
_SQLITE_ADVICE = {
    "SQLITE_READONLY": "it is read-only for this user: make the file and its folder writable (the"
    " folder holds the -wal and -shm files beside it), or use another path",
    "SQLITE_CANTOPEN": "the file cannot be opened: check that its folder exists and that this user"
    " may write there, or use another path",
    "SQLITE_PERM": "this user may not write it: check its permissions, or use another path",
    "SQLITE_FULL": "the disk is full: free some space, then run the command again",
    "SQLITE_IOERR": "the disk refused a read or write (most often because it is full): free some"
    " space or check the disk, then run the command again",
    "SQLITE_NOTADB": "it is not a SQLite database: give the bot's own database file, or a path"
    " where none exists yet to start a new one",
    "SQLITE_CORRUPT": "the file is damaged: restore it from a backup, or start a new one elsewhere",
}


def unavailable(
    target: str | Path, error: BaseException, *, doing: str = "open"
) -> DatabaseUnavailable:
    why = str(error) or type(error).__name__
    password = password_of(target)
    if password:
        why = why.replace(password, "***")
    code = getattr(error, "sqlite_errorname", "") or ""
    advice = next((text for name, text in _SQLITE_ADVICE.items() if code.startswith(name)), None)
    if advice is not None:
        why = f"{advice} ({why}); nothing was changed"
    return DatabaseUnavailable(f"cannot {doing} the database {redacted(target)}: {why}")


def is_environmental(error: BaseException) -> bool:
    """A SQLite error that the disk, the file or its permissions caused, not the statement."""
    code = getattr(error, "sqlite_errorname", "") or ""
    return isinstance(error, sqlite3.Error) and code.startswith(tuple(_SQLITE_ADVICE))

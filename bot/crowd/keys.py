"""The key of reporters' keyed hashes, kept out of the database.

With the key in the same file as the hashes, a copy of the file was enough to try every
Telegram user id against them. So the key comes from `OUTAGEBOT_REPORT_SALT`, or from a key
file outside the data directory (`OUTAGEBOT_REPORT_KEY_FILE`, by default in the user's config
directory), made once with permissions 0600. Replicas on several machines need the setting (the
same on each), or each would hash a person differently and the hourly limit would count per
replica.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
from functools import cache
from pathlib import Path

from bot.config.settings import Settings

log = logging.getLogger(__name__)

KEY_BYTES = 32


def reporter_key(settings: Settings) -> bytes:
    """The configured salt, else the key file's key (made on first use)."""
    if settings.report_salt is not None:
        return settings.report_salt.get_secret_value().encode("utf-8")
    return _key_from_file(settings.report_key_file.expanduser())


@cache
def _key_from_file(path: Path) -> bytes:
    """Read once per process: the key never changes while the bot runs.

    When the file cannot be read or made (a read-only home in a container), a key for this
    process alone still holds the limit; it ends with the process, and so does what it can
    link, which the hashes' one-hour life makes little.
    """
    try:
        return _read_or_make(path)
    except OSError as error:
        log.warning(
            "cannot keep the reporter key in %s (%s); using a key for this process only: set "
            "OUTAGEBOT_REPORT_SALT or a writable OUTAGEBOT_REPORT_KEY_FILE",
            path,
            error.strerror or error,
        )
        return secrets.token_bytes(KEY_BYTES)


def _read_or_make(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        # Written whole under a private name, then linked into place: link() refuses an existing
        # name, so two processes starting together both end up with whichever key came first.
        draft = path.with_name(f".{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(KEY_BYTES) + "\n")
        try:
            with contextlib.suppress(FileExistsError):  # another process linked its key first
                os.link(draft, path)
        finally:
            draft.unlink()
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        path.chmod(0o600)
        log.warning("the reporter key file %s was readable by others; now 0600", path)
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (ValueError, UnicodeDecodeError):
        raise OSError(0, "not a key this bot wrote") from None
    if len(key) < 16:
        raise OSError(0, "too short to be a key this bot wrote")
    return key

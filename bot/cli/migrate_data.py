"""`outagebot migrate-data SOURCE TARGET`: copy a database into another, then show it arrived.

The copying and checking live in storage/transfer.py; this module says what happens, in the
terminal: progress on stderr (so stdout is only the verification table a person or a script
keeps), and database targets only as `redacted()` shows them.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from storage.database import Database, is_postgres, password_of, redacted, sqlite_path
from storage.transfer import (
    DEFAULT_BATCH,
    PROGRESS_TABLE,
    RowRefused,
    TableCheck,
    TableProgress,
    TransferError,
    copy_database,
    short_checksum,
    verify_copy,
)

# How often a long table's copy reports its progress.
PROGRESS_EVERY = 2.0


def migrate_data(source: str, target: str, *, batch: int | None = None) -> int:
    """0 when every table matches, 1 on a mismatch or a refused row, 2 when nothing could start.

    Ctrl-C leaves every committed batch in place, so the message points at the rerun.
    """
    try:
        return asyncio.run(_migrate(source, target, batch or DEFAULT_BATCH))
    except KeyboardInterrupt:
        _say("\ninterrupted: the batches copied so far are kept; run the same command to resume")
        return 130


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _scrubbed(text: str, *targets: str) -> str:
    """An error message with any password the targets carry masked (drivers may echo a DSN)."""
    for target in targets:
        secret = password_of(target)
        if secret:
            text = text.replace(secret, "***")
    return text


def _same_database(source: str, target: str) -> bool:
    if is_postgres(source) or is_postgres(target):
        return redacted(source) == redacted(target)
    return Path(sqlite_path(source)).resolve() == Path(sqlite_path(target)).resolve()


async def _open(target: str, *others: str) -> Database | None:
    try:
        return await Database.open(target, pool_size=2)
    except Exception as error:
        _say(f"outagebot: cannot open {redacted(target)}: {_scrubbed(str(error), target, *others)}")
        return None


class _ProgressLines:
    """One line per table when it finishes, and one every few seconds while a big one copies."""

    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, step: TableProgress) -> None:
        now = time.monotonic()
        if step.finished_earlier:
            _say(f"  {step.table}: {step.copied:,} rows (copied by an earlier run)")
        elif step.done:
            earlier = f" ({step.earlier:,} of them by an earlier run)" if step.earlier else ""
            _say(f"  {step.table}: {step.copied:,} rows{earlier}")
        elif now - self.last >= PROGRESS_EVERY:
            _say(f"  {step.table}: {step.copied:,} of {step.total:,} rows…")
        else:
            return
        self.last = now


async def _migrate(source_target: str, target_target: str, batch: int) -> int:
    if batch < 1:
        _say("outagebot: --batch must be at least 1")
        return 2
    if not is_postgres(source_target) and not Path(sqlite_path(source_target)).is_file():
        _say(f"outagebot: no database at {redacted(source_target)} (a SQLite source must exist)")
        return 2
    if _same_database(source_target, target_target):
        _say("outagebot: the source and the target are the same database")
        return 2
    source = await _open(source_target, target_target)
    if source is None:
        return 2
    target = await _open(target_target, source_target)
    if target is None:
        await source.close()
        return 2
    try:
        return await _copy_and_verify(source, target, source_target, target_target, batch)
    finally:
        await target.close()
        await source.close()


async def _copy_and_verify(
    source: Database, target: Database, source_target: str, target_target: str, batch: int
) -> int:
    _say(f"copying {redacted(source_target)} into {redacted(target_target)}")
    started = time.monotonic()
    try:
        shapes = await copy_database(source, target, batch=batch, progress=_ProgressLines())
    except RowRefused as refused:
        _say(f"outagebot: {_scrubbed(str(refused), source_target, target_target)}")
        _say(
            "That batch was rolled back; everything before it is kept. Correct the row in the"
            " source, then run the same command to resume."
        )
        return 1
    except TransferError as error:
        _say(f"outagebot: {_scrubbed(str(error), source_target, target_target)}")
        return 2
    copied = time.monotonic() - started
    _say(f"copied in {copied:.1f} s; verifying…")
    checks = await verify_copy(source, target, shapes, batch=batch)
    _say(f"verified in {time.monotonic() - started - copied:.1f} s")
    print(verification_table(checks))
    print(verification_summary(checks))
    if all(check.ok for check in checks):
        _say(
            f"The target's {PROGRESS_TABLE} table makes a rerun check again instead of copying;"
            " drop it once the bot runs on the target."
        )
        return 0
    return 1


def verification_table(checks: list[TableCheck]) -> str:
    """Per table, by name: rows on both sides, the source's checksum, and whether they agree."""
    width = max([len("table"), *(len(check.table) for check in checks)])
    lines = [f"{'table':<{width}}  {'source rows':>11}  {'target rows':>11}  {'checksum':<16}"]
    for check in sorted(checks, key=lambda check: check.table):
        verdict = "ok" if check.ok else "MISMATCH"
        if check.source_checksum != check.target_checksum:
            verdict += f" (target checksum {short_checksum(check.target_checksum)})"
        lines.append(
            f"{check.table:<{width}}  {check.source_rows:>11,}  {check.target_rows:>11,}"
            f"  {short_checksum(check.source_checksum)}  {verdict}"
        )
    return "\n".join(line.rstrip() for line in lines)


def verification_summary(checks: list[TableCheck]) -> str:
    rows = sum(check.source_rows for check in checks)
    wrong = [check.table for check in checks if not check.ok]
    if not wrong:
        return f"{len(checks)} tables, {rows:,} rows: every count and checksum matches."
    return (
        f"MISMATCH in {len(wrong)} of {len(checks)} tables ({', '.join(sorted(wrong))})."
        " Did the source change during the copy (stop the bot first), or the target after it?"
        " To start over, copy into a new, empty database."
    )

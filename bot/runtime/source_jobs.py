"""One JobQueue job per configured source, each on its own interval.

Jobs are independent, so a slow or failing source never delays another, the refresh job or a
reply; the callback catches everything, because an exception escaping a JobQueue callback
would only reach the error handler as noise, and the source's health row is where a failure
belongs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import cast

from telegram.ext import Application

from bot.core.catalog import Catalog
from bot.runtime.context import BotContext, leader_only
from bot.runtime.state import BotState, SourcesSetup
from bot.sources import ADAPTERS, build_adapter
from bot.sources.adapter import Adapter
from bot.sources.config import SourcesFileError, load_sources
from bot.sources.runner import RunReport, run_source
from storage.source_health import forget_sources_except

log = logging.getLogger(__name__)

JOB_PREFIX = "source:"
FORGET_JOB = "sources-forget"
FIRST_RUN = 5.0  # seconds after start; later sources are staggered so they don't start at once
STAGGER = 7.0


def load_setup(services: BotState) -> SourcesSetup:
    path = services.settings.sources_file
    if path is None:
        return SourcesSetup()
    return setup_from(path, services.catalog)


def setup_from(path: Path, catalog: Catalog) -> SourcesSetup:
    try:
        file = load_sources(path, catalog, ADAPTERS)
    except SourcesFileError as error:
        return SourcesSetup(error=error)
    adapters = {config.name: build_adapter(config, catalog) for config in file.sources}
    return SourcesSetup(file=file, adapters=adapters)


def job_name(source: str) -> str:
    return f"{JOB_PREFIX}{source}"


async def source_job(context: BotContext) -> None:
    """Run one source; whatever happens is recorded in its health row, never raised."""
    name = context.job.data if context.job is not None else None
    try:
        services = context.state
        setup = context.bot_data.sources or SourcesSetup()
        adapter = setup.adapters[str(name)]
        await run_source_job(services, adapter)
    except Exception:
        log.exception("source job %s failed outside the source's own run", name)


async def run_source_job(services: BotState, adapter: Adapter) -> RunReport:
    return await run_source(services.db, adapter, services.clock)


async def forget_job(context: BotContext) -> None:
    """Once at start: sources no longer configured stop speaking on cards (see storage)."""
    try:
        services = context.state
        keep = cast("Iterable[str]", context.job.data if context.job is not None else ())
        forgotten = await forget_sources_except(services.db, keep or ())
        if forgotten:
            log.info("forgot %d sources no longer in the sources file", forgotten)
    except Exception:
        log.exception("could not forget the sources no longer configured")


def schedule_sources(application: Application, services: BotState) -> SourcesSetup:
    """Load the sources file and schedule a job per source; without a file, nothing changes.

    A broken file is logged and shown by /sources rather than stopping the bot: the bot's
    own data and replies do not depend on outside sources. (Nor is anything forgotten then:
    a typo must not wipe what the sources said.)
    """
    setup = load_setup(services)
    application.bot_data.sources = setup
    if setup.error is not None:
        log.error("sources file not used: %s", setup.error)
        return setup
    queue = application.job_queue
    if queue is None:
        return setup
    queue.run_once(leader_only(forget_job), when=0, data=tuple(setup.adapters), name=FORGET_JOB)
    if setup.file is None:
        return setup
    for index, config in enumerate(setup.file.sources):
        queue.run_repeating(
            leader_only(source_job),
            interval=config.interval,
            first=FIRST_RUN + STAGGER * index,
            name=job_name(config.name),
            data=config.name,
        )
    log.info("scheduled %d outside sources from %s", len(setup.file.sources), setup.file.path)
    return setup

"""Periodic work, run by PTB's JobQueue (APScheduler underneath)."""

from __future__ import annotations

import logging

from telegram.ext import Application, ContextTypes

from bot.services import SERVICES_KEY, Services

log = logging.getLogger(__name__)

REFRESH_JOB = "refresh"


async def refresh_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Recompute the summaries of pairs with new data; a failure is kept for /status to show."""
    services: Services = context.bot_data[SERVICES_KEY]
    report = await services.summaries.refresh_safely(services.clock.now())
    if report is None:
        return
    if report.pairs:
        log.info("refreshed %d pairs, %d transitions", report.pairs, len(report.transitions))
    if report.queued and services.delivery is not None:
        services.delivery.wake.set()  # alerts go out now, not at the next poll


def schedule_jobs(application: Application, services: Services) -> None:
    queue = application.job_queue
    if queue is None:  # PTB installed without its job-queue extra
        log.warning("no JobQueue: summaries will be computed on demand only")
        return
    queue.run_repeating(
        refresh_job, interval=services.settings.refresh_seconds, first=0, name=REFRESH_JOB
    )

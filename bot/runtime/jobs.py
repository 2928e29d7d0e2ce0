"""Periodic work, run by PTB's JobQueue (APScheduler underneath)."""

from __future__ import annotations

import logging

from telegram.ext import Application

from bot.engine.channel_posts import queue_digest
from bot.render.timefmt import zone
from bot.runtime.context import BotContext, leader_only
from bot.runtime.source_jobs import schedule_sources
from bot.runtime.state import BotState
from storage.crowd import forget_reporters

log = logging.getLogger(__name__)

REFRESH_JOB = "refresh"
DIGEST_JOB = "digest"
FOLLOW_JOB = "follow"
FORGET_JOB = "forget reporters"
# How often reporter hashes that left the rolling hour are erased: they outlive it by at most this.
FORGET_SECONDS = 60


async def refresh_job(context: BotContext) -> None:
    """Recompute the summaries of pairs with new data; a failure is kept for /status to show."""
    services = context.state
    report = await services.summaries.refresh_safely(services.clock.now())
    if report is None:
        return
    if report.pairs:
        log.info("refreshed %d pairs, %d transitions", report.pairs, len(report.transitions))
    if report.queued and services.delivery is not None:
        services.delivery.wake.set()  # alerts go out now, not at the next poll


async def follow_job(context: BotContext) -> None:
    """On a replica that does not lead: take in the summaries the leader's refresh stored."""
    services = context.state
    # Every replica: a /language choice made through another replica is read again from here on.
    context.bot_data.chosen_languages.clear()
    if services.leadership is not None and services.leadership.is_leader:
        return  # the leader's own refresh keeps its memory current
    changed = await services.summaries.follow()
    if changed:
        log.debug("took in %d summaries refreshed by the leader", changed)


async def digest_job(context: BotContext) -> None:
    """The channel's daily digest; the work is in queue_digest, which tests call with a clock."""
    services = context.state
    channel_id: int = context.job.data  # type: ignore[union-attr,assignment]
    queued = await queue_digest(services, services.clock.now(), channel_id=channel_id)
    if queued and services.delivery is not None:
        services.delivery.wake.set()


async def forget_reporters_job(context: BotContext) -> None:
    """Erase reporter hashes the hourly limit no longer needs, even in an hour without reports."""
    services = context.state
    erased = await forget_reporters(services.db, services.clock.now())
    if erased:
        log.debug("erased the reporter hashes of %d reports older than an hour", erased)


def refresh_soon(application: Application) -> None:
    """One refresh as soon as the JobQueue runs: at start it is not running yet, so the job must
    not count as missed however long the rest of the start takes (misfire_grace_time None)."""
    if application.job_queue is not None:
        application.job_queue.run_once(
            leader_only(refresh_job),
            when=0,
            name=f"{REFRESH_JOB} on taking the lead",
            job_kwargs={"misfire_grace_time": None},
        )


def schedule_jobs(application: Application, services: BotState) -> None:
    schedule_sources(application, services)  # one job per outside source, if a file lists any
    queue = application.job_queue
    if queue is None:  # PTB installed without its job-queue extra
        log.warning("no JobQueue: summaries will be computed on demand only")
        return
    # Not first=0: the scheduler starts after post_init, and an interval trigger whose start
    # has passed by then skips to the next interval. A new leader asks for one at once instead
    # (`refresh_soon`, from `bot.app.application`), at start and at every takeover.
    queue.run_repeating(
        leader_only(refresh_job),
        interval=services.settings.refresh_seconds,
        first=services.settings.refresh_seconds,
        name=REFRESH_JOB,
    )
    queue.run_repeating(
        follow_job, interval=services.settings.follow_seconds, first=1, name=FOLLOW_JOB
    )
    queue.run_repeating(
        leader_only(forget_reporters_job), interval=FORGET_SECONDS, first=1, name=FORGET_JOB
    )
    channel_id = application.bot_data.channel_id
    if channel_id is not None:
        settings = services.settings
        at = settings.digest_time.replace(tzinfo=zone(settings.digest_timezone))
        queue.run_daily(leader_only(digest_job), time=at, data=channel_id, name=DIGEST_JOB)

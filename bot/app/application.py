"""The application factory: one PTB Application, the same for Telegram, tests and the console."""

from __future__ import annotations

import logging
from datetime import UTC

from telegram import BotCommand, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, Defaults
from telegram.request import BaseRequest

from bot.config.settings import Settings
from bot.core.catalog import Catalog
from bot.core.clock import Clock
from bot.delivery.outbox import Delivery
from bot.engine.alerts import queue_alerts
from bot.render import i18n
from bot.render.i18n import _
from bot.render.texts import COMMANDS
from bot.runtime.channel_setup import connect_channel
from bot.runtime.context import CONTEXT_TYPES
from bot.runtime.jobs import refresh_soon, schedule_jobs
from bot.runtime.leadership import Leadership
from bot.runtime.ordering import ChatOrderedProcessor
from bot.runtime.state import BotState
from handlers import register
from storage.leases import lock_for
from storage.outbox import release_claims

log = logging.getLogger(__name__)

# A syntactically valid token for offline use (console, tests): never sent anywhere real.
OFFLINE_TOKEN = "1234567:offline-console-token"
# Connections to the Bot API. PTB opens up to 256, and httpcore looks at every pooled connection
# on each request: in a crowd that cost more CPU than answering (bench/crowd.py, docs/
# performance.md). Telegram takes about 30 messages a second from a bot, which a few connections
# carry; 16 leave room, and an answer waiting for one waits up to POOL_WAIT_SECONDS, not PTB's 1 s.
BOT_API_CONNECTIONS = 16
POOL_WAIT_SECONDS = 30.0


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    clock: Clock | None = None,
    catalog: Catalog | None = None,
) -> Application:
    """The bot, wired; services open in post_init and close in post_shutdown.

    `request` replaces the network (the in-process Bot API); without it PTB's httpx client talks
    to `settings.base_url`.
    """
    builder = (
        ApplicationBuilder()
        .token(settings.token_value() or OFFLINE_TOKEN)
        .base_url(settings.base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=UTC,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .context_types(CONTEXT_TYPES)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .post_shutdown(_post_shutdown)
        # A crowd asking at once is answered at once; one chat's updates still go in order.
        .concurrent_updates(ChatOrderedProcessor(settings.concurrent_updates))
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(get_updates_request or request)
    else:
        builder = builder.connection_pool_size(BOT_API_CONNECTIONS).pool_timeout(POOL_WAIT_SECONDS)
    application = builder.build()
    application.bot_data.settings = settings
    if clock is not None:
        application.bot_data.clock = clock
    if catalog is not None:
        application.bot_data.catalog = catalog
    register(application)
    return application


async def open_services(application: Application) -> BotState:
    """Open storage (filling it from the embedded dataset if empty) and set the command menu."""
    if application.bot_data.state is not None:
        return application.bot_data.state
    data = application.bot_data
    if data.settings is None:
        raise RuntimeError("build_application sets the settings before the state opens")
    services = await BotState.open(data.settings, data.catalog, data.clock)
    services.delivery = Delivery(application.bot, services.db, services.clock)
    services.summaries.listeners.append(queue_alerts)
    services.leadership = Leadership(
        lock_for(services.db), interval=services.settings.leader_check_seconds
    )
    await services.leadership.campaign()  # SQLite: at once; PostgreSQL: if nobody leads yet
    await connect_channel(application, services)  # channel posts, when a channel is configured
    data.state = services
    await set_command_menu(application)
    schedule_jobs(application, services)
    return services


async def close_services(application: Application) -> None:
    services = application.bot_data.take_state()
    if services is not None:
        await services.close()


async def set_command_menu(application: Application) -> bool:
    """Best effort: some self-hosted Bot API servers lack setMyCommands; the bot runs on.

    The English menu is the default; Telegram shows people whose app is set to another supported
    language (language_code) that language's menu instead.
    """
    try:
        await application.bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS])
        for language in i18n.LANGUAGES:
            if language == i18n.DEFAULT:
                continue
            with i18n.use_language(language):
                menu = [BotCommand(name, _(text)) for name, text in COMMANDS]
            await application.bot.set_my_commands(menu, language_code=language)
    except TelegramError as error:
        log.warning("could not set the command menu (%s); continuing without it", error)
        return False
    return True


async def _post_init(application: Application) -> None:
    """A running bot (not a test or the console) drains the outbox, if it leads."""
    services = await open_services(application)
    leadership, delivery = services.leadership, services.delivery
    if leadership is None or delivery is None:
        return

    async def take_over() -> None:
        released = await release_claims(services.db, keep=delivery.holder)
        if released:
            log.info("took over %d outbox rows claimed by the previous leader", released)
        delivery.start()
        delivery.wake.set()
        # Now, not at the next tick: cards, incidents and alerts that waited for a leader.
        refresh_soon(application)

    leadership.elected.append(take_over)
    leadership.deposed.append(delivery.stop)
    if leadership.is_leader:
        await take_over()
    leadership.start()


async def _post_stop(application: Application) -> None:
    services = application.bot_data.state
    if services is None:
        return
    if services.leadership is not None:
        await services.leadership.stop()  # a graceful stop hands the work over at once
    if services.delivery is not None:
        await services.delivery.stop()


async def _post_shutdown(application: Application) -> None:
    await close_services(application)

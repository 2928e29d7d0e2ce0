"""Webhook mode: Telegram posts each update to us over HTTPS instead of us long-polling for it.

A starlette app served by uvicorn shares one asyncio loop with the PTB Application (the approach
of PTB's customwebhookbot example). Each accepted update is processed inside its request, so an
in-flight request is an in-flight update: a graceful shutdown that lets requests finish lets
updates finish, and only then stops the Application. Requests go through the Application's
update processor, as polled updates do, so one chat's updates keep their order here too. Several
replicas can serve one bot behind a load balancer; each only needs the same URL and secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.config.settings import ENV_PREFIX, Settings

log = logging.getLogger(__name__)

# The update kinds the handlers answer; polling asks for the same ones.
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "inline_query")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES = 1_000_000  # an update is a few KB; anything near this is not from Telegram
GRACE_SECONDS = 25  # in-flight updates may finish; under Kubernetes' default 30 s before SIGKILL
HEALTH_TIMEOUT = 5.0  # a database that cannot answer SELECT 1 in this long is not healthy

NO_SECRET = f"""outagebot run --webhook needs a secret that Telegram sends back with every update,
so that nobody else can post updates to the bot.

  1. python -c "import secrets; print(secrets.token_urlsafe(32))"
  2. export {ENV_PREFIX}WEBHOOK_SECRET='<what that printed>'   (or put it in a .env file)
  3. outagebot run --webhook --url https://bot.example.org/telegram

Every replica of the bot needs the same secret.
"""

NO_URL = f"""outagebot run --webhook needs the public HTTPS URL Telegram should post updates to:

  outagebot run --webhook --url https://bot.example.org/telegram
  (or export {ENV_PREFIX}WEBHOOK_URL=https://bot.example.org/telegram)

Its path (/telegram) is where this server accepts updates; a reverse proxy in front of it ends TLS.
"""


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: str
    listen: str = "127.0.0.1"
    port: int = 8443
    max_connections: int = 40
    set_webhook: bool = True
    max_body_bytes: int = MAX_BODY_BYTES
    grace_seconds: int = GRACE_SECONDS

    @classmethod
    def from_settings(cls, settings: Settings, *, set_webhook: bool = True) -> WebhookConfig:
        """The config for a complete webhook setup; callers check url and secret first."""
        url, secret = settings.webhook_url, settings.webhook_secret_value()
        if not url or not secret:
            raise ValueError("webhook mode needs both a URL and a secret")
        return cls(
            url=url,
            secret=secret,
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            max_connections=settings.webhook_max_connections,
            set_webhook=set_webhook,
        )

    @property
    def path(self) -> str:
        """Where updates arrive: the URL's path, since a proxy forwards it unchanged."""
        return urlsplit(self.url).path or "/"

    def __repr__(self) -> str:  # the dataclass default would print the secret
        return f"WebhookConfig(url={self.url!r}, listen={self.listen!r}, port={self.port})"


class _Refused(Exception):
    """A request answered with an HTTP error before any update was processed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WebhookApp:
    """The HTTP side: the update route and /healthz, refusing what Telegram would never send."""

    def __init__(self, application: Application, config: WebhookConfig) -> None:
        self.application = application
        self.config = config
        self._secret = config.secret.encode()
        self.draining = False  # set when shutdown begins: new updates go to another replica
        self.asgi = Starlette(
            routes=[
                Route(config.path, self.receive_update, methods=["POST"]),
                Route("/healthz", self.health, methods=["GET"]),
            ]
        )

    async def receive_update(self, request: Request) -> Response:
        try:
            self._check_secret(request)
            if self.draining:
                # Telegram retries a failed delivery; another replica, or our successor, gets it.
                raise _Refused(503, "shutting down")
            data = _parse_update(await _read_body(request, self.config.max_body_bytes))
            update = _to_update(data, self.application.bot)
        except _Refused as refusal:
            level = logging.INFO if refusal.status == 503 else logging.WARNING
            log.log(level, "webhook request refused with %d: %s", refusal.status, refusal.reason)
            return PlainTextResponse(refusal.reason, status_code=refusal.status)
        try:
            # Through the update processor, as polled updates go: one chat's updates in order,
            # however many requests Telegram has open at once.
            await self.application.update_processor.process_update(
                update, self.application.process_update(update)
            )
        except Exception:
            # Handler errors already went to the error handler; whatever still escapes would be
            # delivered again and again if we answered 5xx, so it is logged and acknowledged.
            log.exception("update %d could not be processed", update.update_id)
        # An empty body: a JSON body would be taken by Telegram as a Bot API call to make.
        return Response(status_code=200)

    async def health(self, request: Request) -> JSONResponse:
        """For a load balancer: 200 only while this replica can answer updates."""
        services = self.application.bot_data.state
        leadership = services.leadership if services is not None else None
        body: dict[str, Any] = {
            "status": "ok",
            "database": "ok",
            "leader": leadership.is_leader if leadership is not None else None,
        }
        if self.draining:
            body.update(status="stopping")
            return JSONResponse(body, status_code=503)
        if services is None:
            body.update(status="starting", database="not open yet")
            return JSONResponse(body, status_code=503)
        try:
            await asyncio.wait_for(services.db.scalar("SELECT 1"), timeout=HEALTH_TIMEOUT)
        except Exception as error:
            log.warning("health check: the database did not answer", exc_info=True)
            reason = "timed out" if isinstance(error, TimeoutError) else type(error).__name__
            body.update(status="error", database=f"unavailable: {reason}")
            return JSONResponse(body, status_code=503)
        return JSONResponse(body)

    def _check_secret(self, request: Request) -> None:
        presented = request.headers.get(SECRET_HEADER)
        if presented is None:
            raise _Refused(403, "missing secret token")
        # Headers are latin-1 text; comparing bytes keeps compare_digest total for any input.
        if not hmac.compare_digest(presented.encode("utf-8"), self._secret):
            raise _Refused(403, "wrong secret token")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _Refused(413, f"body over {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():  # chunked bodies declare no length: count as they come
        body += chunk
        if len(body) > limit:
            raise _Refused(413, f"body over {limit} bytes")
    return bytes(body)


def _parse_update(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise _Refused(400, "body is not JSON") from None
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise _Refused(400, "body is not a Telegram update")
    return data


def _to_update(data: dict[str, Any], bot: Bot) -> Update:
    try:
        return Update.de_json(data, bot)
    except Exception:  # a well-formed JSON object can still be no Update: de_json has no schema
        raise _Refused(400, "body is not a Telegram update") from None


class _Server(uvicorn.Server):
    """uvicorn that leaves signals to us and says when it listens.

    Its own capture_signals re-raises SIGTERM once serve() returns, which with the default handler
    kills the process before the Application is stopped; the runner handles signals instead.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            self.listening.set()


class WebhookRunner:
    """Runs the Application and the webhook server on one loop, in PTB's own lifecycle order.

    PTB calls post_init, post_stop and post_shutdown only from run_polling/run_webhook, so this
    calls them itself in the order of Application.__run: initialize, post_init, start … stop,
    post_stop, shutdown, post_shutdown.
    """

    def __init__(
        self, application: Application, config: WebhookConfig, *, handle_signals: bool = True
    ) -> None:
        self.application = application
        self.config = config
        self.handle_signals = handle_signals
        self.app = WebhookApp(application, config)
        self.server = _Server(
            uvicorn.Config(
                self.app.asgi,
                host=config.listen,
                port=config.port,
                lifespan="off",  # the runner owns the Application's lifecycle
                log_config=None,  # keep our handlers, which scrub the token and the secret
                access_log=False,  # a line per update is noise; refusals are logged below
                timeout_graceful_shutdown=config.grace_seconds,
                server_header=False,
            )
        )
        self.stopping = asyncio.Event()
        self.ready = asyncio.Event()  # listening, and the webhook set (or left to others)

    @property
    def port(self) -> int:
        """The port actually bound (the configured one, or the one picked for port 0)."""
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    def stop(self) -> None:
        """Begin a graceful shutdown: refuse new updates, let in-flight ones finish, then stop."""
        if self.stopping.is_set():
            self.server.force_exit = True  # asked twice: stop waiting for requests
            return
        log.info("stopping: finishing in-flight updates (at most %d s)", self.config.grace_seconds)
        self.stopping.set()
        self.app.draining = True
        self.server.should_exit = True

    async def run(self) -> None:
        application = self.application
        with self._signals():
            try:
                await application.initialize()
                if application.post_init:
                    await application.post_init(application)
                await application.start()
                try:
                    if not self.stopping.is_set():
                        await self._serve()
                finally:
                    if application.running:
                        await application.stop()  # waits for its own tasks; jobs stop
                        if application.post_stop:  # only after stop, as in PTB
                            await application.post_stop(application)
            finally:
                await application.shutdown()
                if application.post_shutdown:
                    await application.post_shutdown(application)
        log.info("stopped")

    async def _serve(self) -> None:
        serving = asyncio.create_task(self._serve_http(), name="webhook-server")
        listening = asyncio.create_task(self.server.listening.wait())
        await asyncio.wait({serving, listening}, return_when=asyncio.FIRST_COMPLETED)
        listening.cancel()
        try:
            if self.server.listening.is_set():
                where = f"{self.config.listen}:{self.port}{self.config.path}"
                log.info("serving the webhook on %s", where)
                # PTB sets it before listening; after, Telegram's first delivery already finds us.
                if self.config.set_webhook and not self.stopping.is_set():
                    await announce_webhook(self.application.bot, self.config)
                self.ready.set()
        except BaseException:
            self.stop()  # never leave the server taking updates for an Application being stopped
            await asyncio.wait({serving})
            raise
        await serving

    async def _serve_http(self) -> None:
        try:
            await self.server.serve()
        except SystemExit:
            # uvicorn exits on a bind error after logging it; a SystemExit escaping a task would
            # end the loop before the Application is stopped.
            where = f"{self.config.listen}:{self.config.port}"
            raise WebhookError(f"could not listen on {where}") from None

    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        if not self.handle_signals:
            yield
            return
        loop = asyncio.get_running_loop()
        handled = (signal.SIGINT, signal.SIGTERM)
        for number in handled:
            loop.add_signal_handler(number, self.stop)
        try:
            yield
        finally:
            for number in handled:
                loop.remove_signal_handler(number)


class WebhookError(Exception):
    """The webhook server could not start; the message says where it tried."""


async def announce_webhook(bot: Bot, config: WebhookConfig) -> bool:
    """Point Telegram at our URL; best effort, since another replica may already have done so."""
    try:
        await bot.set_webhook(
            url=config.url,
            secret_token=config.secret,
            allowed_updates=ALLOWED_UPDATES,
            max_connections=config.max_connections,
        )
    except TelegramError as error:
        log.warning("could not set the webhook (%s); serving anyway", error)
        return False
    log.info("webhook set to %s", config.url)
    return True


def run_webhook(application: Application, config: WebhookConfig) -> int:
    """`outagebot run --webhook`: serve until SIGTERM or SIGINT, then stop gracefully; exit 0."""
    try:
        asyncio.run(WebhookRunner(application, config).run())
    except WebhookError as error:
        log.error("%s", error)
        return 1
    return 0

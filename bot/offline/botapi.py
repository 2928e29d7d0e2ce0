"""An in-process Telegram Bot API, so a real PTB ``Application`` runs with no network.

:class:`InProcessBotAPI` is a :class:`telegram.request.BaseRequest`: PTB hands it every Bot
API call and it answers from memory with the same JSON (and the same HTTP status codes and
error descriptions) the real Bot API would give, so PTB raises the same exceptions it
raises in production.  :class:`ChatDriver` plays one person talking to the bot.

Wiring::

    api = InProcessBotAPI()
    application = (
        ApplicationBuilder().token("123:ABC").request(api).get_updates_request(api).build()
    )

One instance may serve as both ``request`` and ``get_updates_request`` (PTB calls
``initialize``/``shutdown`` on both; here they are idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.constants import MessageLimit
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

from bot.render.telegram_html import TelegramHTMLError, html_to_text, parse_telegram_html, utf16_len

__all__ = ["ChatDriver", "InProcessBotAPI", "SentMessage"]

_LOGGER = logging.getLogger(__name__)

MESSAGE_LIMIT: int = MessageLimit.MAX_TEXT_LENGTH
CAPTION_LIMIT: int = MessageLimit.CAPTION_LENGTH

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Update kinds Telegram leaves out unless asked for by allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: group chat was upgraded to a supergroup chat",  # only with migrate
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class SentMessage:
    """What a person in that chat would see."""

    chat_id: int
    message_id: int
    method: str  # "sendMessage", "editMessageText", "sendPhoto", ...
    text: str  # the raw text/caption as sent (HTML if parse_mode=HTML)
    parse_mode: str | None
    plain: str  # as a person reads it: html_to_text(text) when parse_mode is HTML, else text
    reply_markup: dict | None  # decoded JSON of the inline keyboard, if any
    disable_notification: bool
    photo: bytes | None  # the uploaded bytes for sendPhoto, if any
    params: dict  # every decoded parameter, for assertions
    document: bytes | None = None  # the uploaded bytes for sendDocument, if any

    @property
    def buttons(self) -> list[list[dict]]:
        """The inline keyboard rows (empty when there is none)."""
        return list((self.reply_markup or {}).get("inline_keyboard", []))

    @property
    def callback_data(self) -> list[str]:
        """Every button's callback_data, row by row."""
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]


class _ApiError(Exception):
    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass
class _Stored:
    """A message as Telegram keeps it."""

    json: dict  # current Bot API Message JSON
    from_bot: bool
    raw: str = ""  # raw text or caption as last sent/edited
    parse_mode: str | None = None
    has_text: bool = True  # False for media (they have captions)


@dataclass
class _Formatted:
    text: str
    entities: list[dict] = field(default_factory=list)


def _bad(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


class InProcessBotAPI(BaseRequest):
    """Answers Bot API calls from memory, the way api.telegram.org answers them.

    Args:
        bot_id, username, first_name: the bot's identity as returned by ``getMe``.
        missing_methods: methods to answer with 404 "Not Found", as for an unknown method.
        clock: seconds since the epoch, for message ``date``/``edit_date``.
        strict_chats: when true, sending to a chat the bot never saw (not registered by a
            :class:`ChatDriver`, :meth:`register_chat` or :meth:`push_update`) fails like
            Telegram does: 403 "bot can't initiate conversation with a user" for users,
            400 "chat not found" for groups.
        read_timeout: value of the :attr:`read_timeout` property (PTB adds it to long-poll
            timeouts); no network, so it bounds nothing.
    """

    def __init__(
        self,
        *,
        bot_id: int = 1234567,
        username: str = "outage_test_bot",
        first_name: str = "outagebot",
        missing_methods: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
        strict_chats: bool = False,
        read_timeout: float | None = 5.0,
    ) -> None:
        self.bot_id = bot_id
        self.username = username
        self.first_name = first_name
        self.missing_methods = {m.lower() for m in missing_methods}
        self.clock = clock
        self.strict_chats = strict_chats
        self._read_timeout = read_timeout

        self.calls: list[tuple[str, dict]] = []
        self.sent: list[SentMessage] = []
        # The default menu; a menu for a scope or a language_code is read with getMyCommands.
        self.commands: list[dict] | None = None

        self._closed = False

        self._chats: dict[int, dict] = {}
        self._users: dict[int, dict] = {}
        self._messages: dict[tuple[int, int], _Stored] = {}
        self._last_message_id: dict[int, int] = {}
        self._blocked: set[int] = set()
        self._admins: dict[int, list[int]] = {}
        self._creators: dict[int, int] = {}
        self._answered_queries: dict[str, bool] = {}
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)

        self._updates: list[dict] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] = []
        self._poll_waiters: list[asyncio.Future] = []
        self._webhook_url = ""
        self._command_sets: dict[str, list[dict]] = {}

        self._handlers: dict[str, Callable[[dict], Awaitable[Any]]] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "sendchataction": self._send_chat_action,
            "answercallbackquery": self._answer_callback_query,
            "answerinlinequery": self._true,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "close": self._true,
            "logout": self._true,
            "setmydescription": self._true,
            "setmyshortdescription": self._true,
            "setmyname": self._true,
            "setchatmenubutton": self._true,
        }

    # ------------------------------------------------------------------ BaseRequest contract

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        self._closed = False

    async def shutdown(self) -> None:
        if self._closed:
            return
        self._closed = True
        for waiter in self._poll_waiters:
            if not waiter.done():
                waiter.set_exception(RuntimeError("the in-process Bot API was shut down"))

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._closed:
            # PTB turns this into NetworkError, as for a closed HTTPXRequest.
            raise RuntimeError("This InProcessBotAPI is shut down; call initialize() first")

        api_method = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            for name, (_filename, content, _mime) in request_data.multipart_data.items():
                data = content if isinstance(content, bytes) else content.read()
                params.setdefault(name, data)
        self.calls.append((api_method, params))

        key = api_method.lower()
        injected = self.injected_answer(key)
        if injected is not None:
            return injected
        handler = self._handlers.get(key)
        if handler is None or key in self.missing_methods or method != "POST":
            if handler is None:
                _LOGGER.warning("In-process Bot API: no emulation for %s; answering 404", url)
            return self._error(404, "Not Found")
        try:
            result = await handler(params)
        except _ApiError as exc:
            return self._error(exc.code, exc.description, exc.parameters)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # malformed parameters: Telegram answers 400 rather than failing the connection
            _LOGGER.debug("In-process Bot API: bad parameters for %s", api_method, exc_info=True)
            return self._error(400, f"Bad Request: invalid parameters: {exc!r}")
        return 200, json.dumps({"ok": True, "result": result}).encode()

    @staticmethod
    def _error(code: int, description: str, parameters: dict | None = None) -> tuple[int, bytes]:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return code, json.dumps(body).encode()

    # ------------------------------------------------------------------ test controls

    def messages_for(self, chat_id: int) -> list[SentMessage]:
        """Everything the bot sent or edited in ``chat_id``, in order."""
        return [m for m in self.sent if m.chat_id == chat_id]

    def injected_answer(self, method: str) -> tuple[int, bytes] | None:
        """The answer a test stand-in substitutes for this call (tests.faulty_botapi); none here."""
        return None

    def push_update(self, update: dict) -> None:
        """Queue an update for getUpdates; ``update_id`` is assigned when missing."""
        update = dict(update)
        if "update_id" not in update:
            update["update_id"] = self.new_update_id()
        else:
            self._next_update_id = max(self._next_update_id, int(update["update_id"]) + 1)
        self._remember_incoming(update)
        self._updates.append(update)
        for waiter in self._poll_waiters:
            if not waiter.done():
                waiter.set_result(None)

    def new_update_id(self) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        return update_id

    def register_user(self, user: dict) -> None:
        self._users[int(user["id"])] = dict(user)

    def register_chat(self, chat: dict) -> None:
        """Make a chat known (as if it had talked to the bot) with this Chat JSON."""
        self._chats[int(chat["id"])] = dict(chat)

    def set_admins(
        self, chat_id: int, user_ids: Iterable[int], *, creator: int | None = None
    ) -> None:
        """Configure getChatMember/getChatAdministrators for a group."""
        self._admins[chat_id] = list(user_ids)
        if creator is not None:
            self._creators[chat_id] = creator

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: every send to the chat is 403 until :meth:`unblock`."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def incoming_message(self, chat: dict, user: dict, **fields: Any) -> dict:
        """Allocate and store a message a person sends; returns its Bot API JSON."""
        chat_id = int(chat["id"])
        self.register_chat(chat)
        self.register_user(user)
        message = {
            "message_id": self._next_message_id(chat_id),
            "date": int(self.clock()),
            "chat": dict(chat),
            "from": dict(user),
            **fields,
        }
        self._messages[(chat_id, message["message_id"])] = _Stored(
            json=message, from_bot=False, raw=fields.get("text", ""), has_text="text" in fields
        )
        return message

    def message_json(self, chat_id: int, message_id: int) -> dict | None:
        """The current Bot API JSON of a message that still exists."""
        stored = self._messages.get((chat_id, message_id))
        return dict(stored.json) if stored else None

    def new_callback_query_id(self) -> str:
        query_id = str(next(self._query_ids))
        self._answered_queries[query_id] = False
        return query_id

    @property
    def pending_updates(self) -> list[dict]:
        """Updates pushed but not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    # ------------------------------------------------------------------ helpers

    def _bot_user(self) -> dict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def _next_message_id(self, chat_id: int) -> int:
        message_id = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = message_id
        return message_id

    def _chat(self, chat_id: int) -> dict:
        known = self._chats.get(chat_id)
        if known is not None:
            return dict(known)
        if chat_id > 0:
            user = self._users.get(chat_id, {})
            return {"id": chat_id, "type": "private", "first_name": user.get("first_name", "User")}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}

    def _chat_id(self, params: dict) -> int:
        value = params.get("chat_id")
        if value is None or value == "":
            raise _bad("chat_id is empty")
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.lstrip("-").isdigit():
            return int(text)
        if text.startswith("@"):
            for chat in self._chats.values():
                if chat.get("username", "").lower() == text[1:].lower():
                    return int(chat["id"])
        raise _bad("chat not found")

    def _writable_chat(self, params: dict) -> int:
        chat_id = self._chat_id(params)
        if chat_id in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        if self.strict_chats and chat_id not in self._chats:
            if chat_id > 0:
                raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            raise _bad("chat not found")
        return chat_id

    def _caption(self, params: dict) -> _Formatted:
        """A media message's caption, formatted as Telegram would (its own length limit)."""
        return self._format(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            caption=True,
        )

    def _format(self, text: Any, parse_mode: Any, entities: Any, *, caption: bool) -> _Formatted:
        text = "" if text is None else str(text)
        mode = str(parse_mode).lower() if parse_mode else None
        if mode == "html":
            try:
                parsed = parse_telegram_html(text)
            except TelegramHTMLError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
            result = _Formatted(parsed.text, parsed.entities)
        elif mode in (None, "markdown", "markdownv2"):
            # Markdown is passed through unparsed: not emulated.
            result = _Formatted(text, [dict(e) for e in entities or []])
        else:
            raise _bad("unsupported parse_mode")
        result = _trim(result)
        if not caption and not result.text:
            raise _bad("message text is empty")
        if len(result.text) > (CAPTION_LIMIT if caption else MESSAGE_LIMIT):
            raise _bad("message caption is too long" if caption else "message is too long")
        return result

    @staticmethod
    def _check_markup(markup: Any) -> dict | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if "callback_data" in button:
                    data = str(button["callback_data"]).encode()
                    if not 1 <= len(data) <= 64:
                        raise _bad("BUTTON_DATA_INVALID")
                elif set(button) <= {"text"}:
                    raise _bad(
                        "can't parse inline keyboard button: "
                        "Text buttons are unallowed in the inline keyboard"
                    )
                if not button.get("text"):
                    raise _bad(
                        'can\'t parse inline keyboard button: Field "text" must be non-empty'
                    )
        return markup

    def _reply_to(self, chat_id: int, params: dict) -> dict | None:
        reply = params.get("reply_parameters")
        if reply is None and "reply_to_message_id" in params:
            reply = {
                "message_id": params["reply_to_message_id"],
                "allow_sending_without_reply": params.get("allow_sending_without_reply", False),
            }
        if not reply:
            return None
        target_chat = reply.get("chat_id", chat_id)
        stored = self._messages.get((int(target_chat), int(reply["message_id"])))
        if stored is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise _bad("message to be replied not found")
        replied = dict(stored.json)
        replied.pop("reply_to_message", None)
        return replied

    def _store_sent(
        self,
        method: str,
        chat_id: int,
        params: dict,
        formatted: _Formatted,
        *,
        media: dict | None = None,
        photo: bytes | None = None,
        document: bytes | None = None,
    ) -> dict:
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat_id, params)
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": self._bot_user(),
            "date": int(self.clock()),
            "chat": self._chat(chat_id),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if media is None:
            message["text"] = formatted.text
            if formatted.entities:
                message["entities"] = formatted.entities
        else:
            message.update(media)
            if formatted.text:
                message["caption"] = formatted.text
                if formatted.entities:
                    message["caption_entities"] = formatted.entities
        if markup and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        raw_key = "text" if media is None else "caption"
        self._messages[(chat_id, message["message_id"])] = _Stored(
            json=message,
            from_bot=True,
            raw=str(params.get(raw_key, "")),
            parse_mode=params.get("parse_mode"),
            has_text=media is None,
        )
        self._record(
            method, chat_id, message["message_id"], params, raw_key, markup, photo, document
        )
        return message

    def _record(
        self,
        method: str,
        chat_id: int,
        message_id: int,
        params: dict,
        raw_key: str,
        markup: dict | None,
        photo: bytes | None = None,
        document: bytes | None = None,
        raw: str | None = None,
        parse_mode: str | None = None,
    ) -> None:
        if raw is None:
            raw = str(params.get(raw_key) or "")
            parse_mode = params.get("parse_mode")
        is_html = bool(parse_mode) and str(parse_mode).lower() == "html"
        self.sent.append(
            SentMessage(
                chat_id=chat_id,
                message_id=message_id,
                method=method,
                text=raw,
                parse_mode=parse_mode,
                plain=html_to_text(raw) if is_html else raw,
                reply_markup=markup,
                disable_notification=bool(params.get("disable_notification", False)),
                photo=photo,
                params=dict(params),
                document=document,
            )
        )

    def _stored_for_edit(self, params: dict) -> tuple[int, _Stored] | None:
        if "inline_message_id" in params:
            return None
        chat_id = self._writable_chat(params)
        if "message_id" not in params:
            raise _bad("message identifier is not specified")
        stored = self._messages.get((chat_id, int(params["message_id"])))
        if stored is None:
            raise _bad("message to edit not found")
        if not stored.from_bot:
            raise _bad("message can't be edited")
        return chat_id, stored

    def _file(self, name: str) -> dict:
        n = next(self._file_ids)
        return {"file_id": f"{name}-{n}", "file_unique_id": f"u{name}{n}"}

    def _remember_incoming(self, update: dict) -> None:
        for key in ("message", "edited_message", "channel_post", "edited_channel_post"):
            message = update.get(key)
            if isinstance(message, dict) and "chat" in message and "message_id" in message:
                chat_id = int(message["chat"]["id"])
                self._chats.setdefault(chat_id, dict(message["chat"]))
                if "from" in message:
                    self._users.setdefault(int(message["from"]["id"]), dict(message["from"]))
                message_id = int(message["message_id"])
                self._last_message_id[chat_id] = max(
                    self._last_message_id.get(chat_id, 0), message_id
                )
                self._messages[(chat_id, message_id)] = _Stored(
                    json=dict(message),
                    from_bot=bool(message.get("from", {}).get("is_bot")),
                    raw=message.get("text", ""),
                    has_text="text" in message,
                )
        query = update.get("callback_query")
        if isinstance(query, dict) and "id" in query:
            self._answered_queries.setdefault(str(query["id"]), False)

    # ------------------------------------------------------------------ methods

    async def _true(self, params: dict) -> bool:
        return True

    async def _get_me(self, params: dict) -> dict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _deliverable(self, limit: int) -> list[dict]:
        allowed = set(self._allowed_updates)
        ready = []
        for update in self._updates:
            kinds = set(update) - {"update_id"}
            if (allowed and not kinds & allowed) or (not allowed and kinds <= _OPT_IN_UPDATES):
                continue
            ready.append(update)
            if len(ready) >= limit:
                break
        return ready

    async def _get_updates(self, params: dict) -> list[dict]:
        if self._webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset", 0))
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = max(float(params.get("timeout", 0)), 0.0)
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"])
        # Like Telegram, a new getUpdates terminates one still waiting.
        for waiter in self._poll_waiters:
            if not waiter.done():
                waiter.set_exception(_ApiError(409, DEFAULT_DESCRIPTIONS[409]))
        self._confirm(offset)
        ready = self._deliverable(limit)
        if ready or timeout == 0:
            return ready
        waiter = asyncio.get_running_loop().create_future()
        self._poll_waiters.append(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await waiter
        finally:
            self._poll_waiters.remove(waiter)
        return self._deliverable(limit)

    async def _delete_webhook(self, params: dict) -> bool:
        self._webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _set_webhook(self, params: dict) -> bool:
        self._webhook_url = str(params.get("url", ""))
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"])
        return True

    async def _get_webhook_info(self, params: dict) -> dict:
        info: dict[str, Any] = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._allowed_updates:
            info["allowed_updates"] = list(self._allowed_updates)
        return info

    @staticmethod
    def _commands_key(params: dict) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code", "")], sort_keys=True)

    async def _set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH" if isinstance(commands, list) else "commands empty")
        for command in commands:
            name = str(command.get("command", ""))
            if not (
                1 <= len(name) <= 32
                and all(c.isascii() and (c.islower() or c.isdigit() or c == "_") for c in name)
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self._command_sets[self._commands_key(params)] = [dict(c) for c in commands]
        if not params.get("scope") and not params.get("language_code"):
            self.commands = [dict(c) for c in commands]
        return True

    async def _get_my_commands(self, params: dict) -> list[dict]:
        return list(self._command_sets.get(self._commands_key(params), []))

    async def _delete_my_commands(self, params: dict) -> bool:
        self._command_sets.pop(self._commands_key(params), None)
        if not params.get("scope") and not params.get("language_code"):
            self.commands = None
        return True

    async def _send_message(self, params: dict) -> dict:
        chat_id = self._writable_chat(params)
        formatted = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities"), caption=False
        )
        return self._store_sent("sendMessage", chat_id, params, formatted)

    async def _send_photo(self, params: dict) -> dict:
        chat_id = self._writable_chat(params)
        photo = params.get("photo")
        if photo is None or photo == "":
            raise _bad("there is no photo in the request")
        formatted = self._caption(params)
        sizes = [
            {**self._file("photo"), "width": 90, "height": 90},
            {**self._file("photo"), "width": 800, "height": 800},
        ]
        if isinstance(photo, bytes):
            for size in sizes:
                size["file_size"] = len(photo)
        return self._store_sent(
            "sendPhoto",
            chat_id,
            params,
            formatted,
            media={"photo": sizes},
            photo=photo if isinstance(photo, bytes) else None,
        )

    async def _send_document(self, params: dict) -> dict:
        chat_id = self._writable_chat(params)
        document = params.get("document")
        if document is None or document == "":
            raise _bad("there is no document in the request")
        formatted = self._caption(params)
        info: dict[str, Any] = self._file("document")
        if isinstance(document, bytes):
            info["file_size"] = len(document)
        return self._store_sent(
            "sendDocument",
            chat_id,
            params,
            formatted,
            media={"document": info},
            document=document if isinstance(document, bytes) else None,
        )

    def _apply_edit(
        self,
        method: str,
        chat_id: int,
        stored: _Stored,
        params: dict,
        *,
        formatted: _Formatted | None,
        raw: str,
        parse_mode: str | None,
    ) -> dict:
        markup = self._check_markup(params.get("reply_markup"))
        new = {k: v for k, v in stored.json.items() if k not in ("reply_markup", "edit_date")}
        text_key, entities_key = (
            ("text", "entities")
            if stored.has_text
            else (
                "caption",
                "caption_entities",
            )
        )
        if formatted is not None:
            new.pop(text_key, None)
            new.pop(entities_key, None)
            if formatted.text:
                new[text_key] = formatted.text
            if formatted.entities:
                new[entities_key] = formatted.entities
        if markup and markup.get("inline_keyboard"):
            new["reply_markup"] = markup
        old = {k: v for k, v in stored.json.items() if k != "edit_date"}
        if new == old:
            raise _ApiError(400, NOT_MODIFIED)
        new["edit_date"] = int(self.clock())
        stored.json = new
        stored.raw, stored.parse_mode = raw, parse_mode
        self._record(
            method,
            chat_id,
            new["message_id"],
            params,
            text_key,
            markup,
            raw=raw,
            parse_mode=parse_mode,
        )
        return new

    async def _edit_message_text(self, params: dict) -> dict | bool:
        formatted = self._format(
            params.get("text"), params.get("parse_mode"), params.get("entities"), caption=False
        )
        found = self._stored_for_edit(params)
        if found is None:
            return True  # inline message
        chat_id, stored = found
        if not stored.has_text:
            raise _bad("there is no text in the message to edit")
        return self._apply_edit(
            "editMessageText",
            chat_id,
            stored,
            params,
            formatted=formatted,
            raw=str(params.get("text", "")),
            parse_mode=params.get("parse_mode"),
        )

    async def _edit_message_caption(self, params: dict) -> dict | bool:
        formatted = self._caption(params)
        found = self._stored_for_edit(params)
        if found is None:
            return True
        chat_id, stored = found
        if stored.has_text:
            raise _bad("there is no caption in the message to edit")
        return self._apply_edit(
            "editMessageCaption",
            chat_id,
            stored,
            params,
            formatted=formatted,
            raw=str(params.get("caption", "")),
            parse_mode=params.get("parse_mode"),
        )

    async def _edit_message_reply_markup(self, params: dict) -> dict | bool:
        found = self._stored_for_edit(params)
        if found is None:
            return True
        chat_id, stored = found
        return self._apply_edit(
            "editMessageReplyMarkup",
            chat_id,
            stored,
            params,
            formatted=None,
            raw=stored.raw,
            parse_mode=stored.parse_mode,
        )

    async def _delete_message(self, params: dict) -> bool:
        chat_id = self._chat_id(params)
        if "message_id" not in params:
            raise _bad("message identifier is not specified")
        if self._messages.pop((chat_id, int(params["message_id"])), None) is None:
            raise _bad("message to delete not found")
        return True

    async def _send_chat_action(self, params: dict) -> bool:
        self._writable_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    async def _answer_callback_query(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if self._answered_queries.get(query_id):
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        self._answered_queries[query_id] = True
        if len(str(params.get("text", ""))) > 200:
            raise _bad("MESSAGE_TOO_LONG")
        return True

    async def _get_chat(self, params: dict) -> dict:
        chat_id = self._chat_id(params)
        if self.strict_chats and chat_id not in self._chats:
            raise _bad("chat not found")
        return {
            **self._chat(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _member(self, chat_id: int, user_id: int) -> dict:
        if user_id == self.bot_id:
            user = self._bot_user()
        else:
            user = self._users.get(user_id, {"id": user_id, "is_bot": False, "first_name": "User"})
        if self._creators.get(chat_id) == user_id:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if user_id in self._admins.get(chat_id, []):
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
            }
        return {"status": "member", "user": user}

    async def _get_chat_member(self, params: dict) -> dict:
        chat_id = self._chat_id(params)
        if "user_id" not in params:
            raise _bad("user_id is empty")
        user_id = int(params["user_id"])
        if chat_id > 0 and user_id not in (chat_id, self.bot_id):
            raise _bad("user not found")
        return self._member(chat_id, user_id)

    async def _get_chat_administrators(self, params: dict) -> list[dict]:
        chat_id = self._chat_id(params)
        if chat_id > 0:
            raise _bad("there are no administrators in the private chat")
        ids = list(self._admins.get(chat_id, []))
        creator = self._creators.get(chat_id)
        if creator is not None and creator not in ids:
            ids.insert(0, creator)
        return [self._member(chat_id, user_id) for user_id in ids]


def _trim(formatted: _Formatted) -> _Formatted:
    """Drop leading/trailing whitespace as Telegram does, keeping entities aligned."""
    text = formatted.text
    stripped = text.strip()
    if stripped == text:
        return formatted
    if not stripped:
        return _Formatted("")
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    end = lead + utf16_len(stripped)
    entities = []
    for entity in formatted.entities:
        start = max(entity["offset"], lead)
        stop = min(entity["offset"] + entity["length"], end)
        if stop > start:
            entities.append({**entity, "offset": start - lead, "length": stop - start})
    return _Formatted(stripped, entities)


def _is_command_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def _command_entity(text: str) -> dict | None:
    """The bot_command entity Telegram attaches to a message starting with /command."""
    if not text.startswith("/"):
        return None
    end = 1
    while end < len(text) and _is_command_char(text[end]):
        end += 1
    if end == 1 or end - 1 > 32:
        return None
    if end < len(text) and text[end] == "@":
        mention_end = end + 1
        while mention_end < len(text) and _is_command_char(text[mention_end]):
            mention_end += 1
        if mention_end > end + 1:
            end = mention_end
    return {"type": "bot_command", "offset": 0, "length": utf16_len(text[:end])}


class ChatDriver:
    """Feeds one person's messages to a real Application and returns what the bot sent back.

    The Application must be initialized (``await application.initialize()``); it need not
    be started, and the driver never polls: updates go straight to ``process_update``.
    Handlers registered with ``block=False`` run as tasks; the driver waits (up to
    ``settle_timeout`` seconds) for the tasks the Application created while processing
    (start the Application first, or PTB warns that it will not await such tasks).
    """

    def __init__(
        self,
        application: Application,
        api: InProcessBotAPI,
        *,
        user_id: int = 1001,
        chat_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Ayesha",
        language_code: str = "en",
        settle_timeout: float = 5.0,
    ) -> None:
        if chat_type == "private":
            if chat_id not in (None, user_id):
                raise ValueError("a private chat's id is the user's id")
            chat_id = user_id
            chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
        elif chat_type in ("group", "supergroup"):
            if chat_id is None:
                chat_id = -user_id if chat_type == "group" else -1_000_000_000_000 - user_id
            if chat_id >= 0:
                raise ValueError("group chat ids are negative")
            chat = {"id": chat_id, "type": chat_type, "title": f"{first_name}'s group"}
        else:
            raise ValueError(f"unsupported chat_type {chat_type!r}")
        self.application = application
        self.api = api
        self.user_id = user_id
        self.chat_id = chat_id
        self.settle_timeout = settle_timeout
        self.user = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": language_code,
        }
        self.chat = chat
        api.register_user(self.user)
        api.register_chat(self.chat)

    async def send(self, text: str) -> list[SentMessage]:
        """The person sends ``text``; returns what the bot sent or edited in response."""
        fields: dict[str, Any] = {"text": text}
        entity = _command_entity(text)
        if entity is not None:
            fields["entities"] = [entity]
        message = self.api.incoming_message(self.chat, self.user, **fields)
        return await self.process({"update_id": self.api.new_update_id(), "message": message})

    async def press(self, message: SentMessage, callback_data: str) -> list[SentMessage]:
        """The person presses the inline button carrying ``callback_data`` on ``message``."""
        current = self.api.message_json(message.chat_id, message.message_id)
        if current is None:
            raise ValueError(f"message {message.message_id} no longer exists")
        buttons = [
            button.get("callback_data")
            for row in current.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row
        ]
        if callback_data not in buttons:
            raise ValueError(
                f"no button with callback_data {callback_data!r} on message "
                f"{message.message_id} (buttons: {buttons})"
            )
        query = {
            "id": self.api.new_callback_query_id(),
            "from": dict(self.user),
            "message": current,
            "chat_instance": str(abs(message.chat_id)),
            "data": callback_data,
        }
        return await self.process({"update_id": self.api.new_update_id(), "callback_query": query})

    async def process(self, data: dict) -> list[SentMessage]:
        """Process any raw update dict; returns the SentMessages added meanwhile."""
        first = len(self.api.sent)
        before = asyncio.all_tasks()
        update = Update.de_json(data, self.application.bot)
        await self.application.process_update(update)
        await self._settle(before)
        return self.api.sent[first:]

    async def _settle(self, before: set[asyncio.Task]) -> None:
        """Wait for non-blocking handler / error-handler tasks the Application created."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settle_timeout
        while True:
            pending = {
                task
                for task in asyncio.all_tasks()
                if task not in before
                and not task.done()
                and getattr(task.get_coro(), "__qualname__", "").endswith("__create_task_callback")
            }
            remaining = deadline - loop.time()
            if not pending or remaining <= 0:
                return
            await asyncio.wait(pending, timeout=remaining)

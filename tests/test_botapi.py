import asyncio
import datetime as dtm
import html
import warnings

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.offline.botapi import ChatDriver, InProcessBotAPI, SentMessage
from tests.faulty_botapi import FaultyBotAPI

NOW = 1_750_000_000.0
USER = 1001


def build(api: InProcessBotAPI) -> Application:
    return ApplicationBuilder().token("123:ABC").request(api).get_updates_request(api).build()


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_html(
        "<b>" + html.escape(" ".join(context.args)) + "</b>",
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("Louder", callback_data="louder")]]
        ),
    )


async def louder(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()
    await query.edit_message_text(query.message.text.upper())


async def broken(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_html("<blink>hi</blink>")


async def later(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await asyncio.sleep(0)
    await update.message.reply_text("in the background")


@pytest.fixture
def api() -> InProcessBotAPI:
    return FaultyBotAPI(clock=lambda: NOW)


@pytest.fixture
async def application(api):
    app = build(api)
    app.add_handler(CommandHandler("echo", echo))
    app.add_handler(CommandHandler("broken", broken))
    app.add_handler(CommandHandler("later", later, block=False))
    app.add_handler(CallbackQueryHandler(louder, pattern="^louder$"))
    errors: list[Exception] = []

    async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    app.add_error_handler(on_error)
    app.bot_data["errors"] = errors
    await app.initialize()
    yield app
    await app.shutdown()


@pytest.fixture
def chat(application, api) -> ChatDriver:
    return ChatDriver(application, api, user_id=USER)


# --------------------------------------------------------------------------- the driver


async def test_echo_command_reply_reads_as_the_escaped_argument(chat):
    replies = await chat.send("/echo <b>bold?</b> & more")

    assert len(replies) == 1
    reply = replies[0]
    assert reply.method == "sendMessage"
    assert reply.chat_id == USER
    assert reply.parse_mode == "HTML"
    assert reply.text == "<b>&lt;b&gt;bold?&lt;/b&gt; &amp; more</b>"
    assert reply.plain == "<b>bold?</b> & more"
    assert reply.callback_data == ["louder"]


async def test_message_ids_are_shared_by_both_sides_of_a_chat(chat, api):
    first = await chat.send("/echo one")
    second = await chat.send("/echo two")
    assert [first[0].message_id, second[0].message_id] == [2, 4]
    assert [m.plain for m in api.messages_for(USER)] == ["one", "two"]


async def test_pressing_a_button_runs_the_callback_and_returns_the_edit(chat, api):
    [reply] = await chat.send("/echo quiet")

    [edited] = await chat.press(reply, "louder")

    assert edited.method == "editMessageText"
    assert edited.message_id == reply.message_id
    assert edited.plain == "QUIET"
    assert edited.reply_markup is None  # editing without reply_markup removes the keyboard
    assert [name for name, _ in api.calls[-2:]] == ["answerCallbackQuery", "editMessageText"]


async def test_pressing_a_button_that_is_not_on_the_message_is_a_test_error(chat):
    [reply] = await chat.send("/echo x")
    with pytest.raises(ValueError, match="no button"):
        await chat.press(reply, "softer")


async def test_driver_waits_for_non_blocking_handlers(chat, application):
    await application.start()  # PTB only tracks non-blocking handler tasks while running
    try:
        replies = await chat.send("/later")
    finally:
        await application.stop()
    assert [r.plain for r in replies] == ["in the background"]


async def test_group_reply_quotes_the_command_message(application, api):
    group = ChatDriver(application, api, user_id=7, chat_type="supergroup")
    command = f"/echo@{api.username} hello group"

    [reply] = await group.send(command)

    assert reply.chat_id == group.chat_id < 0
    assert reply.params["reply_parameters"] == {"message_id": 1}
    assert api.message_json(group.chat_id, reply.message_id)["reply_to_message"]["text"] == command


async def test_messages_returned_to_ptb_are_valid_message_objects(application, api):
    message = await application.bot.send_message(USER, "<i>hi</i> 😀", parse_mode="HTML")

    assert isinstance(message, Message)
    assert message.text == "hi 😀"
    assert message.text_html == "<i>hi</i> 😀"
    assert message.chat.type == "private"
    assert message.from_user.id == api.bot_id
    assert message.date == dtm.datetime.fromtimestamp(NOW, dtm.UTC)


async def test_get_me_describes_the_bot(application, api):
    me = await application.bot.get_me()
    assert me.is_bot
    assert me.username == api.username == application.bot.username
    assert me.can_join_groups
    assert me.supports_inline_queries


# --------------------------------------------------------------------------- validation


async def test_reply_with_an_unsupported_tag_fails_like_telegram(chat, application):
    replies = await chat.send("/broken")

    assert replies == []
    [error] = application.bot_data["errors"]
    assert isinstance(error, BadRequest)
    assert "unsupported start tag" in error.message.lower()


async def test_send_with_bad_html_raises_bad_request(application):
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag"):
        await application.bot.send_message(USER, "1 < 2", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't find end tag"):
        await application.bot.send_message(USER, "<b>open", parse_mode="HTML")


async def test_message_longer_than_4096_visible_characters_is_too_long(application, api):
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await application.bot.send_message(USER, "x" * 4097)
    # the limit counts the text a person sees, not the markup
    await application.bot.send_message(USER, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    assert len(api.sent) == 1


async def test_caption_longer_than_1024_characters_is_refused(application):
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await application.bot.send_photo(USER, b"\x89PNG", caption="c" * 1025)


async def test_empty_text_is_refused(application):
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await application.bot.send_message(USER, "  \n")
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await application.bot.send_message(USER, "<b></b>", parse_mode="HTML")


async def test_callback_data_over_64_bytes_is_refused(application):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await application.bot.send_message(USER, "x", reply_markup=markup)


async def test_editing_to_identical_content_is_not_modified(application, api):
    message = await application.bot.send_message(USER, "<b>same</b>", parse_mode="HTML")

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await message.edit_text("<b>same</b>", parse_mode="HTML")

    edited = await message.edit_text("<b>new</b>", parse_mode="HTML")
    assert edited.text == "new"
    assert edited.edit_date is not None
    assert [(m.method, m.plain) for m in api.sent] == [
        ("sendMessage", "same"),
        ("editMessageText", "new"),
    ]


async def test_editing_a_missing_message_is_refused(application):
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await application.bot.edit_message_text("x", chat_id=USER, message_id=999)


async def test_reply_markup_edit_is_recorded_with_the_current_text(application, api):
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="a")]])
    message = await application.bot.send_message(USER, "pick", reply_markup=markup)

    await message.edit_reply_markup(None)

    assert api.sent[-1].method == "editMessageReplyMarkup"
    assert api.sent[-1].plain == "pick"
    assert api.sent[-1].reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await message.edit_reply_markup(None)


async def test_deleting_twice_is_refused(application):
    message = await application.bot.send_message(USER, "bye")
    assert await message.delete()
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await message.delete()


# --------------------------------------------------------------------------- injected errors


async def test_injected_flood_wait_raises_retry_after(application, api, monkeypatch):
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as timedelta, no warning
    api.fail_next("sendMessage", error_code=429, retry_after=3)

    with pytest.raises(RetryAfter) as caught:
        await application.bot.send_message(USER, "hi")

    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    await application.bot.send_message(USER, "hi")  # only the next call failed
    assert [name for name, _ in api.calls[-2:]] == ["sendMessage", "sendMessage"]
    assert len(api.sent) == 1


async def test_injected_block_raises_forbidden(application, api):
    api.fail_next(
        "sendMessage", error_code=403, description="Forbidden: bot was blocked by the user"
    )
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await application.bot.send_message(USER, "hi")


async def test_blocked_user_stays_forbidden_until_unblocked(application, api):
    api.block(USER)
    with pytest.raises(Forbidden):
        await application.bot.send_message(USER, "hi")
    api.unblock(USER)
    await application.bot.send_message(USER, "hi")


async def test_injected_migration_raises_chat_migrated(application, api):
    api.fail_next("sendMessage", error_code=400, migrate_to_chat_id=-1001234)
    with pytest.raises(ChatMigrated) as caught:
        await application.bot.send_message(-5, "hi")
    assert caught.value.new_chat_id == -1001234


async def test_injected_bad_request_raises_bad_request(application, api):
    api.fail_next("sendMessage", error_code=400, description="Bad Request: chat not found", times=2)
    for _ in range(2):
        with pytest.raises(BadRequest, match="Chat not found"):
            await application.bot.send_message(USER, "hi")
    await application.bot.send_message(USER, "hi")


async def test_injected_network_failures(application, api):
    api.fail_network_next("sendMessage")
    api.fail_network_next("sendMessage", timed_out=True)
    with pytest.raises(NetworkError) as caught:
        await application.bot.send_message(USER, "hi")
    assert not isinstance(caught.value, TimedOut)
    with pytest.raises(TimedOut):
        await application.bot.send_message(USER, "hi")


async def test_missing_method_answers_like_an_unknown_telegram_method():
    api = FaultyBotAPI(missing_methods={"setMyCommands"})
    app = build(api)
    await app.initialize()
    try:
        # PTB maps a 404 to InvalidToken; do_api_request turns it into EndPointNotFound
        with pytest.raises(InvalidToken, match="Not Found"):
            await app.bot.set_my_commands([("status", "What is down")])
        with pytest.raises(EndPointNotFound):
            await app.bot.do_api_request("someFutureMethod")
    finally:
        await app.shutdown()
    assert api.commands is None


async def test_missing_get_me_makes_initialize_report_a_rejected_token():
    api = FaultyBotAPI(missing_methods={"getMe"})
    app = build(api)
    with pytest.raises(InvalidToken, match="rejected by the server"):
        await app.initialize()
    await app.shutdown()


async def test_calls_after_shutdown_fail_as_network_errors(api):
    app = build(api)
    await app.initialize()
    await app.shutdown()
    with pytest.raises(NetworkError, match="shut down"):
        await app.bot.send_message(USER, "hi")


async def test_strict_chats_refuse_users_who_never_started_the_bot():
    api = FaultyBotAPI(strict_chats=True)
    app = build(api)
    await app.initialize()
    try:
        with pytest.raises(Forbidden, match="can't initiate conversation"):
            await app.bot.send_message(4242, "hi")
        with pytest.raises(BadRequest, match="Chat not found"):
            await app.bot.send_message(-4242, "hi")
        ChatDriver(app, api, user_id=4242)
        await app.bot.send_message(4242, "hi")
    finally:
        await app.shutdown()


# --------------------------------------------------------------------------- other methods


async def test_commands_are_stored_and_read_back(application, api):
    await application.bot.set_my_commands([("status", "What is down"), ("help", "How to use")])

    assert api.commands == [
        {"command": "status", "description": "What is down"},
        {"command": "help", "description": "How to use"},
    ]
    assert [c.command for c in await application.bot.get_my_commands()] == ["status", "help"]
    await application.bot.delete_my_commands()
    assert api.commands is None
    assert await application.bot.get_my_commands() == ()


async def test_invalid_command_names_are_refused(application):
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await application.bot.set_my_commands([("Status!", "bad")])


async def test_photos_and_documents_keep_the_uploaded_bytes(application, api):
    message = await application.bot.send_photo(
        USER, b"\x89PNG-bytes", caption="<b>map</b>", parse_mode="HTML"
    )
    await application.bot.send_document(USER, b"a,b\n1,2\n", filename="outages.csv")

    assert message.caption == "map"
    assert message.photo[-1].file_id
    photo, document = api.sent
    assert (photo.method, photo.photo, photo.plain) == ("sendPhoto", b"\x89PNG-bytes", "map")
    assert (document.method, document.document) == ("sendDocument", b"a,b\n1,2\n")


async def test_chat_members_and_admins_are_configurable(application, api):
    api.set_admins(-500, [11, 12], creator=10)

    assert (await application.bot.get_chat_member(-500, 10)).status == "creator"
    assert (await application.bot.get_chat_member(-500, 11)).status == "administrator"
    assert (await application.bot.get_chat_member(-500, 99)).status == "member"
    admins = await application.bot.get_chat_administrators(-500)
    assert [a.user.id for a in admins] == [10, 11, 12]
    assert (await application.bot.get_chat_member(USER, USER)).status == "member"
    with pytest.raises(BadRequest, match=r"(?i)no administrators in the private chat"):
        await application.bot.get_chat_administrators(USER)


async def test_get_chat_and_chat_actions(application, chat):
    info = await application.bot.get_chat(USER)
    assert (info.id, info.type, info.first_name) == (USER, "private", "Ayesha")
    assert await application.bot.send_chat_action(USER, "typing")
    with pytest.raises(BadRequest):
        await application.bot.send_chat_action(USER, "dancing")


# --------------------------------------------------------------------------- getUpdates


def message_update(text: str, chat_id: int = 77) -> dict:
    return {
        "message": {
            "message_id": 1,
            "date": int(NOW),
            "chat": {"id": chat_id, "type": "private", "first_name": "P"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "P"},
            "text": text,
        }
    }


async def test_get_updates_returns_empty_after_the_timeout(application):
    assert await application.bot.get_updates(timeout=dtm.timedelta(seconds=0.05)) == ()


async def test_get_updates_honours_offset_and_limit(application, api):
    for text in ("a", "b", "c"):
        api.push_update(message_update(text))

    first = await application.bot.get_updates(limit=2)
    assert [u.update_id for u in first] == [1, 2]
    rest = await application.bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest] == ["c"]
    assert [u["update_id"] for u in api.pending_updates] == [3]


async def test_long_poll_wakes_up_when_an_update_is_pushed(application, api):
    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(application.bot.get_updates(timeout=10))
    await asyncio.sleep(0)
    api.push_update(message_update("wake up"))

    [update] = await poll

    assert update.message.text == "wake up"
    assert loop.time() - started < 1


async def test_a_second_poll_terminates_the_first_with_conflict(application):
    first = asyncio.create_task(application.bot.get_updates(timeout=10))
    await asyncio.sleep(0)
    await application.bot.get_updates(timeout=0)
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await first


async def test_get_updates_conflicts_with_an_active_webhook(application):
    await application.bot.set_webhook("https://example.com/hook")
    assert (await application.bot.get_webhook_info()).url == "https://example.com/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await application.bot.get_updates()
    await application.bot.delete_webhook()
    assert await application.bot.get_updates() == ()


async def test_pushed_update_reaches_a_handler_through_real_polling(api):
    app = build(api)
    received = asyncio.Event()
    texts: list[str] = []

    async def remember(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        texts.append(update.message.text)
        await update.message.reply_text("got it")
        received.set()

    app.add_handler(MessageHandler(filters.TEXT, remember))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=1)
        api.push_update(message_update("is it down?"))
        await asyncio.wait_for(received.wait(), timeout=5)
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    assert texts == ["is it down?"]
    assert [m.plain for m in api.messages_for(77)] == ["got it"]
    assert api.pending_updates == []  # the final offset confirmed it
    assert [str(w.message) for w in caught] == []
    assert [name for name, _ in api.calls][:3] == ["getMe", "deleteWebhook", "getUpdates"]


async def test_sent_message_exposes_buttons(chat):
    [reply] = await chat.send("/echo a")
    assert isinstance(reply, SentMessage)
    assert reply.buttons == [[{"text": "Louder", "callback_data": "louder"}]]

"""/start, /help, the command menu and the one error path, through the real stack."""

from __future__ import annotations

import logging

from telegram.ext import CommandHandler

from tests.faulty_botapi import FaultyBotAPI


async def test_start_greets_by_name_and_suggests_an_example(bot_harness):
    text = (await bot_harness.send("/start")).plain
    assert text.startswith("Hello, Ayesha!")
    assert "/status X Pakistan" in text


async def test_help_lists_examples_and_aliases(bot_harness):
    text = (await bot_harness.send("/help")).plain
    for example in (
        "/status X Pakistan",
        "/status pakistan twitter",
        '"united kingdom"',
        "/status x —",
        "UK, USA, UAE",
    ):
        assert example in text


async def test_command_menu_is_set_at_start(bot_harness):
    from bot.render.texts import COMMANDS

    menu = [command["command"] for command in bot_harness.api.commands]
    assert menu == [name for name, _ in COMMANDS]
    assert menu[0] == "status" and {"help", "start"} <= set(menu)


async def test_bot_runs_on_when_the_server_lacks_set_my_commands(make_harness, caplog):
    api = FaultyBotAPI(missing_methods={"setMyCommands"})
    with caplog.at_level(logging.WARNING):
        async for harness in make_harness(api=api):
            assert "X in Pakistan" in (await harness.send("/status x pk")).plain
    assert "could not set the command menu" in caplog.text


async def test_unexpected_error_is_logged_and_the_user_gets_no_internals(bot_harness, caplog):
    async def broken(update, context):
        raise RuntimeError("database path /secret/internal.db exploded")

    bot_harness.application.add_handler(CommandHandler("boom", broken))
    with caplog.at_level(logging.ERROR):
        text = (await bot_harness.send("/boom")).plain
    assert "something went wrong" in text
    assert "/secret" not in text and "RuntimeError" not in text
    assert "exploded" in caplog.text
    assert "Traceback" in caplog.text


async def test_telegram_refusing_a_reply_does_not_crash_the_bot(bot_harness, caplog):
    bot_harness.api.fail_next(
        "sendMessage", error_code=403, description="Forbidden: bot was blocked by the user", times=2
    )
    with caplog.at_level(logging.WARNING):
        replies = await bot_harness.driver.send("/status x pk")
    assert replies == []
    assert "could not send the error reply" in caplog.text
    assert "X in Pakistan" in (await bot_harness.send("/status x pk")).plain

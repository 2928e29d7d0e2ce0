"""Whatever a person types, the bot answers with a message Telegram accepts, and keeps its data.

A reply over 4,096 characters or with HTML Telegram refuses is not delivered, and the error reply
that follows it can fail the same way: the person then gets silence. These tests send hostile
text (very long, control characters, HTML-ish) to every command and to inline mode through the
real Application.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.offline.botapi import MESSAGE_LIMIT, SentMessage
from bot.render.telegram_html import telegram_html_errors

COMMANDS = (
    "status",
    "timeline",
    "report",
    "incidents",
    "chart",
    "subscribe",
    "unsubscribe",
    "subscriptions",
    "quiet",
    "language",
    "start",
    "help",
    "broadcast",
    "sources",
)
# Telegram takes at most 256 characters of inline query.
INLINE_LIMIT = 256

_pieces = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8", max_codepoint=0x3000), max_size=20),
    st.sampled_from(
        ["<b>", "</i>", "&amp;", "&", "<a href='x'>", "\x00", "\u202e", "\n", "x", "pk", "«", "“"]
    ),
)
# Long strings are built by repetition: hypothesis draws short text far faster than 4,000
# characters of it, and a repeated word is what a paste or a stuck key sends anyway.


def _repeated(piece: str, length: int) -> str:
    piece = piece or "A"
    return (piece * (length // len(piece) + 1))[:length]


_hostile = st.one_of(
    st.text(max_size=80),
    st.builds(_repeated, _pieces, st.integers(0, MESSAGE_LIMIT)),
    st.lists(_pieces, max_size=12).map(" ".join),
)
# Known names in front reach deeper: past the service into the region, past the pair into the
# problem word, the hours or the quiet-hours zone.
hostile_text = st.builds(
    str.__add__,
    st.sampled_from(["", "x ", "x pk ", "x pk 2025-03-10 ", "22:00-07:00 ", "youtube "]),
    _hostile,
)


def assert_deliverable(reply: SentMessage) -> None:
    assert len(reply.text) <= MESSAGE_LIMIT, len(reply.text)
    if reply.parse_mode == "HTML":
        assert telegram_html_errors(reply.text) is None, reply.text[:200]


def assert_inline_answer_deliverable(params: dict) -> None:
    results = params["results"]
    for result in json.loads(results) if isinstance(results, str) else results:
        content = result.get("input_message_content", {})
        text = content.get("message_text", "")
        assert len(text) <= MESSAGE_LIMIT, len(text)
        assert telegram_html_errors(text) is None, text[:200]


async def test_a_4000_character_unknown_name_gets_a_short_did_you_mean(bot_harness):
    reply = await bot_harness.send("/status x " + "A" * 4086)
    assert "I don't know the country or region" in reply.plain
    assert len(reply.text) < 300
    assert "…" in reply.plain


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=st.sampled_from(COMMANDS), text=hostile_text, inline=hostile_text)
@example(command="report", text="x pk " + "dm" * 2000, inline="<b>" * 85)
@example(command="report", text="x pk “““", inline="")  # a real report: the card may change
async def test_any_text_to_any_command_gets_a_deliverable_reply_and_changes_no_card(
    bot_harness, command, text, inline
):
    """Unless the reply says a report was counted: `/report x pk` followed by nothing a
    problem word can be read from ("", quote marks) is a person reporting X in Pakistan, and
    the card rightly shows it."""
    before = (await bot_harness.send("/status X Pakistan")).text
    message = f"/{command} {text}"[:MESSAGE_LIMIT]
    replies = await bot_harness.driver.send(message)
    assert replies, f"no answer to {message[:80]!r}"
    for reply in replies:
        assert_deliverable(reply)

    answered = len(bot_harness.api.calls)
    query = {"id": "q", "from": bot_harness.driver.user, "query": inline[:INLINE_LIMIT]}
    await bot_harness.driver.process(
        {"update_id": bot_harness.api.new_update_id(), "inline_query": {**query, "offset": ""}}
    )
    answers = [p for m, p in bot_harness.api.calls[answered:] if m == "answerInlineQuery"]
    assert answers, f"no answer to the inline query {inline[:80]!r}"
    for params in answers:
        assert_inline_answer_deliverable(params)

    counted = any("Counted: X in Pakistan" in reply.plain for reply in replies)
    if not counted:
        assert (await bot_harness.send("/status X Pakistan")).text == before

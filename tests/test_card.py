"""The status card's buttons, /chart, deep links and inline mode, through the real stack."""

from __future__ import annotations

import io
import json
import struct
from datetime import UTC, datetime, timedelta

import numpy as np
from matplotlib.image import imread

from bot.core.detection import Thresholds
from bot.imports.dataset import parse_dataset
from bot.render.chart import HEIGHT, WIDTH, render_chart
from storage.imports import import_dataset


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def buttons(message) -> list[str]:
    return message.callback_data


async def test_status_card_has_refresh_timeline_chart_and_subscribe_buttons(bot_harness):
    card = await bot_harness.send("/status x pk")
    labels = [b["text"] for row in card.buttons for b in row]
    assert labels == ["🔄 Refresh", "🕒 Timeline", "📈 Chart", "🔔 Subscribe"]
    assert all(len(data.encode()) <= 64 for data in buttons(card))


async def test_refresh_says_no_change_when_nothing_changed(bot_harness):
    card = await bot_harness.send("/status x pk")
    refresh = next(d for d in buttons(card) if d.startswith("st|r|"))
    await bot_harness.driver.press(card, refresh)
    answer = [p for m, p in bot_harness.api.calls if m == "answerCallbackQuery"][-1]
    assert answer["text"] == "No change since this card was made."


async def test_refresh_edits_the_card_in_place_when_data_changed(bot_harness):
    card = await bot_harness.send("/status x pk")
    services = bot_harness.services
    data = {
        "observations": [
            {
                "service": "x",
                "region": "pk",
                "count": 99,
                "source": "Test",
                "at": "2026-11-22T11:45:00Z",
            }
        ]
    }
    await import_dataset(services.db, parse_dataset(json.dumps(data), services.catalog))
    refresh = next(d for d in buttons(card) if d.startswith("st|r|"))
    [edited] = await bot_harness.driver.press(card, refresh)
    assert edited.method == "editMessageText" and edited.message_id == card.message_id
    assert "🔴 Outage now" in edited.plain and "99 reports" in edited.plain


async def test_chart_button_and_command_send_a_png_of_the_right_size(bot_harness):
    card = await bot_harness.send("/status x pk")
    chart = next(d for d in buttons(card) if d.startswith("st|c|"))
    [photo] = await bot_harness.driver.press(card, chart)
    assert photo.method == "sendPhoto"
    assert png_size(photo.photo) == (WIDTH, HEIGHT)
    again = await bot_harness.send("/chart x pakistan")
    assert again.photo == photo.photo  # cached per summary
    assert "X in Pakistan" in again.plain


async def test_chart_pixels_differ_between_an_incident_and_a_quiet_day(bot_harness):
    catalog, summaries = bot_harness.services.catalog, bot_harness.services.summaries
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    incident, _ = await summaries.compute(catalog.service("x"), catalog.region("PK"), now)
    quiet_data = {
        "observations": [
            {
                "service": "signal",
                "region": "pk",
                "count": 3 + i % 2,
                "source": "Test",
                "at": (now - timedelta(minutes=15 * i)).isoformat(),
            }
            for i in range(8)
        ]
    }
    services = bot_harness.services
    await import_dataset(services.db, parse_dataset(json.dumps(quiet_data), catalog))
    quiet, _ = await summaries.compute(catalog.service("signal"), catalog.region("PK"), now)
    first = imread(io.BytesIO(render_chart(incident, now=now, rules=Thresholds())))
    second = imread(io.BytesIO(render_chart(quiet, now=now, rules=Thresholds())))
    assert first.shape == second.shape == (HEIGHT, WIDTH, 4)
    assert np.mean(np.any(first != second, axis=2)) > 0.02  # a visibly different picture


async def test_chart_without_timed_readings_says_so(bot_harness):
    text = (await bot_harness.send("/chart x us")).plain
    assert "No timed readings to chart for X in United States" in text


async def test_timeline_button_sends_the_timeline(bot_harness):
    card = await bot_harness.send("/status x pk")
    timeline = next(d for d in buttons(card) if d.startswith("st|t|"))
    [reply] = await bot_harness.driver.press(card, timeline)
    assert reply.method == "sendMessage"
    assert "Most recent data" in reply.plain or "PKT" in reply.plain


async def test_subscribe_button_subscribes_and_flips_to_unsubscribe(bot_harness):
    card = await bot_harness.send("/status x pk")
    subscribe = next(d for d in buttons(card) if d.startswith("st|s|"))
    await bot_harness.driver.press(card, subscribe)
    listing = (await bot_harness.send("/subscriptions")).plain
    assert "X in Pakistan" in listing
    current = bot_harness.api.message_json(card.chat_id, card.message_id)
    labels = [b["text"] for row in current["reply_markup"]["inline_keyboard"] for b in row]
    assert "🔕 Unsubscribe" in labels


async def test_in_a_group_only_admins_can_use_the_subscribe_button(bot_harness):
    group = -777
    bot_harness.api.set_admins(group, [4242])
    member = bot_harness.chat(user_id=5151, chat_id=group, chat_type="group")
    [card] = await member.send("/status x pk")
    subscribe = next(d for d in card.callback_data if d.startswith("st|s|"))
    await member.press(card, subscribe)
    answer = [p for m, p in bot_harness.api.calls if m == "answerCallbackQuery"][-1]
    assert "Only this group's admins" in answer["text"]
    assert "no subscriptions" in (await member.send("/subscriptions"))[0].plain.lower()


async def test_forged_card_buttons_get_a_polite_answer(bot_harness, caplog):
    card = await bot_harness.send("/status x pk")
    for forged in ["st|r|nope|PK|abc", "st|z|x|PK", "st|c|x|ZZ", "st"]:
        bot_harness.api.message_json(card.chat_id, card.message_id)["reply_markup"][
            "inline_keyboard"
        ][0][0]["callback_data"] = forged
        await bot_harness.driver.press(card, forged)
        answer = [p for m, p in bot_harness.api.calls if m == "answerCallbackQuery"][-1]
        assert "no longer works" in answer["text"]
    assert "error" not in caplog.text.lower()


async def test_deep_link_opens_the_bot_on_that_card(bot_harness):
    reply = await bot_harness.send("/start status-x-pk")
    assert "X in Pakistan" in reply.plain and "Timeline" in str(reply.buttons)


async def test_a_broken_deep_link_falls_back_to_the_welcome(bot_harness):
    assert "Hello" in (await bot_harness.send("/start status-nope-zz")).plain


def inline_update(query: str, update_id: int) -> dict:
    user = {"id": 1001, "is_bot": False, "first_name": "Ayesha"}
    return {
        "update_id": update_id,
        "inline_query": {"id": f"q{update_id}", "from": user, "query": query, "offset": ""},
    }


def inline_results(harness) -> list[dict]:
    params = [p for m, p in harness.api.calls if m == "answerInlineQuery"][-1]
    results = params["results"]
    return json.loads(results) if isinstance(results, str) else results


async def test_inline_query_offers_the_status_card(bot_harness):
    await bot_harness.driver.process(inline_update("x pakistan", 900001))
    [result] = inline_results(bot_harness)
    assert result["title"] == "🇵🇰 X in Pakistan"
    assert "X in Pakistan" in result["input_message_content"]["message_text"]


async def test_inline_query_with_a_typo_offers_did_you_mean(bot_harness):
    await bot_harness.driver.process(inline_update("twiter pakistan", 900002))
    titles = [r["title"] for r in inline_results(bot_harness)]
    assert titles[0] == "Did you mean X?"

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
from bot.render.chart import HEIGHT, WIDTH, chart_figure, render_chart
from storage.imports import import_dataset


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def buttons(message) -> list[str]:
    return message.callback_data


async def test_status_card_is_short_with_a_verdict_and_its_details_behind_buttons(bot_harness):
    card = await bot_harness.send("/status x pk")
    labels = [b["text"] for row in card.buttons for b in row]
    assert labels == [
        "🕒 Timeline",
        "💬 What was said",
        "📜 Ban record",
        "📚 Sources",
        "📈 Chart",
        "🔄 Refresh",
        "🔔 Subscribe",
    ]
    assert all(len(data.encode()) <= 64 for data in buttons(card))
    assert len(card.plain) <= 1300
    assert card.plain.splitlines()[1].startswith("⛔ X is blocked in Pakistan")
    assert "Peak: 136 reports" in card.plain
    assert "Blocked in Pakistan since February 2024" in card.plain


async def test_card_during_the_outage_says_down_worldwide_first(make_harness):
    async for harness in make_harness(at=datetime(2025, 3, 10, 18, 30, tzinfo=UTC)):
        card = await harness.send("/status x pk")
        verdict = card.plain.splitlines()[1]
        assert verdict.startswith("🔴 X is down worldwide (40,000 reports in United States")
        assert "136 here" in verdict
        assert "X has also been blocked in Pakistan since February 2024." in card.plain
        assert "NetBlocks via Dawn" in card.plain
        assert len(card.plain) <= 1300


async def press_view(harness, card, action: str):
    data = next(d for d in buttons(card) if d.startswith(f"st|{action}|"))
    [edited] = await harness.driver.press(card, data)
    assert edited.method == "editMessageText" and edited.message_id == card.message_id
    return edited


async def back_to_the_card(harness, card, view) -> None:
    back = next(d for d in view.callback_data if d.startswith("st|k|"))
    [again] = await harness.driver.press(card, back)
    assert again.message_id == card.message_id and again.plain == card.plain
    assert again.callback_data == card.callback_data


async def test_what_was_said_button_shows_claims_side_by_side_and_comes_back(bot_harness):
    card = await bot_harness.send("/status x pk")
    view = await press_view(bot_harness, card, "w")
    assert "X in Pakistan — what was said" in view.plain
    assert "Elon Musk on X, via Dawn, claim:" in view.plain
    assert "Dark Storm on Telegram" in view.plain
    await back_to_the_card(bot_harness, card, view)


async def test_ban_record_button_shows_the_legal_timeline(bot_harness):
    card = await bot_harness.send("/status x pk")
    view = await press_view(bot_harness, card, "b")
    assert "Blocked in Pakistan since February 2024" in view.plain
    assert "Sindh High Court" in view.plain and "Grounds given:" in view.plain
    await back_to_the_card(bot_harness, card, view)


async def test_sources_button_lists_every_source_and_other_countries(bot_harness):
    card = await bot_harness.send("/status x pk")
    view = await press_view(bot_harness, card, "o")
    assert "• Downdetector via Dawn — newest here:" in view.plain
    assert "🇺🇸 United States: 40,000" in view.plain
    await back_to_the_card(bot_harness, card, view)


async def test_timeline_button_opens_the_days_the_card_is_about(bot_harness):
    card = await bot_harness.send("/status x pk")
    view = await press_view(bot_harness, card, "t")
    assert "Mon 10 Mar 2025 to Tue 11 Mar 2025, whole days" in view.plain
    assert "15:02 PKT (10:02 UTC) · 65 reports" in view.plain
    await back_to_the_card(bot_harness, card, view)


async def test_the_more_link_names_the_same_days_and_counts_only_entries(make_harness):
    async for harness in make_harness(at=datetime(2025, 3, 10, 18, 30, tzinfo=UTC)):
        card = await harness.send("/status x pk")
        assert "… 2 earlier entries: /timeline x pk 2025-03-10" in card.plain
        timeline = await harness.send("/timeline x pk 2025-03-10")
        assert "15:02 PKT (10:02 UTC) · 65 reports" in timeline.plain


async def test_a_button_nobody_knows_is_answered(bot_harness):
    card = await bot_harness.send("/status x pk")
    for junk in ["zz|old|button", "lang", "x" * 60]:
        bot_harness.api.message_json(card.chat_id, card.message_id)["reply_markup"][
            "inline_keyboard"
        ][0][0]["callback_data"] = junk
        await bot_harness.driver.press(card, junk)
        answer = [p for m, p in bot_harness.api.calls if m == "answerCallbackQuery"][-1]
        assert answer["text"] == "This button no longer works: send /status again."


def inline_press(harness, data: str, update_id: int) -> dict:
    user = {"id": 1001, "is_bot": False, "first_name": "Ayesha"}
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "from": user,
            "inline_message_id": "AAAinline",
            "chat_instance": "42",
            "data": data,
        },
    }


async def test_buttons_on_a_card_sent_inline_edit_through_the_inline_message(bot_harness):
    await bot_harness.driver.process(inline_update("x pakistan", 900003))
    [result] = inline_results(bot_harness)
    keys = [b["callback_data"] for row in result["reply_markup"]["inline_keyboard"] for b in row]
    assert not any(d.startswith(("st|s|", "st|u|")) for d in keys)  # no chat to subscribe
    said = next(d for d in keys if d.startswith("st|w|"))
    await bot_harness.driver.process(inline_press(bot_harness, said, 900004))
    edit = [p for m, p in bot_harness.api.calls if m == "editMessageText"][-1]
    assert edit["inline_message_id"] == "AAAinline"
    assert "what was said" in edit["text"]
    timeline = next(d for d in keys if d.startswith("st|t|"))
    await bot_harness.driver.process(inline_press(bot_harness, timeline, 900005))
    edit = [p for m, p in bot_harness.api.calls if m == "editMessageText"][-1]
    assert edit["inline_message_id"] == "AAAinline" and "timeline" in edit["text"]
    chart = next(d for d in keys if d.startswith("st|c|"))
    await bot_harness.driver.process(inline_press(bot_harness, chart, 900006))
    answer = [p for m, p in bot_harness.api.calls if m == "answerCallbackQuery"][-1]
    assert "/chart x pk" in answer["text"]


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


async def test_chart_events_are_numbered_and_the_legend_says_what_happened(bot_harness):
    catalog, summaries = bot_harness.services.catalog, bot_harness.services.summaries
    now = datetime(2025, 3, 10, 18, 30, tzinfo=UTC)
    summary, _ = await summaries.compute(catalog.service("x"), catalog.region("PK"), now)
    figure = chart_figure(summary, now=now, rules=Thresholds())
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    events = [entry for entry in legend if entry[:1].isdigit()]
    assert events, legend
    for number, entry in enumerate(events, start=1):
        assert entry.startswith(f"{number}. ")
    [netblocks] = [entry for entry in events if "NetBlocks" in entry]
    assert "statement: X was seeing international outages" in netblocks, netblocks
    assert all(len(entry) <= 90 for entry in legend), legend  # one legend line each
    numbers = [text.get_text() for text in figure.axes[0].texts]
    assert numbers[: len(events)] == [str(n) for n in range(1, len(events) + 1)]

"""/status through the real Application and the in-process Bot API, on the embedded dataset."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.imports.dataset import parse_dataset
from storage.imports import import_dataset

OUTAGE_EVENING = datetime(2025, 3, 10, 18, 30, tzinfo=UTC)


async def everything(harness, command: str) -> str:
    """The card and each of its views, as a person reads them tapping every button in turn."""
    card = await harness.send(command)
    texts = [card.plain]
    for action in ("t", "w", "b", "o"):
        data = next(d for d in card.callback_data if d.startswith(f"st|{action}|"))
        [view] = await harness.driver.press(card, data)
        texts.append(view.plain)
        back = next(d for d in view.callback_data if d.startswith("st|k|"))
        await harness.driver.press(card, back)
    return "\n".join(texts)


async def test_status_card_shows_each_pakistan_count_in_local_time_and_utc(bot_harness):
    plain = await everything(bot_harness, "/status X Pakistan")
    for line in (
        "15:02 PKT (10:02 UTC) · 65 reports",
        "15:08 PKT (10:08 UTC) · 74 reports",
        "21:32 PKT (16:32 UTC) · 109 reports",
        "23:06 PKT (18:06 UTC) · 136 reports",
        "00:06 PKT (19:06 UTC) · 45 reports",
    ):
        assert line in plain
    assert "Peak: 136 reports" in plain


async def test_status_shows_ban_context_for_blocked_service(bot_harness):
    text = await everything(bot_harness, "/status X Pakistan")
    assert "Blocked in Pakistan since February 2024 (about 2 years 9 months so far)" in text
    assert "Sindh High Court" in text
    assert "Islamabad High Court" in text
    assert "national security" in text
    assert "reports from there come from people reaching it anyway" in text


async def test_status_card_names_the_source_of_every_figure_and_claim(bot_harness):
    text = await everything(bot_harness, "/status X Pakistan")
    assert "65 reports" in text and "Downdetector via Dawn" in text
    assert "NetBlocks via Dawn" in text
    assert "Elon Musk on X, via Dawn" in text
    assert "Alp Toker (NetBlocks) to the BBC" in text


async def test_status_card_shows_contradicting_claims_side_by_side(bot_harness):
    text = await everything(bot_harness, "/status X Pakistan")
    said = text.split("what was said", 1)[1].split("⛔", 1)[0]
    assert "massive cyberattack" in said
    assert "Dark Storm" in said
    assert "not a DDoS" in said or "apparently not a DDoS" in said


async def test_status_card_shows_related_figures_elsewhere(bot_harness):
    text = await everything(bot_harness, "/status X Pakistan")
    assert "United States: 40,000" in text
    assert "United Kingdom: more than 10,800" in text


async def test_status_without_active_incident_summarises_the_most_recent(bot_harness):
    text = (await bot_harness.send("/status X Pakistan")).plain
    assert "No active incident" in text
    assert "Last incident: Mon 10 Mar 2025, 15:02 PKT (10:02 UTC)" in text
    assert "(9 h 4 min), peak 136, outage" in text


async def test_status_as_of_the_outage_evening_shows_an_active_outage(make_harness):
    async for harness in make_harness(at=OUTAGE_EVENING):
        text = (await harness.send("/status X Pakistan")).plain
        assert "🔴 Outage now, since Mon 10 Mar 2025, 15:02 PKT (10:02 UTC)" in text
        assert "Latest: 136 reports, Mon 10 Mar 2025, 23:06 PKT (18:06 UTC)" in text
        assert "45 reports" not in text  # not reported yet at 23:30 PKT


@pytest.mark.parametrize(
    "command",
    [
        "/status pakistan twitter",
        '/status x "pakistan"',
        "/status 𝕏 PK",
        "/status x.com pak",
        "/status@outage_test_bot X Pakistan",
    ],
)
async def test_status_accepts_either_order_and_aliases(bot_harness, command):
    assert "X in Pakistan" in (await bot_harness.send(command)).plain


async def test_status_understands_multi_word_regions_quoted_or_not(bot_harness):
    quoted = (await bot_harness.send('/status x "united kingdom"')).plain
    bare = (await bot_harness.send("/status x united kingdom")).plain
    assert "X in United Kingdom" in quoted
    assert quoted == bare


def region_lines(text: str) -> list[str]:
    return [line for line in text.splitlines()[1:] if " — " in line]


async def test_status_for_a_service_lists_regions_busiest_first(bot_harness):
    lines = region_lines((await bot_harness.send("/status x")).plain)
    assert ["United States" in lines[0], "United Kingdom" in lines[1], "Pakistan" in lines[2]] == [
        True,
        True,
        True,
    ]
    assert "⛔ blocked since February 2024" in lines[2]


async def test_status_for_a_service_puts_live_outages_first(make_harness):
    async for harness in make_harness(at=OUTAGE_EVENING):
        lines = region_lines((await harness.send("/status x")).plain)
        assert "United Kingdom" in lines[0] and "outage now" in lines[0]
        assert "Pakistan" in lines[1] and "outage now, 136 reports" in lines[1]
        assert "United States" in lines[2] and "no incident" in lines[2]


async def test_status_for_a_region_lists_its_services(bot_harness):
    text = (await bot_harness.send("/status pakistan")).plain
    for service in ("X", "Facebook", "Instagram", "YouTube"):
        assert f"{service} —" in text


async def test_unknown_service_gets_did_you_mean(bot_harness):
    text = (await bot_harness.send("/status twiter pakistan")).plain
    assert "I don't know the service “twiter”" in text
    assert "Did you mean: X?" in text


async def test_unknown_region_gets_did_you_mean(bot_harness):
    text = (await bot_harness.send("/status x pakistn")).plain
    assert "I don't know the country or region “pakistn”" in text
    assert "Pakistan" in text.split("Did you mean:", 1)[1]


async def test_status_without_arguments_explains_usage(bot_harness):
    text = (await bot_harness.send("/status")).plain
    assert "/status X Pakistan" in text


async def test_user_input_is_escaped_in_replies(bot_harness):
    text = (await bot_harness.send("/status <b>nope</b> pakistan")).plain
    assert "“<b>nope</b>”" in text


async def test_restriction_text_with_markup_is_shown_escaped(bot_harness):
    hostile = {
        "restrictions": [
            {
                "service": "signal",
                "region": "Pakistan",
                "kind": "block",
                "status": "active",
                "start": "2025-06",
                "authority": "<b>Ministry</b> & <i>PTA",
                "grounds": "a <script> tag",
                "sources": ["Test <source>"],
                "timeline": [
                    {"on": "2025-06", "text": "Order <u>issued", "source": "Test <source>"}
                ],
            }
        ]
    }
    services = bot_harness.services
    await import_dataset(services.db, parse_dataset(json.dumps(hostile), services.catalog))
    card = await bot_harness.send("/status signal pakistan")
    bans = next(d for d in card.callback_data if d.startswith("st|b|"))
    [reply] = await bot_harness.driver.press(card, bans)
    assert "By: <b>Ministry</b> & <i>PTA" in reply.plain
    assert "Order <u>issued — Test <source>" in reply.plain
    assert "&lt;b&gt;Ministry" in reply.text
    assert "Test &lt;source&gt;" in card.text


async def test_every_card_fits_one_telegram_message(bot_harness):
    from bot.render.telegram_html import utf16_len

    for command in (
        "/status X Pakistan",
        "/status x",
        "/status pakistan",
        "/status x global",
        "/status x us",
        "/status youtube pakistan",
    ):
        reply = await bot_harness.send(command)
        assert 0 < utf16_len(reply.plain) <= 4096, command

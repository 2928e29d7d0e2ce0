"""/timeline through the real Application and the in-process Bot API, on the embedded dataset."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta

from bot.core.catalog import default_catalog
from bot.render.card import fits
from bot.render.timeline import MAX_HOURS, NEWER, OLDER, Window, button_data, parse_timeline
from storage.imports import import_dataset
from storage.records import Dataset, Observation
from tests.conftest import TODAY

MONITOR = "Test monitor"


def answers(harness) -> list[dict]:
    return [params for method, params in harness.api.calls if method == "answerCallbackQuery"]


def page_label(text: str) -> str:
    found = re.search(r"page (\d+)/(\d+)", text)
    assert found, text
    return found.group(0)


async def press(harness, message, label: str):
    data = {button["text"]: button["callback_data"] for row in message.buttons for button in row}
    replies = await harness.driver.press(message, data[label])
    assert len(replies) == 1, [reply.plain for reply in replies]
    return replies[0]


async def test_a_day_shows_each_reading_in_local_time_and_utc_with_its_source(bot_harness):
    text = (await bot_harness.send("/timeline x pk 2025-03-10")).plain
    for line in (
        "15:02 PKT (10:02 UTC) · 65 reports (reports came mainly from Lahore, Rawalpindi and "
        "Karachi) — Downdetector via Dawn",
        "15:08 PKT (10:08 UTC) · 74 reports — Downdetector via press report (10 Mar 2025)",
        "21:32 PKT (16:32 UTC) · 109 reports — Downdetector via Dawn",
        "23:06 PKT (18:06 UTC) · 136 reports — Downdetector via press report (10 Mar 2025)",
    ):
        assert line in text
    assert "Mon 10 Mar 2025, the whole day" in text
    assert "local time PKT = UTC+5" in text
    # 00:06 PKT on 11 March is 19:06 UTC on the 10th, but not part of the local day asked for.
    assert "00:06 PKT" not in text


async def test_a_day_marks_worldwide_events_and_lists_undated_records_last(bot_harness):
    text = (await bot_harness.send("/timeline x pk 2025-03-10")).plain
    assert (
        "19:17 PKT (14:17 UTC) · X was seeing international outages, not country-level "
        "restrictions or filtering — NetBlocks via Dawn [worldwide]"
    ) in text
    assert "14:45 PKT (09:45 UTC) · claim: Waves of denial-of-service attacks" in text
    assert "time not reported · X is officially blocked in Pakistan" in text
    assert "time not reported · claim: Musk blamed" in text
    assert text.index("23:06 PKT") < text.index("time not reported")


async def test_a_date_only_reading_stays_on_its_date_west_of_greenwich(bot_harness):
    """Stored at midnight UTC, a date-only count is still 10 March in New York, not the 9th."""
    text = (await bot_harness.send("/timeline x usa 2025-03-10")).plain
    assert "time not reported · 40,000 reports" in text
    assert "local time EDT = UTC−4" in text
    assert "40,000" not in (await bot_harness.send("/timeline x usa 2025-03-09")).plain


async def test_the_default_day_is_empty_today_and_points_to_the_most_recent_data(bot_harness):
    reply = await bot_harness.send("/timeline X Pakistan")
    # The last Pakistan reading is 00:06 PKT on 11 March 2025, so that local day is the newest.
    assert (
        "Nothing in the last 24 hours. Most recent data: Tue 11 Mar 2025 — "
        "/timeline x pk 2025-03-11"
    ) in reply.plain
    assert reply.buttons == []
    followed = (await bot_harness.send("/timeline x pk 2025-03-11")).plain
    assert "00:06 PKT (19:06 UTC) · 45 reports" in followed


async def test_hours_count_back_from_now(bot_harness):
    bot_harness.clock.set(datetime(2025, 3, 11, 12, 0, tzinfo=UTC))
    text = (await bot_harness.send("/timeline x pk 48")).plain
    assert "The 48 hours to Tue 11 Mar 2025, 17:00 PKT (12:00 UTC)" in text
    assert "15:02 PKT (10:02 UTC) · 65 reports" in text
    assert "00:06 PKT (19:06 UTC) · 45 reports" in text
    assert "65 reports" not in (await bot_harness.send("/timeline x pk 3")).plain


async def test_many_readings_open_on_the_newest_page_and_page_back_in_place(bot_harness):
    readings = [
        Observation("x", "PK", TODAY - timedelta(minutes=5 * step), 1000 + step, MONITOR)
        for step in range(1, 289)  # the whole last 24 hours, every 5 minutes
    ]
    await import_dataset(bot_harness.services.db, Dataset(observations=tuple(readings)))

    newest = await bot_harness.send("/timeline x pk")
    last = int(page_label(newest.plain).split("/")[1])
    assert last >= 3
    assert page_label(newest.plain) == f"page {last}/{last}"
    assert [b["text"] for row in newest.buttons for b in row] == [OLDER]
    assert "16:55 PKT (11:55 UTC) · 1,001 reports — Test monitor" in newest.plain  # 5 min ago

    pages = {last: newest}
    current = newest
    for number in range(last - 1, 0, -1):
        current = await press(bot_harness, current, OLDER)
        assert current.method == "editMessageText"
        assert current.message_id == newest.message_id
        assert page_label(current.plain) == f"page {number}/{last}"
        pages[number] = current
    assert [b["text"] for row in pages[1].buttons for b in row] == [NEWER]
    assert [b["text"] for row in pages[2].buttons for b in row] == [OLDER, NEWER]
    assert len(answers(bot_harness)) == last - 1
    assert all("text" not in answer for answer in answers(bot_harness))

    shown = []
    for number in sorted(pages):
        assert fits(pages[number].text), number
        found = re.findall(r"· ([\d,]+) reports — Test monitor", pages[number].plain)
        shown += [int(n.replace(",", "")) for n in found]
    assert shown == sorted(shown, reverse=True)  # oldest (largest count here) first, no gaps
    assert sorted(shown) == list(range(1001, 1289))
    assert "(continued)" in pages[2].plain  # a day split across pages keeps its heading

    again = await press(bot_harness, pages[1], NEWER)
    assert page_label(again.plain) == f"page 2/{last}"


async def test_forged_or_stale_buttons_get_a_polite_answer_and_no_error(bot_harness, caplog):
    message = await bot_harness.send("/timeline x pk 2025-03-10")
    current = bot_harness.api.message_json(message.chat_id, message.message_id)
    forged = [
        "tl|garbage",
        "tl|nosuchservice|PK|2025-03-10|1",
        "tl|x|ZZ|2025-03-10|1",
        "tl|x|PK|2025-02-30|1",
        "tl|x|PK|9999@1795348800|1",
        "tl|x|PK|24@99999999999|1",
        "tl|x|PK|2025-03-10|7",
        "tl|x|PK|2025-03-10|0",
    ]
    with caplog.at_level(logging.WARNING):
        for data in forged:
            query = {
                "id": bot_harness.api.new_callback_query_id(),
                "from": dict(bot_harness.driver.user),
                "message": current,
                "chat_instance": "1",
                "data": data,
            }
            update = {"update_id": bot_harness.api.new_update_id(), "callback_query": query}
            assert await bot_harness.driver.process(update) == [], data
    texts = [answer.get("text", "") for answer in answers(bot_harness)]
    assert len(texts) == len(forged)
    assert all("Send /timeline again" in text for text in texts), texts
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


async def test_bad_hours_get_a_usage_reply(bot_harness):
    text = (await bot_harness.send("/timeline x pk 9999")).plain
    assert "Hours go from 1 to 720 (30 days), not 9999." in text
    assert "/timeline x pk 48 — the last 48 hours" in text


async def test_bad_dates_and_missing_names_get_usage_replies(bot_harness):
    assert "not a date" in (await bot_harness.send("/timeline x pk 2025-02-30")).plain
    assert (
        "neither a number of hours nor a date"
        in (await bot_harness.send("/timeline x pk 3days")).plain
    )
    usage = (await bot_harness.send("/timeline x")).plain
    assert "/timeline X Pakistan — the last 24 hours" in usage
    assert "/timeline x pk 2025-03-10..2025-03-11 — those days, first to last" in usage


async def test_an_unknown_country_gets_did_you_mean(bot_harness):
    text = (await bot_harness.send("/timeline x pakistn 48")).plain
    assert "Did you mean: Pakistan?" in text


async def test_names_with_spaces_and_either_order_work(bot_harness):
    text = (await bot_harness.send('/timeline "united kingdom" twitter 2025-03-10')).plain
    assert "X in United Kingdom — timeline" in text
    assert "14:00 GMT (14:00 UTC) · more than 8,000 reports (shortly before 14:00 GMT)" in text


async def test_timeline_is_in_the_command_menu_and_help(bot_harness):
    assert "timeline" in [command["command"] for command in bot_harness.api.commands]
    assert "/timeline X Pakistan 2025-03-10" in (await bot_harness.send("/help")).plain


def test_button_data_stays_within_telegrams_64_bytes():
    catalog = default_catalog()
    longest = max((s.key for s in catalog.services), key=len)
    widest = max((r.code for r in catalog.regions), key=len)
    query = parse_timeline(
        f"{longest} {widest} {MAX_HOURS}", catalog, now=datetime(2999, 12, 31, tzinfo=UTC)
    )
    assert len(button_data(query, 999).encode()) <= 64


def test_a_local_day_follows_the_regions_clock_across_a_dst_change():
    day = Window.local_day(date(2025, 3, 9), "America/New_York")  # clocks went forward
    assert day.end - day.start == timedelta(hours=23)
    assert day.start == datetime(2025, 3, 9, 5, 0, tzinfo=UTC)

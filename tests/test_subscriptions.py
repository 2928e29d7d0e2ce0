"""Subscriptions through the real Application: who may change them, what is stored, the
/unsubscribe buttons, quiet hours; and the storage calls the alert fan-out relies on."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.arguments import UsageError
from bot.core.catalog import default_catalog
from bot.subscriptions.requests import (
    MAX_SUBSCRIPTIONS,
    StaleButton,
    is_quiet,
    parse_quiet,
    parse_subscribe,
    parse_unsubscribe,
    resolve_zone,
    unsubscribe_target,
)
from storage.database import Database
from storage.subscriptions import (
    Subscriber,
    drop_chat,
    move_chat,
    subscribe,
    subscribers_for,
    subscriptions_of,
)

TODAY = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the harness clock: 17:00 in Pakistan
GROUP = -1001234567890
ADMIN, CREATOR, MEMBER = 501, 502, 503
ANONYMOUS_ADMIN_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


async def stored(harness, chat_id: int | None = None) -> list[tuple[str, str, str]]:
    """(service, region, min_level) of a chat's subscriptions (the driver's chat by default)."""
    chat_id = harness.driver.chat_id if chat_id is None else chat_id
    return [
        (row.service, row.region, row.min_level)
        for row in await subscriptions_of(harness.services.db, chat_id)
    ]


def answers(harness) -> list[dict]:
    return [params for method, params in harness.api.calls if method == "answerCallbackQuery"]


def group_member(harness, user_id: int, first_name: str = "Member"):
    harness.api.set_admins(GROUP, [ADMIN], creator=CREATOR)
    return harness.chat(
        user_id=user_id, chat_id=GROUP, chat_type="supergroup", first_name=first_name
    )


async def send_as_chat(harness, driver, text: str, sender_chat: dict) -> list:
    """A message posted as a chat (an anonymous admin posts as the group itself)."""
    command = text.split()[0]
    message = harness.api.incoming_message(
        driver.chat,
        ANONYMOUS_ADMIN_BOT,
        text=text,
        entities=[{"type": "bot_command", "offset": 0, "length": len(command)}],
        sender_chat=sender_chat,
    )
    return await driver.process({"update_id": harness.api.new_update_id(), "message": message})


async def press_forged(harness, driver, message, data: str) -> list:
    """A callback with any data at all, as a modified client can send."""
    query = {
        "id": harness.api.new_callback_query_id(),
        "from": dict(driver.user),
        "message": harness.api.message_json(message.chat_id, message.message_id),
        "chat_instance": "1",
        "data": data,
    }
    return await driver.process({"update_id": harness.api.new_update_id(), "callback_query": query})


# ---------------------------------------------------------------- private chats


async def test_subscribing_confirms_what_and_the_level_and_remembers_the_chat(bot_harness):
    text = (await bot_harness.send("/subscribe X Pakistan")).plain
    assert "You'll get alerts when X in Pakistan reaches elevated or outage." in text
    assert await stored(bot_harness) == [("x", "PK", "elevated")]
    row = await bot_harness.services.db.fetchone("SELECT * FROM chats")
    assert (row["chat_id"], row["kind"], row["title"]) == (1001, "private", None)


async def test_a_whole_service_or_a_whole_country_can_be_watched(bot_harness):
    text = (await bot_harness.send("/subscribe twitter")).plain
    assert "when X reaches elevated or outage anywhere." in text
    text = (await bot_harness.send("/subscribe pakistan outage")).plain
    assert "when any service in Pakistan reaches outage." in text
    await bot_harness.send("/subscribe youtube everywhere")
    assert await stored(bot_harness) == [
        ("x", "*", "elevated"),
        ("*", "PK", "outage"),
        ("youtube", "*", "elevated"),
    ]


async def test_subscribing_again_changes_the_level_without_a_duplicate(bot_harness):
    await bot_harness.send("/subscribe X Pakistan")
    text = (await bot_harness.send("/subscribe pakistan twitter outage")).plain
    assert "Updated: you'll now get alerts when X in Pakistan reaches outage" in text
    assert "(before: elevated or outage)" in text
    assert "Already subscribed" in (await bot_harness.send("/subscribe x pk outage")).plain
    assert await stored(bot_harness) == [("x", "PK", "outage")]


async def test_an_unknown_name_gets_suggestions_with_a_subscribe_example(bot_harness):
    text = (await bot_harness.send("/subscribe youtub pakistan")).plain
    assert "Did you mean: YouTube?" in text
    assert "Example: /subscribe X Pakistan" in text
    assert "/subscribe x — X in every country" in (await bot_harness.send("/subscribe")).plain
    assert await stored(bot_harness) == []


async def test_subscriptions_lists_them_or_says_how_to_start(bot_harness):
    empty = (await bot_harness.send("/subscriptions")).plain
    assert "This chat has no subscriptions." in empty
    assert "/subscribe X Pakistan" in empty
    await bot_harness.send("/subscribe X Pakistan")
    await bot_harness.send("/subscribe india outage")
    text = (await bot_harness.send("/subscriptions")).plain
    assert "Alerts for this chat (2 subscriptions)" in text
    assert "• X in Pakistan — elevated or outage" in text
    assert "• any service in India — outages only" in text
    assert "No quiet hours" in text


async def test_unsubscribe_by_name_removes_only_that_one(bot_harness):
    await bot_harness.send("/subscribe X Pakistan")
    await bot_harness.send("/subscribe x")
    assert "Stopped: X in Pakistan." in (await bot_harness.send("/unsubscribe x pk")).plain
    assert await stored(bot_harness) == [("x", "*", "elevated")]

    again = (await bot_harness.send("/unsubscribe x pk")).plain
    assert "This chat has no subscription to X in Pakistan." in again
    assert "• X anywhere — elevated or outage" in again
    assert await stored(bot_harness) == [("x", "*", "elevated")]


async def test_unsubscribe_all_stops_every_one(bot_harness):
    await bot_harness.send("/subscribe X Pakistan")
    await bot_harness.send("/subscribe youtube")
    assert "Stopped all 2 subscriptions." in (await bot_harness.send("/unsubscribe all")).plain
    assert await stored(bot_harness) == []
    assert "no subscriptions" in (await bot_harness.send("/unsubscribe")).plain


async def test_a_chat_has_a_bounded_number_of_subscriptions(bot_harness):
    catalog = default_catalog()
    regions = [region.code for region in catalog.regions if region.code != "global"]
    for code in regions[:MAX_SUBSCRIPTIONS]:
        assert "You'll get alerts" in (await bot_harness.send(f"/subscribe x {code}")).plain
    text = (await bot_harness.send(f"/subscribe x {regions[MAX_SUBSCRIPTIONS]}")).plain
    assert f"already has {MAX_SUBSCRIPTIONS} subscriptions" in text
    assert len(await stored(bot_harness)) == MAX_SUBSCRIPTIONS
    # Changing the level of one already there is still allowed.
    assert "Updated" in (await bot_harness.send(f"/subscribe x {regions[0]} outage")).plain
    listing = await bot_harness.send("/unsubscribe")
    assert len(listing.callback_data) == MAX_SUBSCRIPTIONS + 1


# ---------------------------------------------------------------- the /unsubscribe buttons


async def test_pressing_a_button_removes_it_and_edits_the_list(bot_harness):
    await bot_harness.send("/subscribe X Pakistan")
    await bot_harness.send("/subscribe youtube outage")
    listing = await bot_harness.send("/unsubscribe")
    assert "Tap a subscription to stop it:" in listing.plain
    labels = [button["text"] for row in listing.buttons for button in row]
    assert labels == ["✖ X in Pakistan", "✖ YouTube anywhere", "Unsubscribe from all"]
    assert all(len(data.encode()) <= 64 for data in listing.callback_data)

    (edited,) = await bot_harness.driver.press(listing, listing.callback_data[0])
    assert edited.method == "editMessageText"
    assert edited.message_id == listing.message_id
    assert "Stopped: X in Pakistan." in edited.plain
    assert "X in Pakistan —" not in edited.plain
    assert "• YouTube anywhere — outages only" in edited.plain
    assert [b["text"] for row in edited.buttons for b in row] == [
        "✖ YouTube anywhere",
        "Unsubscribe from all",
    ]
    assert answers(bot_harness)[-1]["text"] == "Stopped: X in Pakistan."
    assert await stored(bot_harness) == [("youtube", "*", "outage")]


async def test_the_all_button_empties_the_list(bot_harness):
    await bot_harness.send("/subscribe X Pakistan")
    await bot_harness.send("/subscribe youtube")
    listing = await bot_harness.send("/unsubscribe")
    (edited,) = await bot_harness.driver.press(listing, "unsub|all")
    assert "Stopped: all 2 subscriptions." in edited.plain
    assert "No subscriptions left." in edited.plain
    assert edited.buttons == []
    assert await stored(bot_harness) == []


async def test_a_button_for_a_subscription_already_gone_refreshes_the_list(bot_harness):
    await bot_harness.send("/subscribe X Pakistan")
    await bot_harness.send("/subscribe youtube")
    listing = await bot_harness.send("/unsubscribe")
    await bot_harness.send("/unsubscribe x pk")
    (edited,) = await bot_harness.driver.press(listing, listing.callback_data[0])
    assert answers(bot_harness)[-1]["text"] == "That subscription was already removed."
    assert "Stopped" not in edited.plain
    assert "✖ X in Pakistan" not in str(edited.buttons)
    assert await stored(bot_harness) == [("youtube", "*", "elevated")]


async def test_forged_buttons_get_a_polite_answer_and_change_nothing(bot_harness, caplog):
    other = bot_harness.chat(user_id=2002, first_name="Bilal")
    await other.send("/subscribe X Pakistan")
    (other_id,) = [row.id for row in await subscriptions_of(bot_harness.services.db, 2002)]
    await bot_harness.send("/subscribe youtube")
    listing = await bot_harness.send("/unsubscribe")
    forged = [
        "unsub|",
        "unsub|abc",
        "unsub|-1",
        "unsub|1|2",
        "unsub|" + "9" * 40,
        "unsub|ALL",
        f"unsub|{other_id}",  # another chat's subscription: never removed from here
    ]
    with caplog.at_level(logging.WARNING):
        for data in forged:
            await press_forged(bot_harness, bot_harness.driver, listing, data)
    texts = [answer.get("text", "") for answer in answers(bot_harness)]
    assert len(texts) == len(forged)
    assert texts[:-1] == [
        "This button no longer matches a list. Send /unsubscribe for a fresh one."
    ] * (len(forged) - 1)
    assert texts[-1] == "That subscription was already removed."
    assert await stored(bot_harness, 2002) == [("x", "PK", "elevated")]
    assert await stored(bot_harness) == [("youtube", "*", "elevated")]
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


# ---------------------------------------------------------------- groups


async def test_in_a_group_a_member_is_refused_and_nothing_is_stored(bot_harness):
    member = group_member(bot_harness, MEMBER)
    for command in (
        "/subscribe X Pakistan",
        "/quiet 22:00-07:00",
        "/unsubscribe",
        "/unsubscribe all",
    ):
        (reply,) = await member.send(command)
        assert "Only this group's admins can change its alerts" in reply.plain, command
    assert await stored(bot_harness, GROUP) == []
    assert await bot_harness.services.db.scalar("SELECT COUNT(*) FROM chats") == 0


async def test_in_a_group_admins_and_the_creator_may_subscribe(bot_harness):
    admin = group_member(bot_harness, ADMIN, "Ayesha")
    (reply,) = await admin.send("/subscribe@outage_test_bot X Pakistan")
    assert "You'll get alerts when X in Pakistan" in reply.plain
    creator = group_member(bot_harness, CREATOR, "Zara")  # the group is now "Zara's group"
    (reply,) = await creator.send("/subscribe youtube outage")
    assert "You'll get alerts when YouTube reaches outage anywhere." in reply.plain
    assert await stored(bot_harness, GROUP) == [("x", "PK", "elevated"), ("youtube", "*", "outage")]
    row = await bot_harness.services.db.fetchone("SELECT * FROM chats WHERE chat_id = ?", (GROUP,))
    assert (row["kind"], row["title"]) == ("supergroup", "Zara's group")  # the latest title


async def test_anyone_in_a_group_may_read_its_subscriptions(bot_harness):
    await group_member(bot_harness, ADMIN).send("/subscribe X Pakistan")
    await group_member(bot_harness, ADMIN).send("/quiet 22:00-07:00")
    member = group_member(bot_harness, MEMBER)
    (reply,) = await member.send("/subscriptions")
    assert "• X in Pakistan — elevated or outage" in reply.plain
    (reply,) = await member.send("/quiet")
    assert "Quiet hours: 22:00–07:00 PKT (Asia/Karachi)" in reply.plain


async def test_an_anonymous_admin_counts_as_an_admin(bot_harness):
    member = group_member(bot_harness, MEMBER)
    (reply,) = await send_as_chat(bot_harness, member, "/subscribe X Pakistan", member.chat)
    assert "You'll get alerts when X in Pakistan" in reply.plain
    assert await stored(bot_harness, GROUP) == [("x", "PK", "elevated")]


async def test_a_message_sent_as_another_channel_is_refused(bot_harness):
    member = group_member(bot_harness, MEMBER)
    channel = {"id": -1009999999999, "type": "channel", "title": "Someone's channel"}
    (reply,) = await send_as_chat(bot_harness, member, "/subscribe X Pakistan", channel)
    assert "Only this group's admins" in reply.plain
    assert await stored(bot_harness, GROUP) == []


async def test_in_a_group_a_member_pressing_a_button_is_refused(bot_harness):
    admin = group_member(bot_harness, ADMIN)
    await admin.send("/subscribe X Pakistan")
    (listing,) = await admin.send("/unsubscribe")
    member = group_member(bot_harness, MEMBER)
    assert await member.press(listing, listing.callback_data[0]) == []
    answer = answers(bot_harness)[-1]
    assert answer["text"] == "Only this group's admins can change its alerts."
    assert answer["show_alert"] is True
    assert await stored(bot_harness, GROUP) == [("x", "PK", "elevated")]

    (edited,) = await admin.press(listing, listing.callback_data[0])
    assert "Stopped: X in Pakistan." in edited.plain
    assert await stored(bot_harness, GROUP) == []


async def test_a_group_becoming_a_supergroup_takes_its_subscriptions_along(bot_harness):
    old, new = -4242, -1004242000000
    bot_harness.api.set_admins(old, [ADMIN])
    admin = bot_harness.chat(user_id=ADMIN, chat_id=old, chat_type="group")
    await admin.send("/subscribe X Pakistan")
    notice = bot_harness.api.incoming_message(admin.chat, admin.user, migrate_to_chat_id=new)
    await admin.process({"update_id": bot_harness.api.new_update_id(), "message": notice})
    assert await stored(bot_harness, old) == []
    assert await stored(bot_harness, new) == [("x", "PK", "elevated")]


# ---------------------------------------------------------------- quiet hours


async def test_quiet_hours_default_to_the_first_countrys_zone(bot_harness):
    await bot_harness.send("/subscribe youtube")
    await bot_harness.send("/subscribe X Pakistan")
    text = (await bot_harness.send("/quiet 22:00-07:00")).plain
    assert "Quiet hours set: 22:00–07:00 PKT (Asia/Karachi), that is 17:00–02:00 UTC." in text
    row = await bot_harness.services.db.fetchone("SELECT * FROM chats")
    assert (row["timezone"], row["quiet_start"], row["quiet_end"]) == (
        "Asia/Karachi",
        "22:00",
        "07:00",
    )
    assert "Quiet hours: 22:00–07:00 PKT" in (await bot_harness.send("/subscriptions")).plain


async def test_quiet_hours_without_a_country_are_in_utc(bot_harness):
    text = (await bot_harness.send("/quiet 23:30–6:00")).plain
    assert "Quiet hours set: 23:30–06:00 UTC." in text


async def test_quiet_hours_take_a_country_or_an_iana_zone(bot_harness):
    text = (await bot_harness.send("/quiet 22:00-07:00 united kingdom")).plain
    assert "22:00–07:00 GMT (Europe/London), that is 22:00–07:00 UTC" in text
    text = (await bot_harness.send("/quiet 16:00-18:00 asia/karachi")).plain
    assert "16:00–18:00 PKT (Asia/Karachi)" in text
    assert "It is quiet time there now." in text  # 17:00 in Karachi
    # Without a zone, the one chosen last time is kept.
    assert "PKT (Asia/Karachi)" in (await bot_harness.send("/quiet 21:00-06:00")).plain


async def test_quiet_off_clears_them(bot_harness):
    await bot_harness.send("/quiet 22:00-07:00 pakistan")
    text = (await bot_harness.send("/quiet off")).plain
    assert "Quiet hours are off" in text
    row = await bot_harness.services.db.fetchone("SELECT * FROM chats")
    assert (row["quiet_start"], row["quiet_end"]) == (None, None)
    assert "already arrive with sound" in (await bot_harness.send("/quiet off")).plain


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/quiet 25:00-07:00", "“25:00” is not a time of day; write it as HH:MM"),
        ("/quiet 22:00-07:60", "“07:60” is not a time of day"),
        ("/quiet ten-seven", "“ten” is not a time of day"),
        ("/quiet 22:00", "/quiet 22:00-07:00 pakistan — on Pakistan's clock"),
        ("/quiet 22:00-22:00", "need a start and an end that differ, not 22:00 to 22:00"),
        ("/quiet 22:00-07:00 Mars/Olympus", "I don't know the time zone “Mars/Olympus”."),
        ("/quiet 22:00-07:00 pakstan", "Did you mean: Pakistan?"),
    ],
)
async def test_quiet_hours_are_validated_with_a_clear_reply(bot_harness, command, expected):
    assert expected in (await bot_harness.send(command)).plain
    assert await bot_harness.services.db.scalar("SELECT COUNT(*) FROM chats") == 0


async def test_quiet_alone_shows_the_setting_and_how_to_change_it(bot_harness):
    text = (await bot_harness.send("/quiet")).plain
    assert "This chat has no quiet hours." in text
    assert "/quiet off" in text


# In Asia/Karachi (UTC+5, no DST): 22:00–07:00 local is 17:00–02:00 UTC.
@pytest.mark.parametrize(
    ("utc", "zone", "start", "end", "quiet"),
    [
        ("16:59", "Asia/Karachi", "22:00", "07:00", False),
        ("17:00", "Asia/Karachi", "22:00", "07:00", True),  # the start is inside
        ("21:30", "Asia/Karachi", "22:00", "07:00", True),  # 02:30 local, after midnight
        ("01:59", "Asia/Karachi", "22:00", "07:00", True),
        ("02:00", "Asia/Karachi", "22:00", "07:00", False),  # the end is outside
        ("12:00", "UTC", "09:00", "17:00", True),  # a range within one day
        ("17:00", "UTC", "09:00", "17:00", False),
        ("08:59", "UTC", "09:00", "17:00", False),
        ("12:00", None, "09:00", "17:00", True),  # no zone: UTC
        ("12:00", "Asia/Karachi", None, None, False),  # no quiet hours
        ("12:00", "Asia/Karachi", "12:00", "12:00", False),  # an empty range
        ("12:00", "Asia/Karachi", "nonsense", "07:00", False),  # a bad row never silences
        ("23:00", "Not/AZone", "22:00", "07:00", True),  # a zone gone from tzdata: UTC
    ],
)
def test_is_quiet_reads_the_chats_clock_across_midnight(utc, zone, start, end, quiet):
    hours, minutes = map(int, utc.split(":"))
    now = TODAY.replace(hour=hours, minute=minutes)
    assert is_quiet(now, zone, start, end) is quiet


def test_is_quiet_follows_daylight_saving_time():
    zone = "Europe/London"
    winter = datetime(2026, 1, 15, 22, 30, tzinfo=UTC)  # 22:30 GMT
    summer = datetime(2026, 7, 15, 22, 30, tzinfo=UTC)  # 23:30 BST
    assert not is_quiet(winter, zone, "23:00", "07:00")
    assert is_quiet(summer, zone, "23:00", "07:00")


def test_is_quiet_refuses_a_naive_instant():
    with pytest.raises(ValueError):
        is_quiet(datetime(2026, 1, 1, 12, 0), "UTC", "22:00", "07:00")


_clocks = st.times().map(lambda at: at.replace(second=0, microsecond=0))


_instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(now=_instants, start=_clocks, end=_clocks)
def test_a_range_across_midnight_is_quiet_exactly_where_its_reverse_is_not(now, start, end):
    zone = "Asia/Kolkata"
    first, second = start.strftime("%H:%M"), end.strftime("%H:%M")
    if first == second:
        assert not is_quiet(now, zone, first, second)
        return
    local = now.astimezone(ZoneInfo(zone)).time().replace(second=0, microsecond=0)
    assert is_quiet(now, zone, first, second) != is_quiet(now, zone, second, first)
    if start < end:
        assert is_quiet(now, zone, first, second) is (start <= local < end)


# ---------------------------------------------------------------- what is parsed


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


@pytest.mark.parametrize(
    ("text", "service", "region", "level"),
    [
        ("X Pakistan", "x", "PK", "elevated"),
        ("pakistan twitter outage", "x", "PK", "outage"),
        ('x "united kingdom" elevated', "x", "GB", "elevated"),
        ("x", "x", "*", "elevated"),
        ("x everywhere", "x", "*", "elevated"),
        ("pakistan", "*", "PK", "elevated"),
        ("all pakistan outages", "*", "PK", "outage"),
        ("everything", "*", "*", "elevated"),
        ("x global", "x", "global", "elevated"),
    ],
)
def test_subscribe_takes_a_pair_a_side_or_a_wildcard_then_a_level(
    catalog, text, service, region, level
):
    request = parse_subscribe(text, catalog)
    assert (request.topic.service_key, request.topic.region_key, request.level) == (
        service,
        region,
        level,
    )


def test_a_level_alone_is_not_a_subscription(catalog):
    with pytest.raises(UsageError):
        parse_subscribe("outage", catalog)


def test_unsubscribe_takes_names_all_or_nothing(catalog):
    assert parse_unsubscribe("", catalog) is None
    assert parse_unsubscribe("all", catalog).topic is None
    topic = parse_unsubscribe("x pk outage", catalog).topic
    assert (topic.service_key, topic.region_key) == ("x", "PK")


def test_button_data_is_an_id_or_all_and_nothing_else():
    assert unsubscribe_target("unsub|42") == 42
    assert unsubscribe_target("unsub|all") is None
    for data in ("unsub|", "unsub|x", "unsub|1|2", "unsub|" + "1" * 19, "tl|1"):
        with pytest.raises(StaleButton):
            unsubscribe_target(data)


def test_quiet_parses_a_range_and_an_optional_zone():
    assert parse_quiet("") is None
    assert parse_quiet("off").off
    request = parse_quiet("7:05 to 9.30 united kingdom")
    assert (request.start, request.end, request.zone) == ("07:05", "09:30", "united kingdom")


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("pakistan", "Asia/Karachi"),
        ("UK", "Europe/London"),
        ("Asia/Karachi", "Asia/Karachi"),
        ("america/new_york", "America/New_York"),
        ("utc", "UTC"),
        ("EST", "EST"),  # the IANA zone as tzdata spells it, not Estonia's ISO code
        ("est", "Europe/Tallinn"),
    ],
)
def test_a_zone_is_a_country_or_an_iana_name(catalog, text, zone):
    assert resolve_zone(text, catalog) == zone


# ---------------------------------------------------------------- storage for the fan-out


async def add(db: Database, chat_id: int, service: str, region: str, level: str = "elevated"):
    kind = "private" if chat_id > 0 else "supergroup"
    outcome = await subscribe(
        db,
        chat_id,
        kind=kind,
        title=None,
        service=service,
        region=region,
        min_level=level,
        at=TODAY,
        limit=MAX_SUBSCRIPTIONS,
    )
    assert outcome.subscription is not None
    return outcome.subscription


async def test_subscribers_for_returns_each_chat_once(db):
    await add(db, 1, "x", "*")
    await add(db, 1, "*", "PK")
    await add(db, 1, "x", "PK")
    await add(db, 2, "x", "GB")  # another pair
    await add(db, 3, "*", "*")
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE chats SET timezone = 'Asia/Karachi', quiet_start = '22:00',"
            " quiet_end = '07:00' WHERE chat_id = 1"
        )
    found = await subscribers_for(db, "x", "PK", "outage")
    assert found == [
        Subscriber(1, "private", "Asia/Karachi", "22:00", "07:00"),
        Subscriber(3, "private", None, None, None),
    ]
    assert [s.chat_id for s in await subscribers_for(db, "youtube", "PK", "elevated")] == [1, 3]
    assert [s.chat_id for s in await subscribers_for(db, "youtube", "GB", "elevated")] == [3]


async def test_subscribers_for_honours_the_minimum_level(db):
    await add(db, 1, "x", "PK", "elevated")
    await add(db, 2, "x", "PK", "outage")
    await add(db, -100777, "x", "*", "outage")
    assert [s.chat_id for s in await subscribers_for(db, "x", "PK", "elevated")] == [1]
    outage = await subscribers_for(db, "x", "PK", "outage")
    assert [(s.chat_id, s.chat_kind) for s in outage] == [
        (-100777, "supergroup"),
        (1, "private"),
        (2, "private"),
    ]
    assert await subscribers_for(db, "x", "PK", "normal") == []
    with pytest.raises(ValueError):
        await subscribers_for(db, "x", "PK", "meltdown")


async def test_subscribers_for_reads_inside_the_callers_transaction(db):
    async with db.transaction() as connection:
        await connection.execute(
            "INSERT INTO subscriptions (chat_id, service, region, min_level, created_at)"
            " VALUES (-4242, 'x', 'PK', 'elevated', 0)"
        )
        (found,) = await subscribers_for(connection, "x", "PK", "elevated")
    assert found == Subscriber(-4242, "group", None, None, None)  # no chats row: kind guessed


async def test_drop_chat_forgets_its_subscriptions_and_settings(db):
    await add(db, 1, "x", "PK")
    await add(db, 1, "youtube", "*")
    await add(db, 2, "x", "PK")
    async with db.transaction() as connection:
        assert await drop_chat(connection, 1) == 2
    assert await subscriptions_of(db, 1) == []
    assert await db.scalar("SELECT COUNT(*) FROM chats WHERE chat_id = 1") == 0
    assert [s.chat_id for s in await subscribers_for(db, "x", "PK", "outage")] == [2]
    assert await drop_chat(db, 1) == 0


async def test_move_chat_keeps_ids_and_merges_with_what_the_new_id_has(db):
    old, new = -4242, -1004242000000
    kept = await add(db, old, "x", "PK", "elevated")
    await add(db, old, "youtube", "*", "outage")
    await add(db, old, "*", "GB", "outage")
    await add(db, new, "youtube", "*", "elevated")
    await add(db, new, "*", "GB", "outage")
    async with db.transaction() as connection:
        await connection.execute(
            "UPDATE chats SET title = 'Old', timezone = 'Asia/Karachi', quiet_start = '22:00',"
            " quiet_end = '07:00' WHERE chat_id = ?",
            (old,),
        )
    async with db.transaction() as connection:
        await move_chat(connection, old, new)
    assert await subscriptions_of(db, old) == []
    moved = await subscriptions_of(db, new)
    assert sorted((s.service, s.region, s.min_level) for s in moved) == [
        ("*", "GB", "outage"),
        ("x", "PK", "elevated"),
        ("youtube", "*", "elevated"),  # the more sensitive level wins
    ]
    assert kept.id in [s.id for s in moved]
    row = await db.fetchone("SELECT * FROM chats WHERE chat_id = ?", (new,))
    assert (row["kind"], row["title"], row["timezone"], row["quiet_start"]) == (
        "supergroup",
        "Old",
        "Asia/Karachi",
        "22:00",
    )
    assert await db.scalar("SELECT COUNT(*) FROM chats WHERE chat_id = ?", (old,)) == 0


async def test_move_chat_to_a_fresh_id_moves_everything(db):
    await add(db, -1, "x", "PK", "outage")
    await move_chat(db, -1, -1001)
    assert [(s.chat_id, s.min_level) for s in await subscriptions_of(db, -1001)] == [
        (-1001, "outage")
    ]
    await move_chat(db, -1, -1001)  # told twice (Telegram says so in both chats): harmless
    assert len(await subscriptions_of(db, -1001)) == 1

"""/report through the real Application: counted once per person per bucket, folded into counts."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.arguments import UsageError
from bot.crowd.keys import reporter_key
from bot.crowd.reports import parse_report, problem_named
from storage.crowd import CROWD_SOURCE, problem_shares

TODAY = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)  # the harness clock's start, a bucket edge


async def crowd_count(harness, service: str = "x", region: str = "PK", at=TODAY) -> int | None:
    """The crowd observation's count for the bucket starting at `at`, None if there is none."""
    return await harness.services.db.scalar(
        "SELECT o.count FROM observations o JOIN sources s ON s.id = o.source_id"
        " WHERE s.name = ? AND o.service = ? AND o.region = ? AND o.at = ?",
        (CROWD_SOURCE.name, service, region, int(at.timestamp())),
    )


def hour_of(at: datetime) -> bytes:
    """The hour a reporter hash is keyed with, as the hash's message spells it."""
    return str(int(at.timestamp()) // 3600).encode()


async def stored_reporters(harness) -> list[str]:
    rows = await harness.services.db.fetchall("SELECT reporter FROM crowd_reports ORDER BY id")
    return [row["reporter"] for row in rows]


async def test_a_report_is_counted_and_becomes_the_buckets_observation(bot_harness):
    text = (await bot_harness.send("/report X Pakistan app")).plain
    assert "Counted: X in Pakistan, app problems." in text
    assert "1 person reported in this 15-minute period." in text
    assert "/status x pk" in text
    assert await crowd_count(bot_harness) == 1


async def test_each_person_counts_once_per_bucket(bot_harness):
    await bot_harness.send("/report X Pakistan app")
    other = bot_harness.chat(user_id=2002, first_name="Bilal")
    (reply,) = await other.send("/report pakistan twitter website")
    assert "2 people reported in this 15-minute period." in reply.plain
    assert await crowd_count(bot_harness) == 2

    again = (await bot_harness.send("/report x pk feed")).plain
    assert "already counted for this 15-minute period" in again
    assert "17:15 PKT (12:15 UTC)" in again
    assert await crowd_count(bot_harness) == 2
    assert len(await stored_reporters(bot_harness)) == 2


async def test_the_same_person_counts_again_in_the_next_bucket(bot_harness):
    await bot_harness.send("/report X Pakistan")
    bot_harness.clock.advance(minutes=15)
    text = (await bot_harness.send("/report X Pakistan")).plain
    assert "Counted: X in Pakistan, other problems." in text
    assert await crowd_count(bot_harness) == 1
    assert await crowd_count(bot_harness, at=TODAY + timedelta(minutes=15)) == 1


async def test_buckets_are_aligned_to_the_clock(bot_harness):
    bot_harness.clock.advance(minutes=14)
    await bot_harness.send("/report X Pakistan")
    bot_harness.clock.advance(minutes=1)
    text = (await bot_harness.send("/report X Pakistan")).plain
    assert "Counted" in text
    assert await crowd_count(bot_harness, at=TODAY) == 1
    assert await crowd_count(bot_harness, at=TODAY + timedelta(minutes=15)) == 1


async def test_past_the_hourly_limit_a_report_is_refused_politely_and_stores_nothing(bot_harness):
    services = ["x", "facebook", "instagram", "youtube", "tiktok"]
    regions = ["pk", "uk", "us", "india"]
    for service in services:
        for region in regions:
            assert "Counted" in (await bot_harness.send(f"/report {service} {region}")).plain
    bot_harness.clock.advance(minutes=10)

    text = (await bot_harness.send("/report telegram pk")).plain
    assert "most reports I count from one person in an hour" in text
    assert "You can report again in 50 minutes, at 18:00 PKT (13:00 UTC)." in text
    assert await bot_harness.services.db.scalar("SELECT COUNT(*) FROM crowd_reports") == 20
    assert await crowd_count(bot_harness, "telegram", "PK", TODAY) is None

    bot_harness.clock.advance(minutes=50)
    assert "Counted" in (await bot_harness.send("/report telegram pk")).plain


async def test_the_limit_is_per_person(make_harness):
    async for harness in make_harness(reports_per_hour=1):
        await harness.send("/report x pk")
        (reply,) = await harness.chat(user_id=2002).send("/report youtube pk")
        assert "Counted" in reply.plain
        assert "most reports" in (await harness.send("/report youtube pk")).plain


async def test_a_stored_reporter_is_never_the_user_id(bot_harness):
    person = bot_harness.chat(user_id=987654321, first_name="Zara")
    await person.send("/report X Pakistan login")
    rows = await bot_harness.services.db.fetchall("SELECT * FROM crowd_reports")
    assert len(rows) == 1
    for row in rows:
        assert all("987654321" not in str(value) for value in tuple(row))
    key = reporter_key(bot_harness.services.settings)
    expected = hmac.new(key, hour_of(TODAY) + b":987654321", hashlib.sha256).hexdigest()
    assert rows[0]["reporter"] == expected


async def test_a_configured_salt_gives_a_different_hash_than_the_generated_one(make_harness):
    async for harness in make_harness():
        await harness.send("/report X Pakistan")
        (generated,) = await stored_reporters(harness)
    async for harness in make_harness(report_salt="pepper"):
        await harness.send("/report YouTube Pakistan")
        _, configured = await stored_reporters(harness)
    assert configured != generated
    assert configured == hmac.new(b"pepper", hour_of(TODAY) + b":1001", hashlib.sha256).hexdigest()


async def test_the_generated_salt_survives_a_restart(make_harness):
    async for harness in make_harness():
        await harness.send("/report X Pakistan")
    async for harness in make_harness():
        assert "already counted" in (await harness.send("/report X Pakistan")).plain
        assert await crowd_count(harness) == 1


async def test_in_a_group_the_reporter_is_the_person_not_the_chat(bot_harness):
    group = -4242
    first = bot_harness.chat(user_id=3003, chat_id=group, chat_type="group")
    second = bot_harness.chat(user_id=3004, chat_id=group, chat_type="group")
    (reply,) = await first.send("/report@outage_test_bot x pk app")
    assert "Counted: X in Pakistan" in reply.plain
    (reply,) = await second.send("/report x pk app")
    assert "2 people reported" in reply.plain
    (reply,) = await bot_harness.chat(user_id=3003).send("/report x pk")
    assert "already counted" in reply.plain


async def test_an_unknown_problem_gets_the_list_of_choices(bot_harness):
    reply = await bot_harness.send("/report X Pakistan crashing")
    assert "I don't know the problem “crashing”" in reply.plain
    assert "app, website, login, feed, messages, other" in reply.plain
    assert await bot_harness.services.db.scalar("SELECT COUNT(*) FROM crowd_reports") == 0


async def test_a_multi_word_region_with_a_problem_after_it(bot_harness):
    text = (await bot_harness.send("/report x united kingdom login")).plain
    assert "Counted: X in United Kingdom, login problems." in text
    assert "/status x gb" in text


async def test_a_report_without_a_region_gets_the_usage(bot_harness):
    text = (await bot_harness.send("/report x app")).plain
    assert "/report X Pakistan app" in text
    assert (await bot_harness.send("/report")).plain == text


async def test_an_unknown_service_is_suggested_with_a_report_example(bot_harness):
    text = (await bot_harness.send("/report youtub pakistan")).plain
    assert "Did you mean: YouTube?" in text
    assert "Example: /report X Pakistan" in text


async def test_a_report_marks_the_pair_for_refresh(bot_harness):
    db = bot_harness.services.db
    async with db.transaction() as connection:
        await connection.execute("DELETE FROM dirty_pairs")
    await bot_harness.send("/report x pk")
    await bot_harness.chat(user_id=2002).send("/report x pk")
    assert await db.scalar("SELECT version FROM dirty_pairs WHERE service = 'x'") == 2


async def test_problem_shares_are_sorted_by_share(bot_harness):
    await bot_harness.send("/report x pk app")
    await bot_harness.chat(user_id=2002).send("/report x pk feed")
    await bot_harness.chat(user_id=2003).send("/report x pk app")
    await bot_harness.chat(user_id=2004).send("/report x india app")
    shares = await problem_shares(
        bot_harness.services.db, "x", "PK", TODAY, TODAY + timedelta(hours=1)
    )
    assert [(problem, reports) for problem, reports, _ in shares] == [("app", 2), ("feed", 1)]
    assert [share for _, _, share in shares] == pytest.approx([0.667, 0.333], abs=1e-3)
    assert await problem_shares(bot_harness.services.db, "x", "PK", TODAY, TODAY) == []


@pytest.mark.parametrize(
    ("word", "problem"),
    [
        ("site", "website"),
        ("web", "website"),
        ("log in", "login"),
        ("sign-in", "login"),
        ("signin", "login"),
        ("timeline", "feed"),
        ("DM", "messages"),
        ("chat", "messages"),
        ("App", "app"),
        ("crashing", None),
    ],
)
def test_problem_synonyms_fold_to_the_six_kinds(word, problem):
    assert problem_named(word) == problem


def test_a_two_word_problem_and_either_order(catalog):
    query = parse_report("pakistan x log in", catalog)
    assert (query.service.key, query.region.code, query.problem) == ("x", "PK", "login")


def test_a_code_that_is_also_a_problem_word_is_a_region_when_nothing_else_fits(catalog):
    query = parse_report("x dm", catalog)  # DM is Dominica
    assert (query.region.code, query.problem) == ("DM", "other")
    assert parse_report("x pk dm", catalog).problem == "messages"


def test_an_empty_report_is_a_usage_error(catalog):
    with pytest.raises(UsageError):
        parse_report("  ", catalog)


@pytest.fixture
def catalog():
    from bot.core.catalog import default_catalog

    return default_catalog()


async def test_status_card_shows_the_top_problems_people_reported(bot_harness):
    for user_id, problem in [(5001, "app"), (5002, "app"), (5003, "feed"), (5004, "app")]:
        await bot_harness.chat(user_id=user_id).send(f"/report x germany {problem}")
    await bot_harness.services.summaries.refresh(bot_harness.clock.now())
    text = (await bot_harness.send("/status x germany")).plain
    assert "Problems people reported: 75% app, 25% feed (4 via /report)" in text
    assert "Latest: 4 reports" in text and "Crowd reports (outagebot)" in text

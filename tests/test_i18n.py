"""Languages: every message has its Urdu translation, and an Urdu speaker gets Urdu end to end."""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.imports.dataset import parse_dataset
from bot.render import i18n
from bot.render.i18n import FSI, PDI
from bot.render.texts import COMMANDS, help_text
from bot.runtime.jobs import FOLLOW_JOB
from storage.imports import import_dataset

ROOT = Path(__file__).resolve().parent.parent
URDU = 2002  # a person whose Telegram app is set to Urdu


def _load_extractor():
    spec = importlib.util.spec_from_file_location(
        "extract_messages", ROOT / "scripts" / "extract_messages.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


extractor = _load_extractor()


@pytest.fixture(scope="module")
def template() -> Catalog:
    """What the source asks to translate, extracted now (not the committed .pot)."""
    return extractor.template()


@pytest.fixture(scope="module")
def urdu_catalog() -> Catalog:
    with i18n.po_path("ur").open("rb") as file:
        return read_po(file, locale="ur")


def fields(text: str) -> Counter[str]:
    """The `{placeholders}` of a message; raises on a stray brace, as str.format would."""
    return Counter(name for _, name, _, _ in Formatter().parse(text) if name is not None)


def markup(text: str) -> Counter[str]:
    """HTML tags and entities: Telegram refuses a message whose tags do not match."""
    return Counter(re.findall(r"</?[a-z]+>|&[a-z]+;", text))


def pairs(message: Message) -> list[tuple[str, str]]:
    """(English, Urdu) for each form; a plural message has its singular and plural form."""
    if isinstance(message.id, tuple | list):
        return list(zip(message.id, message.string, strict=True))
    return [(message.id, message.string)]


def test_urdu_catalog_has_the_plural_rule(urdu_catalog):
    assert urdu_catalog.plural_forms == "nplurals=2; plural=(n != 1);"


def test_the_source_has_messages_to_translate(template):
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    assert len(ids) > 200
    assert {"No active incident", "Choose a language:", "{n} person"} <= ids


def test_every_message_in_the_source_has_an_urdu_translation(template, urdu_catalog):
    untranslated = []
    for message in template:
        if not message.id:
            continue
        found = urdu_catalog.get(message.id)
        forms = found.string if found is not None else None
        if isinstance(forms, tuple | list):
            complete = len(forms) == 2 and all(forms)
        else:
            complete = bool(forms)
        if found is None or found.fuzzy or not complete:
            untranslated.append(message.id)
    assert not untranslated, (
        "run `python scripts/extract_messages.py` and translate these in "
        f"bot/locale/ur/LC_MESSAGES/messages.po: {untranslated}"
    )


def test_translations_keep_placeholders_and_markup(template, urdu_catalog):
    for message in template:
        found = urdu_catalog.get(message.id) if message.id else None
        if found is None:
            continue  # reported by the test above
        for english, urdu in pairs(found):
            assert fields(urdu) == fields(english), (english, urdu)
            assert markup(urdu) == markup(english), (english, urdu)


def test_urdu_translations_isolate_commands(urdu_catalog):
    """`/status x pk` inside right-to-left text keeps its slash in front only when isolated."""
    command = re.compile(r"(?<![\w/<])/[a-z_]+|\{command\}")  # not </b>
    for message in urdu_catalog:
        if not message.id:
            continue
        for _english, urdu in pairs(message):
            depth, inside = 0, []
            for char in urdu:
                depth += (char == FSI) - (char == PDI)
                assert depth >= 0, urdu
                inside.append(depth > 0)
            assert depth == 0, f"unbalanced isolates: {urdu!r}"
            for match in command.finditer(urdu):
                assert inside[match.start()], f"{match.group()} not isolated in {urdu!r}"


# ---------------------------------------------------------------- through the real stack


def isolated(name: str) -> str:
    return f"{FSI}{name}{PDI}"


def urdu_speaker(harness):
    return harness.chat(user_id=URDU, first_name="Sana", language_code="ur")


async def one(driver, text: str):
    [reply] = await driver.send(text)
    return reply


async def test_urdu_user_gets_help_and_start_in_urdu(bot_harness):
    urdu = urdu_speaker(bot_harness)
    help_reply = await one(urdu, "/help")
    assert "مثالیں" in help_reply.plain and "ذرائع" in help_reply.plain
    assert isolated("/status X Pakistan") in help_reply.plain
    assert "Examples:" not in help_reply.plain
    assert "either order works" not in help_reply.plain

    start = await one(urdu, "/start")
    assert "السلام علیکم" in start.plain
    assert isolated("Sana") in start.plain
    assert "Hello" not in start.plain and "More examples" not in start.plain


async def test_urdu_user_gets_the_status_card_in_urdu(bot_harness):
    english = (await bot_harness.send("/status X Pakistan")).plain
    card = await one(urdu_speaker(bot_harness), "/status X Pakistan")
    text = card.plain
    assert isolated("X") in text
    assert "پاکستان" in text
    assert "مارچ" in text and "فروری 2024" in text  # Urdu month names
    assert "تازہ ترین:" in text and "عروج:" in text and "ٹائم لائن پر تازہ ترین" in text
    assert "بلاک" in text
    for sentence in (
        "No active incident",
        "Latest:",
        "Peak:",
        "Typical:",
        "Last incident:",
        "is blocked in",
        "Latest on the timeline",
        "As of ",
    ):
        assert sentence in english
        assert sentence not in text
    labels = [button["text"] for row in card.buttons for button in row]
    assert labels == [
        "🕒 ٹائم لائن",
        "💬 کیا کہا گیا",
        "📜 پابندی کا ریکارڈ",
        "📚 ذرائع",
        "📈 چارٹ",
        "🔄 تازہ کریں",
        "🔔 سبسکرائب",
    ]


async def test_urdu_user_gets_errors_and_usage_in_urdu(bot_harness):
    urdu = urdu_speaker(bot_harness)
    unknown = await one(urdu, "/status twiterr pakistan")
    assert "نہیں پہچانتا" in unknown.plain and isolated("twiterr") in unknown.plain
    usage = await one(urdu, "/timeline")
    assert "مثلاً" in usage.plain and "Tell me" not in usage.plain


async def test_language_command_switches_an_english_user_and_back(bot_harness):
    assert "Examples:" in (await bot_harness.send("/help")).plain

    chosen = await bot_harness.send("/language ur")
    assert "اب سے میں آپ کو" in chosen.plain
    assert "مثالیں" in (await bot_harness.send("/help")).plain
    assert "کوئی جاری واقعہ نہیں" in (await bot_harness.send("/status X Pakistan")).plain

    back = await bot_harness.send("/language en")
    assert back.plain == "I'll answer you in English from now on."
    assert (await bot_harness.send("/help")).text == help_text()


async def test_language_buttons_choose_urdu(bot_harness):
    menu = await bot_harness.send("/language")
    assert menu.callback_data == ["lang|en", "lang|ur"]
    [edited] = await bot_harness.driver.press(menu, "lang|ur")
    assert "اردو" in edited.plain
    assert "مثالیں" in (await bot_harness.send("/help")).plain


async def test_a_chosen_language_overrides_telegrams(bot_harness):
    urdu = urdu_speaker(bot_harness)
    await one(urdu, "/language en")
    assert "Examples:" in (await one(urdu, "/help")).plain


async def test_urdu_command_menu_is_set_beside_the_english_one(bot_harness):
    calls = [params for method, params in bot_harness.api.calls if method == "setMyCommands"]
    assert [params.get("language_code") for params in calls] == [None, "ur"]

    english = await bot_harness.application.bot.get_my_commands()
    assert [(c.command, c.description) for c in english] == COMMANDS
    urdu = await bot_harness.application.bot.get_my_commands(language_code="ur")
    assert [c.command for c in urdu] == [name for name, _ in COMMANDS]
    assert urdu[0].description == f"کیا بند ہے: {isolated('/status X Pakistan')}"
    assert all(c.description != english[i].description for i, c in enumerate(urdu))


async def test_english_user_still_reads_english(bot_harness):
    card = (await bot_harness.send("/status X Pakistan")).plain
    assert FSI not in card and PDI not in card
    assert "🇵🇰 X in Pakistan" in card and "No active incident" in card
    assert "Latest: 45 reports, Tue 11 Mar 2025, 00:06 PKT (19:06 UTC 10 Mar)" in card


# ---------------------------------------------------------------- alerts


async def test_alerts_come_in_the_language_the_person_chose(bot_harness):
    now = bot_harness.clock.now()
    urdu = urdu_speaker(bot_harness)
    await one(urdu, "/language ur")
    await one(urdu, "/subscribe X Pakistan")
    await bot_harness.send("/subscribe X Pakistan")  # English, in another chat
    data = {
        "observations": [
            {
                "service": "x",
                "region": "pk",
                "count": 90,
                "source": "Test monitor",
                "at": (now - timedelta(minutes=15)).astimezone(UTC).isoformat(),
            }
        ]
    }
    services = bot_harness.services
    await import_dataset(services.db, parse_dataset(json.dumps(data), services.catalog))
    assert (await services.summaries.refresh(now)).queued == 2
    assert await services.delivery.drain() == 2

    def alert_to(chat_id: int) -> str:
        [text] = [
            m.plain
            for m in bot_harness.api.sent
            if m.chat_id == chat_id and ("/status x pk" in m.plain) and "⛔" in m.plain
        ]
        return text

    assert "X in Pakistan: outage" in alert_to(bot_harness.driver.chat_id)
    in_urdu = alert_to(URDU)
    assert "پاکستان" in in_urdu and isolated("X") in in_urdu and "بندش" in in_urdu
    assert "outage" not in in_urdu and "typical" not in in_urdu


def test_urdu_numbers_and_dates_come_from_the_locale():
    with i18n.use_language("ur"):
        assert i18n.number(40000) == "40,000"
        assert i18n.day(datetime(2025, 3, 10).date()) == "پیر 10 مارچ 2025"
        assert i18n.region_name("PK", "Pakistan") == "پاکستان"
        assert i18n.ngettext("{count} report", "{count} reports", 2) == "{count} رپورٹس"
    assert i18n.day(datetime(2025, 3, 10).date()) == "Mon 10 Mar 2025"


async def test_a_language_chosen_on_one_replica_reaches_the_others_at_their_next_follow_tick(
    make_harness,
):
    """Replicas share the database, not their memory: each re-reads choices every few seconds."""
    async for first in make_harness():
        async for second in make_harness():
            assert "Examples:" in (await second.send("/help")).plain  # second now knows "none"
            await first.send("/language ur")
            [follow] = second.application.job_queue.get_jobs_by_name(FOLLOW_JOB)
            await follow.run(second.application)
            assert "مثالیں" in (await second.send("/help")).plain


POLISH_PO = """msgid ""
msgstr ""
"Language: pl\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=3; plural=RULE;\\n"

msgid "{n} report"
msgid_plural "{n} reports"
msgstr[0] "{n} zgłoszenie"
msgstr[1] "{n} zgłoszenia"
msgstr[2] "{n} zgłoszeń"
""".replace("RULE", "(n==1 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)")


def test_plural_forms_follow_the_catalogs_own_rule(tmp_path, monkeypatch):
    """A language with three forms gets the middle one for 2-4 (not the first or last)."""
    folder = tmp_path / "pl" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(POLISH_PO, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setitem(i18n.LANGUAGES, "pl", "Polski")
    i18n._messages.cache_clear()
    try:
        with i18n.use_language("pl"):
            forms = [i18n.ngettext("{n} report", "{n} reports", n) for n in (1, 3, 5, 22, 112)]
    finally:
        i18n._messages.cache_clear()
    assert forms == [
        "{n} zgłoszenie",
        "{n} zgłoszenia",
        "{n} zgłoszeń",
        "{n} zgłoszenia",
        "{n} zgłoszeń",
    ]

import pickle
import zoneinfo

import pycountry
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.catalog import (
    GLOBAL,
    Catalog,
    Region,
    Service,
    UnknownName,
    country_zones,
    default_catalog,
    normalise,
)

CATALOG = default_catalog()


# --------------------------------------------------------------------------- normalise


def test_normalise_folds_case_accents_quotes_and_spacing():
    assert normalise("  PAKISTAN ") == "pakistan"
    assert normalise("Côte d’Ivoire") == normalise("cote d'ivoire") == "cote d ivoire"
    assert normalise('"Türkiye"') == "turkiye"
    assert normalise("𝕏") == "x"
    assert normalise("...") == ""


# --------------------------------------------------------------------------- services


@pytest.mark.parametrize(
    "text", ["x", "X", "𝕏", "x.com", "Twitter", "twitter.com", "formerly twitter"]
)
def test_twitter_alias_resolves_to_x(text):
    assert CATALOG.resolve_service(text).key == "x"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("fb", "facebook"),
        ("Meta", "facebook"),
        ("insta", "instagram"),
        ("whats app", "whatsapp"),
        ("WhatsApp", "whatsapp"),
        ("yt", "youtube"),
        ("t.me", "telegram"),
        ("tik tok", "tiktok"),
        ("Signal.org", "signal"),
        ("snap", "snapchat"),
        ("threads.net", "threads"),
        ("discord", "discord"),
        ("google.com", "google"),
        ("whole internet", "internet"),
        ("Chat GPT", "chatgpt"),
    ],
)
def test_service_aliases_resolve(text, key):
    assert CATALOG.find_service(text) == CATALOG.service(key)


def test_spacing_inside_a_name_does_not_matter():
    assert CATALOG.find_service("You Tube").key == "youtube"
    assert CATALOG.find_region("new-zealand").code == "NZ"


def test_gmail_is_not_an_alias_for_google():
    assert CATALOG.find_service("gmail") is None


def test_there_are_at_least_twelve_services_with_unique_keys():
    keys = [s.key for s in CATALOG.services]
    assert len(keys) >= 12
    assert len(set(keys)) == len(keys)
    assert all(key == key.lower() for key in keys)


def test_internet_is_a_service_for_country_wide_shutdowns():
    internet = CATALOG.service("internet")
    assert internet.name == "Internet"
    assert CATALOG.find_service("connectivity") is internet


def test_service_by_unknown_key_raises_key_error():
    with pytest.raises(KeyError):
        CATALOG.service("myspace")


def test_every_named_web_service_has_a_domain():
    for service in CATALOG.services:
        if service.key != "internet":
            assert service.domains, service.key


# --------------------------------------------------------------------------- regions


@pytest.mark.parametrize("text", ["côte d'ivoire", "COTE D IVOIRE", "Ivory Coast", "CIV", "ci"])
def test_ivory_coast_spellings_resolve_to_ci(text):
    assert CATALOG.resolve_region(text).code == "CI"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("UK", "GB"),
        ("Britain", "GB"),
        ("England", "GB"),
        ("United Kingdom of Great Britain and Northern Ireland", "GB"),
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("America", "US"),
        ("United States of America", "US"),
        ("UAE", "AE"),
        ("Emirates", "AE"),
        ("Russia", "RU"),
        ("Russian Federation", "RU"),
        ("South Korea", "KR"),
        ("North Korea", "KP"),
        ("Iran", "IR"),
        ("Vietnam", "VN"),
        ("Viet Nam", "VN"),
        ("Turkey", "TR"),
        ("Türkiye", "TR"),
        ("turkiye", "TR"),
        ("Czech Republic", "CZ"),
        ("Czechia", "CZ"),
        ("Burma", "MM"),
        ("Holland", "NL"),
        ("Syria", "SY"),
        ("Laos", "LA"),
        ("Bolivia", "BO"),
        ("Venezuela", "VE"),
        ("Tanzania", "TZ"),
        ("Moldova", "MD"),
        ("Palestine", "PS"),
        ("Vatican", "VA"),
        ("Macau", "MO"),
        ("Macao", "MO"),
        ("PAK", "PK"),
        ("Islamic Republic of Pakistan", "PK"),
    ],
)
def test_region_aliases_resolve(text, code):
    assert CATALOG.find_region(text) == CATALOG.region(code)


@pytest.mark.parametrize("text", ["worldwide", "World", "global", "everywhere", "all"])
def test_global_resolves_from_worldwide(text):
    assert CATALOG.resolve_region(text) is GLOBAL
    assert GLOBAL.timezone == "UTC"


def test_kosovo_is_not_a_region():
    assert CATALOG.find_region("Kosovo") is None


def test_every_pycountry_country_is_a_region():
    codes = {r.code for r in CATALOG.regions}
    for country in pycountry.countries:
        assert country.alpha_2 in codes
        assert CATALOG.find_region(country.alpha_3).code == country.alpha_2
        assert CATALOG.find_region(country.name).code == country.alpha_2
    assert len(CATALOG.regions) == len(pycountry.countries) + 1


def test_every_region_zone_loads():
    for region in CATALOG.regions:
        assert zoneinfo.ZoneInfo(region.timezone).key == region.timezone


@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("PK", "Asia/Karachi"),
        ("US", "America/New_York"),
        ("GB", "Europe/London"),
        ("AE", "Asia/Dubai"),
        # The first zone.tab row for these is an outlying zone; see _PREFERRED_ZONES.
        ("UA", "Europe/Kyiv"),
        ("RU", "Europe/Moscow"),
        ("AU", "Australia/Sydney"),
        ("BR", "America/Sao_Paulo"),
        ("CA", "America/Toronto"),
        ("UZ", "Asia/Tashkent"),
        ("PS", "Asia/Hebron"),
        # No row in any table: uninhabited.
        ("BV", "UTC"),
    ],
)
def test_region_zone_is_the_one_most_people_use(code, zone):
    assert CATALOG.region(code).timezone == zone


def test_every_region_zone_comes_from_tzdata_tables():
    zones = country_zones()
    for region in CATALOG.regions:
        if region.timezone != "UTC":
            assert region.timezone in zones[region.code], region.code


def test_display_names_read_naturally():
    names = {code: CATALOG.region(code).name for code in ("IR", "RU", "TW", "SY", "BO", "CD", "GB")}
    assert names == {
        "IR": "Iran",
        "RU": "Russia",
        "TW": "Taiwan",
        "SY": "Syria",
        "BO": "Bolivia",
        "CD": "DR Congo",
        "GB": "United Kingdom",
    }


def test_region_by_code_is_exact():
    assert CATALOG.region("PK").name == "Pakistan"
    assert CATALOG.region("global") is GLOBAL
    with pytest.raises(KeyError):
        CATALOG.region("XK")


def test_two_letter_codes_shared_with_service_aliases_stay_in_their_own_kind():
    assert CATALOG.find_service("yt").key == "youtube"
    assert CATALOG.find_region("yt").code == "YT"
    assert CATALOG.find_service("tg").key == "telegram"
    assert CATALOG.find_region("tg").code == "TG"


@given(st.sampled_from(CATALOG.regions))
def test_region_found_by_upper_name_and_lower_code(region):
    assert CATALOG.find_region(region.name.upper()) is region
    assert CATALOG.find_region(region.code.lower()) is region


@given(st.sampled_from(CATALOG.services))
def test_service_found_by_upper_name_and_key(service):
    assert CATALOG.find_service(service.name.upper()) is service
    assert CATALOG.find_service(service.key) is service


# --------------------------------------------------------------------------- suggestions


@pytest.mark.parametrize(
    ("kind", "text", "first"),
    [
        ("region", "pakistn", "Pakistan"),
        ("region", "untied kingdom", "United Kingdom"),
        ("region", "kazakstan", "Kazakhstan"),
        ("service", "twiter", "X"),
        ("service", "facebok", "Facebook"),
        ("service", "instagarm", "Instagram"),
    ],
)
def test_unknown_name_carries_up_to_three_suggestions_best_first(kind, text, first):
    resolve = CATALOG.resolve_region if kind == "region" else CATALOG.resolve_service
    with pytest.raises(UnknownName) as caught:
        resolve(text)
    error = caught.value
    assert (error.kind, error.text) == (kind, text)
    assert 1 <= len(error.suggestions) <= 3
    assert error.suggestions[0] == first
    assert first in str(error)


def test_suggestions_are_display_names_without_duplicates():
    # "korea" is close to several names and aliases of both Koreas.
    suggestions = CATALOG.suggest_regions("korea", limit=5)
    assert set(suggestions) >= {"South Korea", "North Korea"}
    assert len(suggestions) == len(set(suggestions))


def test_suggestions_respect_limit():
    assert len(CATALOG.suggest_regions("islands", limit=5)) == 5
    assert len(CATALOG.suggest_regions("islands")) == 3
    assert CATALOG.suggest_regions("islands", limit=0) == []


def test_junk_gets_no_suggestions():
    assert CATALOG.suggest_regions("zz") == []
    assert CATALOG.suggest_services("zz") == []
    assert CATALOG.suggest_services("") == []
    with pytest.raises(UnknownName) as caught:
        CATALOG.resolve_service("qqqq")
    assert caught.value.suggestions == []


def test_short_codes_do_not_swamp_suggestions():
    # "ki" (Kiribati) and "in" (India) sit inside the words; only the UK should come back.
    assert CATALOG.suggest_regions("untied kingdom") == ["United Kingdom"]


def test_unknown_name_survives_pickling():
    error = UnknownName("region", "atlantis", ["Atlantica", "Antarctica", "Andorra", "Angola"])
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.kind, copy.text, copy.suggestions) == (
        "region",
        "atlantis",
        ["Atlantica", "Antarctica", "Andorra"],
    )


# --------------------------------------------------------------------------- building


def test_a_name_shared_by_two_services_is_refused():
    with pytest.raises(ValueError, match="both"):
        Catalog([Service("a", "A", ("same",)), Service("b", "B", ("Same",))], [GLOBAL])


def test_a_duplicate_region_code_is_refused():
    with pytest.raises(ValueError, match="duplicate"):
        Catalog([], [GLOBAL, Region("global", "Earth", "UTC")])


def test_default_catalog_is_built_once():
    assert default_catalog() is CATALOG

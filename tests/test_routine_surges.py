"""A pair that surges every day is not news every day: a routine surge opens nothing.

On NAB's UPS series a spam wave pushed mentions from ~5 to ~500 every few hours for weeks;
each one was an alert. A surge no higher than three of the pair's surges in the past week is
routine for it: the card says so and nobody is woken, until a surge outgrows them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.core.detection import Detector, Thresholds
from bot.delivery.outbox import Delivery
from bot.imports.dataset import parse_dataset
from storage.imports import import_dataset
from storage.records import Observation
from storage.subscriptions import subscribe

START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
BUCKET = timedelta(minutes=15)
QUIET = [3] * 56  # 14 hours between surges: past the 12-hour cooldown, so each is its own
SURGE = [200, 220, 180]
EARLIER = (QUIET + SURGE) * 3 + QUIET  # three surges at least as high, then quiet
AFTER_THEM = START + len(EARLIER) * BUCKET


def rows(counts: list[int], start: datetime = START) -> list[Observation]:
    return [Observation("x", "PK", start + i * BUCKET, c, "Test") for i, c in enumerate(counts)]


def told(detector: Detector, counts: list[int], start: datetime = START) -> list[str]:
    return [change.kind for row in rows(counts, start) for change in detector.step(row)]


def test_a_fourth_surge_no_higher_than_three_this_week_opens_nothing():
    detector = Detector(Thresholds())
    assert told(detector, EARLIER).count("opened") == 3
    assert told(detector, SURGE, AFTER_THEM) == []
    assert detector.routine() == 3 and not detector.open


def test_a_surge_that_outgrows_the_routine_ones_opens_from_its_first_raised_reading():
    detector = Detector(Thresholds())
    told(detector, [*EARLIER, 150, 190, 600, 650])
    incident = detector.incidents()[-1]
    assert incident.ongoing and incident.level == "outage" and incident.peak.count == 650
    assert incident.start == AFTER_THEM  # the 150, not the 600


def test_surges_older_than_the_window_no_longer_make_one_routine():
    detector = Detector(Thresholds(routine_window=timedelta(days=2)))
    told(detector, EARLIER)
    assert told(detector, SURGE, AFTER_THEM) == []  # all three within two days
    later = START + timedelta(days=5)
    assert told(detector, [3] * 8 + SURGE, later).count("opened") == 1


def test_routine_after_zero_tells_every_surge():
    detector = Detector(Thresholds(routine_after=0))
    kinds = told(detector, (QUIET + SURGE) * 5 + QUIET)
    assert kinds.count("opened") == 5


def test_a_restored_detector_remembers_this_weeks_surges():
    rules = Thresholds()
    detector = Detector(rules)
    told(detector, EARLIER)
    restored = Detector.restored(detector.state(), rules)
    assert restored is not None
    restored.resume(None)
    assert told(restored, SURGE, AFTER_THEM) == told(detector, SURGE, AFTER_THEM) == []
    assert restored.routine() == detector.routine() == 3


async def test_a_subscriber_hears_three_surges_not_the_routine_fourth_and_the_card_says_why(
    make_harness,
):
    waves = [QUIET + SURGE] * 4 + [[*QUIET, 700, 750]]
    async for harness in make_harness(at=START):
        services = harness.services
        services.delivery = Delivery(harness.application.bot, services.db, services.clock)
        chat = 8101
        await subscribe(
            services.db,
            chat,
            kind="private",
            title=None,
            service="youtube",
            region="PK",
            min_level="elevated",
            at=START,
            limit=50,
        )
        heard: list[tuple[int, int]] = []
        cards: list[str] = []
        at = START
        for wave in waves:
            data = {
                "observations": [
                    {
                        "service": "youtube",
                        "region": "pk",
                        "count": c,
                        "source": "Test monitor",
                        "at": (at + i * BUCKET).isoformat(),
                    }
                    for i, c in enumerate(wave)
                ]
            }
            await import_dataset(services.db, parse_dataset(json.dumps(data), services.catalog))
            at += len(wave) * BUCKET
            harness.clock.set(at)
            await services.summaries.refresh(at)
            await services.delivery.drain()
            alerts = [m.plain for m in harness.api.sent if m.chat_id == chat]
            ended = sum("back to normal" in text for text in alerts)
            heard.append((len(alerts) - ended, ended))
            cards.append((await harness.send("/status youtube pakistan")).plain)
        # (surges told, ends told) after each wave: nothing for the routine fourth
        assert heard == [(1, 0), (2, 1), (3, 2), (3, 3), (4, 3)]
        assert "🟡 Reports of YouTube in Pakistan are up, as they often are lately (180" in cards[3]
        assert (
            "No alert for this one: YouTube here had 3 surges at least this high in the past 7"
            " days. A higher one is told." in cards[3]
        )
        timeline = cards[3].split("Latest on the timeline")[1].split("📜")[0]
        assert "15:45 PKT (10:45 UTC) · 180 reports — Test monitor" in timeline  # this surge's
        assert "· 3 reports" not in timeline  # not the quiet after the last incident
        assert "No alert for this one" not in cards[2] + cards[4]
        assert "🔴 YouTube is down in Pakistan only (180 here" in cards[2]
        assert "Outage now" in cards[4]

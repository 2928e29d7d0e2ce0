"""User-facing text that is not a card: one place, so it can be translated.

Module-level texts are marked with `N_` and translated where they are used (`_(STATUS_USAGE)`):
a string translated at import time would stay in the language of whoever imported it.
"""

from __future__ import annotations

import html
import re

from bot.core.catalog import UnknownName
from bot.render.i18n import N_, _, name, number

STATUS_USAGE = N_(
    "Tell me what to look up, for example:\n"
    "/status X Pakistan — the card for one service in one country\n"
    '/status x "united kingdom" — quotes are optional for names with spaces\n'
    "/status youtube — a service in every country, busiest first\n"
    "/status pakistan — every service in a country"
)

TIMELINE_USAGE = N_(
    "Tell me the pair and, if you like, the window, for example:\n"
    "/timeline X Pakistan — the last 24 hours\n"
    "/timeline x pk 48 — the last 48 hours (1 to 720)\n"
    "/timeline x pk 2025-03-10 — that whole day, on the country's clock\n"
    "/timeline x pk 2025-03-10..2025-03-11 — those days, first to last"
)

# English descriptions for the default menu; bot/app/application.py sets a translated menu
# per language.
COMMANDS: list[tuple[str, str]] = [
    ("status", N_("What's down: /status X Pakistan")),
    ("timeline", N_("Every reading and event for a pair: /timeline X Pakistan")),
    ("report", N_("Report a problem: /report X Pakistan app")),
    ("incidents", N_("Recent incidents: /incidents X Pakistan")),
    ("chart", N_("Reports vs typical as a picture: /chart X Pakistan")),
    ("language", N_("English or Urdu / انگریزی یا اردو")),
    ("subscribe", N_("Alerts for a service/country: /subscribe X Pakistan")),
    ("unsubscribe", N_("Stop alerts: pick from a list, or /unsubscribe X Pakistan")),
    ("subscriptions", N_("This chat's alerts and quiet hours")),
    ("quiet", N_("Silent alerts at night: /quiet 22:00-07:00 pakistan")),
    ("help", N_("How to use the bot, with examples")),
    ("start", N_("About outagebot")),
]


# Enough to recognise a typo; a whole pasted paragraph quoted back could push the reply past
# Telegram's 4,096 characters, and then the person would get no answer at all.
ECHO_LIMIT = 48
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]+")


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def echo(typed: str) -> str:
    """What a person typed, quoted back in a reply: short, escaped and in its own direction.

    Control and direction characters become a space, so a quoted word cannot reorder or break
    the sentence around it.
    """
    text = " ".join(_CONTROL.sub(" ", typed).split())
    if len(text) > ECHO_LIMIT:
        text = text[: ECHO_LIMIT - 1].rstrip() + "…"
    return name(_escape(text))


def start_text(first_name: str | None) -> str:
    hello = (
        _("Hello, {name}!").format(name=name(_escape(first_name))) if first_name else _("Hello!")
    )
    return (
        hello
        + " "
        + _(
            "I tell you <b>what is down, where, how badly, since when</b>, and "
            "<b>whether it is blocked</b> — with the source of every figure."
        )
        + "\n\n"
        + _("Try: /status X Pakistan")
        + "\n"
        + _("More examples: /help")
    )


def help_text() -> str:
    """The /help text in the current language, one message id per paragraph."""
    return "\n\n".join(
        [
            _("<b>outagebot</b> — outages and blocks, with sources"),
            _(
                "<b>/status</b> &lt;service&gt; &lt;country&gt; — report counts (latest, peak, "
                "typical), a timeline in local time and UTC, claims about the cause with who made "
                "them, and any block or shutdown with its legal record.\n"
                "Examples:\n"
                "• /status X Pakistan\n"
                "• /status pakistan twitter — either order works\n"
                '• /status x "united kingdom" — names with spaces, quoted or not\n'
                "• /status x — X in every country, busiest first\n"
                "• /status pakistan — every service in Pakistan"
            ),
            _(
                "<b>/timeline</b> &lt;service&gt; &lt;country&gt; [hours | YYYY-MM-DD] — every "
                "reading and event for a pair with its source, oldest first, in pages: the last "
                "24 hours, the last 1–720 hours, or one whole local day. "
                "Example: /timeline X Pakistan 2025-03-10"
            ),
            _(
                "<b>/report</b> &lt;service&gt; &lt;country&gt; [problem] — tell me it is down for "
                "you; problem is app, website, login, feed, messages or other. Each person counts "
                "once per 15 minutes per pair. Example: /report X Pakistan app"
            ),
            _(
                "<b>/chart</b> &lt;service&gt; &lt;country&gt; — reports vs typical as a picture, "
                "in local time. The status card has buttons too: Refresh, Timeline, Chart, "
                "Subscribe.\n"
                "Inline: type <code>@bot x pakistan</code> in any chat to share a card."
            ),
            _(
                "<b>/incidents</b> [service] [country] — recent incidents with when, how long and "
                "the peak. Example: /incidents X Pakistan"
            ),
            _(
                "<b>/subscribe</b> &lt;service&gt; [country] [elevated | outage] — an alert in "
                "this chat when it goes down; a service alone means every country, a country "
                "alone every service. <b>/subscriptions</b> lists them, <b>/unsubscribe</b> stops "
                "one, <b>/quiet</b> 22:00-07:00 [country or time zone] makes alerts silent at "
                "night. In groups only admins change them. Example: /subscribe X Pakistan outage"
            ),
            _(
                "<b>/broadcast</b> &lt;text&gt; — for the bot's admins: post the text to its "
                "channel."
            ),
            _(
                "Names: services by name or alias (twitter, x.com, fb, ig, yt…); countries by "
                "name, two- or three-letter code, or common alias (UK, USA, UAE, pk). 'global' "
                "means worldwide."
            ),
            _(
                "Figures come from the cited sources (Downdetector counts as quoted by the press, "
                "observatories like NetBlocks); claims that disagree are shown side by side."
            ),
        ]
    )


CHART_USAGE = N_("For example: /chart X Pakistan — reports vs typical as a picture")

INCIDENTS_USAGE = N_(
    "For example: /incidents (everything), /incidents x (X everywhere), "
    "/incidents pakistan, /incidents X Pakistan"
)

BROADCAST_USAGE = N_(
    "Write the message after the command, for example:\n"
    "/broadcast Maintenance tonight: figures may lag by an hour."
)
BROADCAST_ADMINS_ONLY = N_("Only the bot's admins can post to its channel, so nothing was sent.")
BROADCAST_NO_CHANNEL = N_(
    "There is no channel to post to: set OUTAGEBOT_CHANNEL_ID (a numeric id or @username) "
    "and restart the bot. If it is set, the log says why the channel could not be found."
)
BROADCAST_QUEUED = N_("Queued for the channel; it goes out within moments.")
BROADCAST_ALREADY_QUEUED = N_("That message was queued for the channel already.")


def broadcast_too_long(length: int, limit: int) -> str:
    return _(
        "That is {length} characters; Telegram allows {limit} in a message. Nothing was sent."
    ).format(length=number(length), limit=number(limit))


STORAGE_FAILING = N_(
    "Sorry, I can't save anything right now: my storage is failing (its disk is full or "
    "read-only), so that was not recorded. Please try again later."
)

SOMETHING_WENT_WRONG = N_(
    "Sorry, something went wrong on my side while answering that. It has been logged; "
    "please try again in a minute."
)

# A whole sentence per kind of name: the word order around the name differs between languages.
_UNKNOWN = {
    "service": N_("I don't know the service “{name}”."),
    "region": N_("I don't know the country or region “{name}”."),
    "service or country": N_("I don't know the service or country “{name}”."),
}


def unknown_name_text(error: UnknownName, command: str = "/status") -> str:
    typed = echo(error.text)
    if error.kind in _UNKNOWN:
        text = _(_UNKNOWN[error.kind]).format(name=typed)
    else:
        text = _("I don't know the {what} “{name}”.").format(what=_escape(error.kind), name=typed)
    if error.suggestions:
        names = ", ".join(f"<b>{name(_escape(option))}</b>" for option in error.suggestions)
        text += "\n" + _("Did you mean: {names}?").format(names=names)
    text += "\n" + _("Example: {command} X Pakistan · all names: /help").format(command=command)
    return text

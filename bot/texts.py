"""User-facing text that is not a card: one place, so it can be translated later."""

from __future__ import annotations

import html

from bot.catalog import UnknownName

STATUS_USAGE = (
    "Tell me what to look up, for example:\n"
    "/status X Pakistan — the card for one service in one country\n"
    '/status x "united kingdom" — quotes are optional for names with spaces\n'
    "/status youtube — a service in every country, busiest first\n"
    "/status pakistan — every service in a country"
)

TIMELINE_USAGE = (
    "Tell me the pair and, if you like, the window, for example:\n"
    "/timeline X Pakistan — the last 24 hours\n"
    "/timeline x pk 48 — the last 48 hours (1 to 720)\n"
    "/timeline x pk 2025-03-10 — that whole day, on the country's clock"
)

COMMANDS: list[tuple[str, str]] = [
    ("status", "What's down: /status X Pakistan"),
    ("timeline", "Every reading and event for a pair: /timeline X Pakistan"),
    ("report", "Report a problem: /report X Pakistan app"),
    ("incidents", "Recent incidents: /incidents X Pakistan"),
    ("chart", "Reports vs typical as a picture: /chart X Pakistan"),
    ("language", "English or Urdu / انگریزی یا اردو"),
    ("subscribe", "Alerts for a service/country: /subscribe X Pakistan"),
    ("unsubscribe", "Stop alerts: pick from a list, or /unsubscribe X Pakistan"),
    ("subscriptions", "This chat's alerts and quiet hours"),
    ("quiet", "Silent alerts at night: /quiet 22:00-07:00 pakistan"),
    ("help", "How to use the bot, with examples"),
    ("start", "About outagebot"),
]


def start_text(first_name: str | None) -> str:
    who = f", {html.escape(first_name, quote=False)}" if first_name else ""
    return (
        f"Hello{who}! I tell you <b>what is down, where, how badly, since when</b>, and "
        "<b>whether it is blocked</b> — with the source of every figure.\n\n"
        "Try: /status X Pakistan\n"
        "More examples: /help"
    )


HELP_TEXT = (
    "<b>outagebot</b> — outages and blocks, with sources\n\n"
    "<b>/status</b> &lt;service&gt; &lt;country&gt; — report counts (latest, peak, typical), "
    "a timeline in local time and UTC, claims about the cause with who made them, and any "
    "block or shutdown with its legal record.\n"
    "Examples:\n"
    "• /status X Pakistan\n"
    "• /status pakistan twitter — either order works\n"
    '• /status x "united kingdom" — names with spaces, quoted or not\n'
    "• /status x — X in every country, busiest first\n"
    "• /status pakistan — every service in Pakistan\n\n"
    "<b>/timeline</b> &lt;service&gt; &lt;country&gt; [hours | YYYY-MM-DD] — every reading and "
    "event for a pair with its source, oldest first, in pages: the last 24 hours, the last "
    "1–720 hours, or one whole local day. Example: /timeline X Pakistan 2025-03-10\n\n"
    "<b>/report</b> &lt;service&gt; &lt;country&gt; [problem] — tell me it is down for you; "
    "problem is app, website, login, feed, messages or other. Each person counts once per "
    "15 minutes per pair. Example: /report X Pakistan app\n\n"
    "<b>/chart</b> &lt;service&gt; &lt;country&gt; — reports vs typical as a picture, in local "
    "time. The status card has buttons too: Refresh, Timeline, Chart, Subscribe.\n"
    "Inline: type <code>@bot x pakistan</code> in any chat to share a card.\n\n"
    "<b>/incidents</b> [service] [country] — recent incidents with when, how long and the "
    "peak. Example: /incidents X Pakistan\n\n"
    "<b>/subscribe</b> &lt;service&gt; [country] [elevated | outage] — an alert in this chat "
    "when it goes down; a service alone means every country, a country alone every service. "
    "<b>/subscriptions</b> lists them, <b>/unsubscribe</b> stops one, <b>/quiet</b> 22:00-07:00 "
    "[country or time zone] makes alerts silent at night. In groups only admins change them. "
    "Example: /subscribe X Pakistan outage\n\n"
    "<b>/broadcast</b> &lt;text&gt; — for the bot's admins: post the text to its channel.\n\n"
    "Names: services by name or alias (twitter, x.com, fb, ig, yt…); countries by name, "
    "two- or three-letter code, or common alias (UK, USA, UAE, pk). 'global' means worldwide.\n\n"
    "Figures come from the cited sources (Downdetector counts as quoted by the press, "
    "observatories like NetBlocks); claims that disagree are shown side by side."
)

CHART_USAGE = "For example: /chart X Pakistan — reports vs typical as a picture"

INCIDENTS_USAGE = (
    "For example: /incidents (everything), /incidents x (X everywhere), "
    "/incidents pakistan, /incidents X Pakistan"
)

BROADCAST_USAGE = (
    "Write the message after the command, for example:\n"
    "/broadcast Maintenance tonight: figures may lag by an hour."
)
BROADCAST_ADMINS_ONLY = "Only the bot's admins can post to its channel, so nothing was sent."
BROADCAST_NO_CHANNEL = (
    "There is no channel to post to: set OUTAGEBOT_CHANNEL_ID (a numeric id or @username) "
    "and restart the bot. If it is set, the log says why the channel could not be found."
)
BROADCAST_QUEUED = "Queued for the channel; it goes out within moments."
BROADCAST_ALREADY_QUEUED = "That message was queued for the channel already."


def broadcast_too_long(length: int, limit: int) -> str:
    return (
        f"That is {length:,} characters; Telegram allows {limit:,} in a message. Nothing was sent."
    )


SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on my side while answering that. It has been logged; "
    "please try again in a minute."
)


def unknown_name_text(error: UnknownName, command: str = "/status") -> str:
    what = {"service": "service", "region": "country or region"}.get(error.kind, error.kind)
    text = f"I don't know the {what} “{html.escape(error.text, quote=False)}”."
    if error.suggestions:
        names = ", ".join(f"<b>{html.escape(name, quote=False)}</b>" for name in error.suggestions)
        text += f"\nDid you mean: {names}?"
    text += f"\nExample: {command} X Pakistan · all names: /help"
    return text

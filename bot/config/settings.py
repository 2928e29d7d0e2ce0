"""Settings from the environment (prefix ``OUTAGEBOT_``) or a ``.env`` file.

Pydantic validates every value at start, so a typo in a deployment fails loudly with the
variable's name instead of surfacing later as a confusing runtime error.
"""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENV_PREFIX = "OUTAGEBOT_"
TELEGRAM_BASE_URL = "https://api.telegram.org/bot"
# Telegram's rule for setWebhook's secret_token; it comes back in every webhook request's header.
WEBHOOK_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def default_database() -> Path:
    """A file in the user's data directory, so `outagebot` works from any working directory."""
    root = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(root) / "outagebot" / "outagebot.sqlite3"


def default_config_dir() -> Path:
    """The user's config directory: apart from the data directory, so a backup or a copy of
    the database does not carry the reporter key with it."""
    root = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(root) / "outagebot"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        hide_input_in_errors=True,  # a bad value may be the token itself
    )

    token: SecretStr | None = Field(default=None, description="Bot token from @BotFather.")
    base_url: str = Field(
        default=TELEGRAM_BASE_URL,
        description="Bot API base URL; point it at a self-hosted Bot API server if you run one.",
    )
    database: str = Field(
        default_factory=lambda: str(default_database()),
        description="SQLite file path (or sqlite:///file.db), or a postgresql://user@host/db URL.",
    )
    bundled_dataset: bool = Field(
        default=True,
        description="Fill an empty database from the bundled dataset, whichever command opens "
        "it first; false for a database of your own data only.",
    )
    database_pool_size: int = Field(
        default=10, ge=2, le=200, description="PostgreSQL connections per process."
    )
    leader_check_seconds: float = Field(
        default=2.0, gt=0, le=60, description="Replicas: how often a follower checks for a leader."
    )
    follow_seconds: float = Field(
        default=5.0, gt=0, description="Replicas: how often a follower loads fresh summaries."
    )
    admin_ids: Annotated[frozenset[int], NoDecode] = Field(
        default=frozenset(), description="Comma-separated Telegram user ids allowed admin commands."
    )
    channel_id: int | str | None = Field(
        default=None, description="Channel for incident posts: numeric id or @username."
    )
    channel_min_level: Literal["elevated", "outage"] = Field(
        default="outage", description="Incidents at this level or worse get a channel post."
    )
    digest_time: time = Field(
        default=time(20, 0), description="Local time (HH:MM) of the channel's daily digest."
    )
    digest_timezone: str = Field(
        default="UTC", description="IANA time zone of the digest time, e.g. Asia/Karachi."
    )
    refresh_seconds: float = Field(default=60.0, gt=0, description="Summary refresh interval.")
    poll_interval: float = Field(default=0.0, ge=0, description="Pause between getUpdates calls.")
    poll_timeout: int = Field(default=30, ge=0, le=50, description="getUpdates long-poll timeout.")
    concurrent_updates: int = Field(
        default=64,
        ge=1,
        le=1024,
        description="Most updates handled at once; one chat's updates always go in order "
        "(1: one update at a time).",
    )
    report_salt: SecretStr | None = Field(
        default=None,
        description="Secret key for hashing reporters' user ids; the same on every replica. "
        "Without it, the key file's key.",
    )
    report_key_file: Path = Field(
        default_factory=lambda: default_config_dir() / "reporter.key",
        description="Where the reporter key is made and kept (0600) when OUTAGEBOT_REPORT_SALT "
        "is unset: outside the data directory, so a copy of the database cannot be linked to "
        "people.",
    )
    reports_per_hour: int = Field(default=20, ge=1, description="Crowd reports per person/hour.")
    bucket_minutes: int = Field(default=15, ge=1, le=60, description="Report count bucket size.")
    enter_after: int = Field(
        default=2, ge=1, description="Elevated readings running that open an incident."
    )
    leave_after: int = Field(default=4, ge=1, description="Quiet readings that resolve one.")
    baseline_weeks: int = Field(default=6, ge=1, le=52, description="Weeks of history for typical.")
    z_elevated: float = Field(default=6.0, gt=0, description="Robust z for elevated.")
    z_outage: float = Field(default=15.0, gt=0, description="Robust z for outage.")
    z_stay: float = Field(default=3.0, ge=0, description="Robust z that keeps an incident open.")
    outage_ratio: float = Field(default=4.0, ge=1, description="An outage is this × typical.")
    elevated_floor: int = Field(default=10, ge=0, description="Fewest reports that matter.")
    outage_floor: int = Field(default=25, ge=0, description="Fewest reports for an outage.")
    bare_elevated: int = Field(default=20, ge=1, description="Elevated with nothing typical.")
    bare_outage: int = Field(default=50, ge=1, description="Outage with nothing typical.")
    cooldown_hours: float = Field(
        default=12.0, ge=0, description="A new surge this soon after one ends continues it."
    )
    routine_after: int = Field(
        default=3,
        ge=0,
        description="A surge no higher than this many of the pair's recent ones is routine: no "
        "incident (0: never).",
    )
    routine_days: float = Field(
        default=7.0,
        gt=0,
        le=7,
        description="How far back those surges are counted, in days (at most the 7 of the spread).",
    )
    quiet_after_hours: float = Field(
        default=8.0, gt=0, description="Hours without readings that end an incident."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        default="INFO", description="Logging level."
    )
    sources_file: Path | None = Field(
        default=None,
        description="TOML file of outside sources (status pages, IODA, OONI); docs/sources.md.",
    )
    cloudflare_token: SecretStr | None = Field(
        default=None,
        description="Cloudflare API token that can read Radar, for a cloudflare_radar source; "
        "without it that source is skipped.",
    )
    webhook_url: str | None = Field(
        default=None,
        description="Public HTTPS URL Telegram posts updates to; setting it selects webhook mode.",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Secret Telegram sends back with every update (X-Telegram-Bot-Api-Secret-Token)"
        "; 1-256 characters of A-Z, a-z, 0-9, _ and -.",
    )
    webhook_listen: str = Field(
        default="127.0.0.1", description="Address the webhook server listens on (0.0.0.0: all)."
    )
    webhook_port: int = Field(
        default=8443, ge=0, le=65535, description="Port the webhook server listens on."
    )
    webhook_max_connections: int = Field(
        default=40,
        ge=1,
        le=100,
        description="Most simultaneous update requests Telegram may open (its own limit is 100).",
    )

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            if not all(part.lstrip("-").isdigit() for part in parts if part):
                # int()'s own message would quote the value back into the logs
                raise ValueError("must be comma-separated numeric Telegram user ids")
            return frozenset(int(part) for part in parts if part)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("database", mode="before")
    @classmethod
    def _database_target(cls, value: object) -> object:
        """A Path (tests, `--database`) or `~/file` becomes the file it names; URLs stay."""
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, str) and value.startswith("~"):
            return str(Path(value).expanduser())
        if isinstance(value, str):
            from storage.database import database_target

            return database_target(value.strip())  # its ValueError never quotes the URL
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("channel_min_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("digest_time", mode="before")
    @classmethod
    def _parse_clock(cls, value: object) -> object:
        if isinstance(value, str):
            # Strict HH:MM: pydantic alone would also take seconds, offsets and bare numbers.
            match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
            if match is None:
                raise ValueError("must be a time of day as HH:MM, e.g. 20:00")
            return time(int(match[1]), int(match[2]))
        return value

    @field_validator("digest_timezone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value.strip())
        except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError("must be an IANA time zone name, e.g. Asia/Karachi or UTC") from None
        return value.strip()

    @field_validator("sources_file", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("sources_file")
    @classmethod
    def _check_sources_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError("must be the path of an existing sources file (TOML)")
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("webhook_url", "webhook_secret", mode="before")
    @classmethod
    def _blank_webhook_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_url")
    @classmethod
    def _check_webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        # Telegram delivers webhooks over HTTPS only; a reverse proxy may end TLS in front of us.
        if not re.fullmatch(r"https://[^/?#\s]+(/[^?#\s]*)?", value):
            raise ValueError("must be an https:// URL, e.g. https://bot.example.org/telegram")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_SHAPE.fullmatch(value.get_secret_value()):
            # the message names the rule, never the value: it is a secret
            raise ValueError(
                "must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule); make one "
                'with: python -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        return value

    @field_validator("webhook_listen")
    @classmethod
    def _check_listen(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be an address to listen on, e.g. 127.0.0.1 or 0.0.0.0")
        return value.strip()

    def token_value(self) -> str | None:
        return self.token.get_secret_value() if self.token else None

    def secrets(self) -> list[str]:
        """Every configured secret, for the log scrubber: token, database password, webhook
        secret, and the Cloudflare token (an HTTP error from Radar may echo its header)."""
        from storage.database import password_of

        found = [
            self.token_value(),
            password_of(self.database),
            self.webhook_secret_value(),
            self.cloudflare_token.get_secret_value() if self.cloudflare_token else None,
            self.report_salt.get_secret_value() if self.report_salt else None,
        ]
        return [secret for secret in found if secret]

    def webhook_secret_value(self) -> str | None:
        return self.webhook_secret.get_secret_value() if self.webhook_secret else None


class SettingsError(Exception):
    """A settings problem phrased for the person deploying the bot."""


def load_settings(**overrides: object) -> Settings:
    """Settings, or a SettingsError naming each bad variable (never echoing its value)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            field = str(problem["loc"][0]) if problem["loc"] else "?"
            lines.append(f"{ENV_PREFIX}{field.upper()}: {problem['msg']}")
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None

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

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.timefmt import zone

ENV_PREFIX = "OUTAGEBOT_"
TELEGRAM_BASE_URL = "https://api.telegram.org/bot"


def default_database() -> Path:
    """A file in the user's data directory, so `outagebot` works from any working directory."""
    root = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(root) / "outagebot" / "outagebot.sqlite3"


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
    database: Path = Field(default_factory=default_database, description="SQLite file path.")
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
    report_salt: SecretStr | None = Field(
        default=None,
        description="Secret salt for hashing reporters' user ids; generated and stored in the "
        "database when unset.",
    )
    reports_per_hour: int = Field(default=20, ge=1, description="Crowd reports per person/hour.")
    bucket_minutes: int = Field(default=15, ge=1, le=60, description="Report count bucket size.")
    enter_after: int = Field(default=1, ge=1, description="Buckets above normal to open.")
    leave_after: int = Field(default=1, ge=1, description="Buckets at normal to resolve.")
    baseline_weeks: int = Field(default=6, ge=1, le=52, description="Weeks of history for typical.")
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
            zone(value.strip())
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

    def token_value(self) -> str | None:
        return self.token.get_secret_value() if self.token else None


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

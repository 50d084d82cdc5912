"""Settings from the environment (prefix STADTLOTSE_) and an optional .env file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.db import DEFAULT_URL


class SettingsError(ValueError):
    """One line naming the setting that is wrong and how to fix it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="STADTLOTSE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = DEFAULT_URL
    now: datetime | None = None  # the time machine: freezes the clock of the whole program
    city_config: Path | None = None
    public_url: str = "http://127.0.0.1:8080"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    data_dir: Path = Path("var")
    # encrypts the town's signing keys in the database; unset: <data_dir>/signing-secret
    key_secret: str | None = None
    log_level: str = "INFO"
    log_format: str = "text"  # "json": one JSON object per line, for log collectors
    # the largest request body the web app reads (413 above); webhooks are a few kB
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    telegram_token: str | None = None
    telegram_api_url: str | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: str | None = None
    # Telegram's send limits as the outbox sender keeps them (raise them only for a test server
    # or a paid broadcast plan)
    telegram_rate_global: float = Field(default=30.0, gt=0)  # messages per second, whole bot
    telegram_rate_private: float = Field(default=1.0, gt=0)  # per second, per private chat
    telegram_rate_group: float = Field(default=20.0, gt=0)  # per minute, per group chat

    matrix_homeserver: str | None = None
    matrix_user_id: str | None = None
    matrix_password: str | None = None
    matrix_access_token: str | None = None
    matrix_device_name: str = "Stadtlotse"
    matrix_room_rate: float = Field(default=2.0, gt=0)  # messages per second into one room
    matrix_room_burst: int = Field(default=10, ge=1)  # sent at once before the room rate applies
    matrix_send_rate: float = Field(default=20.0, gt=0)  # messages per second, all rooms
    matrix_reaction_options: int = Field(default=4, ge=0, le=10)  # keycaps under small menus

    # "demo" allows the demo provider (no money moves) where residents chat on Telegram or
    # Matrix; without it, `run` with a chat channel needs the Stripe keys
    payments: str = ""
    stripe_secret_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_api_url: str | None = None

    @field_validator("now")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone, for example 2026-12-01T09:00:00+01:00")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgres")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value.lower() not in {"text", "json"}:
            raise ValueError("must be text or json")
        return value.lower()

    @field_validator("payments")
    @classmethod
    def _payments(cls, value: str) -> str:
        if value.strip().lower() not in {"", "demo", "stripe"}:
            raise ValueError("must be demo or stripe (or unset)")
        return value.strip().lower()

    @field_validator(
        "public_url",
        "telegram_api_url",
        "telegram_webhook_url",
        "matrix_homeserver",
        "stripe_api_url",
    )
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be a URL starting with http:// or https://")
        return value.rstrip("/") if value else value

    @model_validator(mode="after")
    def _pairs(self) -> Settings:
        if self.telegram_webhook_url and not self.telegram_token:
            raise ValueError("STADTLOTSE_TELEGRAM_WEBHOOK_URL needs STADTLOTSE_TELEGRAM_TOKEN")
        if self.telegram_webhook_url and not self.telegram_webhook_secret:
            raise ValueError(
                "STADTLOTSE_TELEGRAM_WEBHOOK_SECRET is missing (needed for webhook mode)"
            )
        if self.matrix_homeserver and not self.matrix_user_id:
            raise ValueError("STADTLOTSE_MATRIX_USER_ID is missing (needed with MATRIX_HOMESERVER)")
        if self.matrix_homeserver and not (self.matrix_password or self.matrix_access_token):
            raise ValueError(
                "STADTLOTSE_MATRIX_PASSWORD or STADTLOTSE_MATRIX_ACCESS_TOKEN is missing"
            )
        if self.payments == "stripe" and not self.stripe_secret_key:
            raise ValueError(
                "STADTLOTSE_STRIPE_SECRET_KEY is missing (needed with STADTLOTSE_PAYMENTS=stripe)"
            )
        if self.stripe_secret_key and not self.stripe_webhook_secret:
            raise ValueError(
                "STADTLOTSE_STRIPE_WEBHOOK_SECRET is missing (needed with STRIPE_SECRET_KEY)"
            )
        return self

    def payment_problem(self) -> str:
        """Why `run` must not start as configured ("" when it may): residents on a chat channel
        would otherwise be sent to the demo checkout without anyone having chosen it."""
        if not self.chat_channels or self.stripe_secret_key or self.payments == "demo":
            return ""
        return (
            "Settings STADTLOTSE_STRIPE_SECRET_KEY and STADTLOTSE_STRIPE_WEBHOOK_SECRET are "
            f"missing (needed for payments with {' and '.join(self.chat_channels)}); set "
            "STADTLOTSE_PAYMENTS=demo to use demo payments, where no money moves"
        )

    @property
    def chat_channels(self) -> list[str]:
        channels = []
        if self.telegram_token:
            channels.append("telegram")
        if self.matrix_homeserver:
            channels.append("matrix")
        return channels


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = error.get("loc") or ()
        if loc:
            name = "STADTLOTSE_" + str(loc[0]).upper()
            message = error["msg"].removeprefix("Value error, ")
            raise SettingsError(f"Setting {name} is invalid: {message}") from exc
        raise SettingsError(error["msg"].removeprefix("Value error, ")) from exc

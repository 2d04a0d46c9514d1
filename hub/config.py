"""Settings: HUB_* environment variables, then an optional hub.toml, then defaults.

A bad setting stops start-up with one line that names it (see `load_settings`).
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HUB_", toml_file="hub.toml", extra="forbid", validate_default=True
    )

    data_dir: Path = Path("var")
    database_url: str = ""
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    timezone: str = "Europe/Moscow"
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = ""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Run a delivery worker inside `hub serve` (the embedded default). A district runs
    # `hub worker` processes instead and turns this off.
    embedded_worker: bool = True

    # What the detector's unambiguous obscenity does: hold for a moderator, or refuse at once.
    obscenity_action: Literal["hold", "refuse"] = "hold"
    # Rude (not obscene) words such as жопа, говно, хрен: held for a moderator (policy 7.6),
    # or let through unless aimed at a person.
    rude_words: Literal["hold", "aimed"] = "hold"

    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout: float = Field(default=30.0, gt=0)
    mail_from: str = "school-hub <noreply@school.local>"
    # The domain of the Message-ID and the List-Id; the public URL's host when empty.
    mail_domain: str = ""
    # The List-Id's name part (<name.domain>): one per school installation.
    mail_list_name: str = "school-hub"

    telegram_bot_token: SecretStr | None = None
    telegram_bot_username: str | None = None
    telegram_mode: Literal["off", "webhook", "polling"] = "off"
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_base: str | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value or None

    @model_validator(mode="after")
    def _derive_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'hub.db'}"
        if not self.public_url:
            self.public_url = f"http://{self.host}:{self.port}"
        self.public_url = self.public_url.rstrip("/")
        return self

    def startup_warnings(self) -> list[str]:
        """What an operator should fix, said once when the service starts."""
        found = []
        if self.public_url.startswith("http://"):
            found.append(
                f"public URL {self.public_url} is plain http: mail clients offer one-click "
                "unsubscribe (RFC 8058) only for https links, and sessions travel unencrypted; "
                "set HUB_PUBLIC_URL to the https address people open")
        return found

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def secret(self) -> bytes:
        if self.secret_key is None:
            self.secret_key = SecretStr(_stored_secret(self.data_dir))
        return self.secret_key.get_secret_value().encode()

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _stored_secret(data_dir: Path) -> str:
    """The secret generated on first run and kept in the data folder."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value)
    return value


class SettingsError(SystemExit):
    pass


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment; a bad one exits with one line that names it."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]  # checked by pydantic, as the environment is
    except ValidationError as exc:
        error = exc.errors()[0]
        name = "HUB_" + str(error["loc"][0]).upper() if error["loc"] else "settings"
        message = error["msg"].removeprefix("Value error, ")
        print(f"hub: bad setting {name}: {message}", file=sys.stderr)
        raise SettingsError(2) from None

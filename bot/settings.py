"""One Settings object, read from the environment once and passed in."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from storage.transactions import CONNECTIONS

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/teamswork.db"
DEFAULT_DATABASE_CONNECTIONS = CONNECTIONS
MARKETPLACE_API_URL = "https://marketplaceapi.microsoft.com/api"
ENTRA_LOGIN_URL = "https://login.microsoftonline.com"


@dataclass(frozen=True)
class MarketplaceSettings:
    """The SaaS offer's Entra app (Partner Center's "Microsoft Entra application ID") and the
    Fulfillment API. Without the app id, secret and tenant the marketplace routes answer 404."""

    client_id: str = ""
    client_secret: str = ""
    tenant_id: str = ""
    api_url: str = MARKETPLACE_API_URL
    # Overrides for offline tests: the Entra login host and a CA bundle to trust for it.
    login_url: str = ENTRA_LOGIN_URL
    ca_file: str | None = None
    # The public https origin of the landing page, for the sign-in redirect (default: the
    # origin the request came to).
    public_url: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.client_id and self.client_secret and self.tenant_id)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MarketplaceSettings:
        def get(name: str) -> str:
            return env.get(name, "").strip()

        return cls(
            client_id=get("MARKETPLACE_CLIENT_ID"),
            client_secret=get("MARKETPLACE_CLIENT_SECRET"),
            tenant_id=get("MARKETPLACE_TENANT_ID"),
            api_url=(get("MARKETPLACE_API_URL") or MARKETPLACE_API_URL).rstrip("/"),
            login_url=(get("MARKETPLACE_LOGIN_URL") or ENTRA_LOGIN_URL).rstrip("/"),
            ca_file=get("MARKETPLACE_CA_FILE") or None,
            public_url=get("MARKETPLACE_PUBLIC_URL").rstrip("/") or None,
        )


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 3978
    database_url: str = DEFAULT_DATABASE_URL
    # PostgreSQL: how many transactions the process runs at once, each on a connection it holds
    # open (`storage.transactions.PgConnections`); more turns wait for one in the process.
    database_connections: int = DEFAULT_DATABASE_CONNECTIONS
    # Bot Framework's own names, as Azure's templates use them.
    app_id: str = ""
    app_password: str = ""
    app_type: str = "MultiTenant"
    app_tenant_id: str = ""
    # The id Teams knows the app by, for the "add the bot to Teams" link of the marketplace's
    # landing page: the Teams Store id once the app is in the store, the org catalog's id for an
    # app an admin uploaded there; empty means the manifest's id, which `python -m app_manifest`
    # makes the bot's app id (MicrosoftAppId).
    teams_app_id: str = ""
    # Overrides of Bot Framework's endpoints, for offline tests against a fake issuer.
    openid_metadata_url: str | None = None
    token_issuer: str | None = None
    login_url: str | None = None
    plans_file: Path | None = None
    quota_thresholds: tuple[int, ...] = (80, 90)
    # The UTC hour from which the daily reminder digests go out.
    reminder_hour_utc: int = 7
    log_level: str = "INFO"
    marketplace: MarketplaceSettings = field(default_factory=MarketplaceSettings)
    access_log: bool = False  # aiohttp's line per request: off unless ACCESS_LOG=1

    @property
    def auth_enabled(self) -> bool:
        return bool(self.app_id)

    @property
    def install_app_id(self) -> str:
        """The app id of the Teams install link (TEAMS_APP_ID, else MicrosoftAppId); empty when
        neither is known, and then the landing page shows no link."""
        return self.teams_app_id or self.app_id

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str, default: str = "") -> str:
            return env.get(name, default).strip()

        port_text = get("PORT", "3978")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"PORT must be a number between 1 and 65535, got {port_text!r}")
        plans = get("PLANS_FILE")
        thresholds = _thresholds(get("QUOTA_WARNING_THRESHOLDS", "80,90"))
        hour_text = get("REMINDER_HOUR_UTC", "7")
        connections_text = get("DATABASE_CONNECTIONS", str(DEFAULT_DATABASE_CONNECTIONS))
        if not (
            connections_text.isascii()
            and connections_text.isdigit()
            and 1 <= int(connections_text) <= 100
        ):
            raise ValueError(
                f"DATABASE_CONNECTIONS must be a number from 1 to 100, got {connections_text!r}"
            )
        if not (hour_text.isascii() and hour_text.isdigit() and 0 <= int(hour_text) <= 23):
            raise ValueError(f"REMINDER_HOUR_UTC must be an hour from 0 to 23, got {hour_text!r}")
        return cls(
            host=get("HOST", "127.0.0.1"),
            port=int(port_text),
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            database_connections=int(connections_text),
            app_id=get("MicrosoftAppId"),
            app_password=get("MicrosoftAppPassword"),
            app_type=get("MicrosoftAppType") or "MultiTenant",
            app_tenant_id=get("MicrosoftAppTenantId"),
            teams_app_id=get("TEAMS_APP_ID"),
            openid_metadata_url=get("BOT_OPENID_METADATA_URL") or None,
            token_issuer=get("BOT_TOKEN_ISSUER") or None,
            login_url=get("BOT_LOGIN_URL") or None,
            plans_file=Path(plans) if plans else None,
            quota_thresholds=thresholds,
            reminder_hour_utc=int(hour_text),
            log_level=get("LOG_LEVEL", "INFO").upper(),
            marketplace=MarketplaceSettings.from_env(env),
            access_log=get("ACCESS_LOG", "").strip().lower() in ("1", "true", "yes", "on"),
        )


def _thresholds(text: str) -> tuple[int, ...]:
    """'80,90' -> (80, 90): percents of a quota at which the organization is warned."""
    try:
        values = sorted({int(part) for part in text.replace(";", ",").split(",") if part.strip()})
    except ValueError:
        raise ValueError(
            f"QUOTA_WARNING_THRESHOLDS must be percents like 80,90, got {text!r}"
        ) from None
    if any(not 0 < value < 100 for value in values):
        raise ValueError(f"QUOTA_WARNING_THRESHOLDS must be between 1 and 99, got {text!r}")
    return tuple(values)

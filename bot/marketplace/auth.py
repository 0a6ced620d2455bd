"""Microsoft Entra for the marketplace: the Fulfillment API's token (MSAL client credentials,
cached by MSAL), the landing page's sign-in (MSAL authorization-code flow), and the check of
the webhook's bearer token (Entra issuer, our app as audience, keys from the tenant's OpenID
metadata, cached).

msal is blocking (`requests`): its calls run in a worker thread. msal accepts only an https
authority and runs instance discovery against Microsoft unless told not to: the applications
here are built with `instance_discovery=False` (the authority is configured, not discovered).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import jwt
import msal
import requests

from bot.marketplace.api import MARKETPLACE_RESOURCE, SCOPE
from bot.settings import MarketplaceSettings

log = logging.getLogger(__name__)

SIGN_IN_SCOPES = ["User.Read"]
KEYS_TTL = 3600.0
KEYS_REFRESH_MIN = 60.0


def _application(settings: MarketplaceSettings, tenant: str) -> msal.ConfidentialClientApplication:
    # Built on first use, in a worker thread: msal fetches the authority's metadata at once.
    options: dict[str, Any] = {}
    if settings.ca_file:
        # requests lets REQUESTS_CA_BUNDLE override a session's `verify`: not this session's.
        session = requests.Session()
        session.trust_env = False
        session.verify = settings.ca_file
        options["http_client"] = session
    return msal.ConfidentialClientApplication(
        settings.client_id,
        client_credential=settings.client_secret,
        authority=f"{settings.login_url}/{tenant}",
        instance_discovery=False,
        **options,
    )


class _Lazy:
    def __init__(self, settings: MarketplaceSettings, tenant: str) -> None:
        self._settings = settings
        self._tenant = tenant
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = asyncio.Lock()

    async def app(self) -> msal.ConfidentialClientApplication:
        async with self._lock:
            if self._app is None:
                self._app = await asyncio.to_thread(_application, self._settings, self._tenant)
            return self._app


class FulfillmentTokens:
    """Bearer tokens for the Fulfillment API; MSAL keeps them until shortly before expiry."""

    def __init__(self, settings: MarketplaceSettings) -> None:
        self._lazy = _Lazy(settings, settings.tenant_id)
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        app = await self._lazy.app()
        async with self._lock:  # one token request at a time; MSAL caches the answer
            result: dict[str, Any] = await asyncio.to_thread(
                app.acquire_token_for_client, scopes=[SCOPE]
            )
        token = result.get("access_token")
        if not isinstance(token, str):
            raise PermissionError(
                f"no Fulfillment API token: {result.get('error')}: "
                f"{result.get('error_description')}"
            )
        return token


class SignIn:
    """The landing page's sign-in: any work account (authority `organizations`)."""

    def __init__(self, settings: MarketplaceSettings) -> None:
        self._lazy = _Lazy(settings, "organizations")

    async def start(self, redirect_uri: str) -> dict[str, Any]:
        """The flow to keep (in the signed session cookie) and its `auth_uri` to go to."""
        app = await self._lazy.app()
        flow: dict[str, Any] = await asyncio.to_thread(
            app.initiate_auth_code_flow, SIGN_IN_SCOPES, redirect_uri=redirect_uri
        )
        return flow

    async def finish(self, flow: Mapping[str, Any], answer: Mapping[str, str]) -> dict[str, Any]:
        """The claims of the visitor's id token (oid, tid, name, preferred_username), or
        PermissionError."""
        app = await self._lazy.app()
        result: dict[str, Any] = await asyncio.to_thread(
            app.acquire_token_by_auth_code_flow, dict(flow), dict(answer)
        )
        claims = result.get("id_token_claims")
        if not isinstance(claims, dict) or "error" in result:
            raise PermissionError(f"{result.get('error')}: {result.get('error_description')}")
        return claims


class KeysUnavailable(Exception):
    """The tenant's OpenID metadata or signing keys could not be fetched."""


class WebhookVerifier:
    """Checks the bearer token the marketplace sends with each webhook call."""

    def __init__(self, settings: MarketplaceSettings) -> None:
        self._settings = settings
        self._metadata_url = (
            f"{settings.login_url}/{settings.tenant_id}/v2.0/.well-known/openid-configuration"
        )
        self._ssl: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=settings.ca_file) if settings.ca_file else True
        )
        self._keys: jwt.PyJWKSet | None = None
        self._issuer: str | None = None
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def _refresh(self) -> None:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
                async with http.get(self._metadata_url, ssl=self._ssl) as response:
                    response.raise_for_status()
                    metadata = await response.json(content_type=None)
                async with http.get(metadata["jwks_uri"], ssl=self._ssl) as response:
                    response.raise_for_status()
                    keys = await response.json(content_type=None)
            self._keys = jwt.PyJWKSet.from_dict(keys)
            self._issuer = metadata.get("issuer")
            self._fetched = time.monotonic()
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError, jwt.PyJWTError) as e:
            raise KeysUnavailable(repr(e)) from e

    async def _key(self, kid: str | None) -> Any:
        async with self._lock:
            age = time.monotonic() - self._fetched
            if self._keys is None or age > KEYS_TTL:
                await self._refresh()
            assert self._keys is not None
            found = [k for k in self._keys.keys if k.key_id == kid]
            if not found and age > KEYS_REFRESH_MIN:  # keys roll over: look once more
                await self._refresh()
                found = [k for k in self._keys.keys if k.key_id == kid]
        if not found:
            raise jwt.InvalidKeyError(f"unknown signing key {kid!r}")
        return found[0].key

    def _issuers(self) -> list[str]:
        tenant = self._settings.tenant_id
        issuers = [
            f"https://sts.windows.net/{tenant}/",
            f"https://login.microsoftonline.com/{tenant}/v2.0",
            f"{self._settings.login_url}/{tenant}/v2.0",
        ]
        if self._issuer:
            issuers.append(self._issuer.replace("{tenantid}", tenant))
        return issuers

    async def verify(self, authorization: str | None) -> dict[str, Any]:
        """The token's claims; jwt.PyJWTError for any bad token, KeysUnavailable when the
        keys cannot be fetched."""
        if not authorization or not authorization.lower().startswith("bearer "):
            raise jwt.InvalidTokenError("no bearer token")
        token = authorization[7:].strip()
        header = jwt.get_unverified_header(token)
        key = await self._key(header.get("kid"))
        client_id = self._settings.client_id
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=[client_id, f"api://{client_id}"],
            issuer=self._issuers(),
            options={"require": ["exp", "iss", "aud"]},
            leeway=60,
        )
        caller = claims.get("appid") or claims.get("azp")
        if caller != MARKETPLACE_RESOURCE:
            raise jwt.InvalidTokenError(f"the token was issued to {caller!r}, not the marketplace")
        if claims.get("tid") not in (None, self._settings.tenant_id):
            raise jwt.InvalidTokenError("the token is of another tenant")
        return claims

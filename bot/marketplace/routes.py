"""The marketplace's routes: the SaaS landing page and the webhook.

The landing page is plain server-rendered HTML with no external assets, in English or German
by the browser's Accept-Language. Its session (the MSAL flow while signing in, then who signed
in and the marketplace token) lives in one HMAC-signed, HttpOnly, SameSite=Lax cookie, so any
bot process can serve any step; the Activate form carries a per-session CSRF token that must
match the cookie's (and a cross-site Origin is refused).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import jwt
from aiohttp import web

from bot.i18n import CATALOGS, DEFAULT_LOCALE, t
from bot.marketplace.api import FulfillmentError
from bot.marketplace.auth import KeysUnavailable, SignIn, WebhookVerifier
from bot.marketplace.service import SUBSCRIBED, UNSUBSCRIBED, MarketplaceService
from bot.services.marketplace import Purchase, UnmappedPlan
from bot.settings import MarketplaceSettings

log = logging.getLogger(__name__)

COOKIE = "tw_marketplace"
SESSION_SECONDS = 3600
MAX_WEBHOOK_BYTES = 64 * 1024
TEAMS_APP_LINK = "https://teams.microsoft.com/l/app/"


def install_link(app_id: str, tenant_id: str) -> str:
    """Teams' deep link that opens the app's install dialog, in the organization's tenant:
    `https://teams.microsoft.com/l/app/<app id>?tenantId=<tenant id>`."""
    link = TEAMS_APP_LINK + quote(app_id, safe="")
    return f"{link}?{urlencode({'tenantId': tenant_id})}" if tenant_id else link


def locale_of(request: web.Request) -> str:
    """The first language of Accept-Language (by q) that we have a catalog for."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(request.headers.get("Accept-Language", "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().split("-", 1)[0].lower()
        if lang in CATALOGS and q > 0:
            choices.append((-q, index, lang))
    return sorted(choices)[0][2] if choices else DEFAULT_LOCALE


class Sessions:
    """The signed cookie: base64url(JSON).base64url(HMAC-SHA256)."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(f"teamswork-landing:{secret}".encode()).digest()

    def _sign(self, body: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, body, "sha256").digest()).decode()

    def dump(self, data: Mapping[str, Any]) -> str:
        body = base64.urlsafe_b64encode(
            json.dumps({**data, "exp": time.time() + SESSION_SECONDS}).encode()
        )
        return f"{body.decode()}.{self._sign(body)}"

    def load(self, request: web.Request) -> dict[str, Any]:
        value = request.cookies.get(COOKIE, "")
        body, _, signature = value.partition(".")
        if not body or not hmac.compare_digest(self._sign(body.encode()), signature):
            return {}
        try:
            data = json.loads(base64.urlsafe_b64decode(body.encode()))
        except ValueError:
            return {}
        if not isinstance(data, dict) or not float(data.get("exp", 0)) > time.time():
            return {}
        return data

    def set(
        self, request: web.Request, response: web.StreamResponse, data: Mapping[str, Any]
    ) -> None:
        response.set_cookie(
            COOKIE,
            self.dump(data),
            max_age=SESSION_SECONDS,
            path="/marketplace",
            httponly=True,
            samesite="Lax",
            secure=request.secure,
        )


def page(locale: str, title: str, body: str, status: int = 200) -> web.Response:
    document = f"""<!doctype html>
<html lang="{locale}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: 'Segoe UI', system-ui, sans-serif; background: #f5f5f5; color: #242424;
  margin: 0; padding: 32px 16px; }}
main {{ max-width: 560px; margin: 0 auto; background: #fff; border-radius: 8px;
  padding: 24px 28px; box-shadow: 0 1px 4px rgba(0,0,0,.12); }}
h1 {{ font-size: 22px; margin-top: 0; }}
dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; }}
dt {{ color: #616161; }} dd {{ margin: 0; font-weight: 600; }}
button {{ background: #5b5fc7; color: #fff; border: 0; border-radius: 4px; padding: 10px 20px;
  font-size: 15px; cursor: pointer; }}
.note {{ color: #616161; font-size: 14px; }}
a {{ color: #5b5fc7; }}
</style></head>
<body><main><h1>{html.escape(title)}</h1>
{body}
</main></body></html>"""
    return web.Response(text=document, content_type="text/html", status=status)


def _p(text: str) -> str:
    return f"<p>{html.escape(text)}</p>"


class MarketplaceRoutes:
    def __init__(
        self,
        settings: MarketplaceSettings,
        service: MarketplaceService,
        sign_in: SignIn,
        verifier: WebhookVerifier,
        teams_app_id: str,
    ) -> None:
        self.settings = settings
        self.service = service
        self.sign_in = sign_in
        self.verifier = verifier
        self.sessions = Sessions(settings.client_secret)
        self.teams_app_id = teams_app_id

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/marketplace/landing", self.landing)
        app.router.add_get("/marketplace/signin", self.signed_in)
        app.router.add_post("/marketplace/activate", self.activate)
        app.router.add_post("/api/marketplace/webhook", self.webhook)

    # -- pages --------------------------------------------------------------------------

    def _message(self, locale: str, key: str, status: int, **params: Any) -> web.Response:
        return page(
            locale,
            t(locale, f"marketplace.{key}.title"),
            _p(t(locale, f"marketplace.{key}.text", **params)),
            status,
        )

    def _origin(self, request: web.Request) -> str:
        return self.settings.public_url or f"{request.scheme}://{request.host}"

    def _next_steps(self, locale: str, tenant_id: str) -> str:
        """What to do next, with the link that adds the app in Teams when its id is known."""
        text = _p(t(locale, "marketplace.next_steps"))
        if self.teams_app_id:
            link = install_link(self.teams_app_id, tenant_id)
            text += (
                f'<p><a id="open-teams" href="{html.escape(link)}">'
                f"{html.escape(t(locale, 'marketplace.open_teams'))}</a></p>"
            )
        return text

    async def landing(self, request: web.Request) -> web.StreamResponse:
        locale = locale_of(request)
        session = self.sessions.load(request)
        token = request.query.get("token", "").strip()
        if token and (not session.get("user") or session.get("token") != token):
            return await self._start_sign_in(request, token)
        if not session.get("user") or not session.get("token"):
            return self._message(locale, "invalid", 400)
        try:
            purchase = await self.service.client.resolve(session["token"])
        except FulfillmentError as error:
            return self._api_failure(locale, error)
        refusal = self._refusal(locale, session, purchase)
        if refusal is not None:
            return refusal
        return self._confirmation(locale, session, purchase)

    async def _start_sign_in(self, request: web.Request, token: str) -> web.StreamResponse:
        redirect = f"{self._origin(request)}/marketplace/signin"
        try:
            flow = await self.sign_in.start(redirect)
        except Exception:
            log.exception("the sign-in could not start")
            return self._message(locale_of(request), "failure", 503)
        auth_uri = flow.pop("auth_uri")
        response = web.HTTPFound(auth_uri)
        self.sessions.set(request, response, {"flow": flow, "token": token})
        return response

    async def signed_in(self, request: web.Request) -> web.StreamResponse:
        locale = locale_of(request)
        session = self.sessions.load(request)
        flow = session.get("flow")
        if not isinstance(flow, dict):
            return self._message(locale, "invalid", 400)
        try:
            claims = await self.sign_in.finish(flow, dict(request.query))
        except Exception as error:  # msal raises ValueError on a state mismatch, too
            log.warning("landing page sign-in failed: %r", error)
            return self._message(locale, "signin_failed", 401)
        user = {
            "oid": str(claims.get("oid", "")),
            "tid": str(claims.get("tid", "")),
            "name": str(claims.get("name", "")),
            "upn": str(claims.get("preferred_username", "")),
        }
        response = web.HTTPFound("/marketplace/landing")
        self.sessions.set(
            request,
            response,
            {"user": user, "token": session.get("token"), "csrf": secrets.token_urlsafe(24)},
        )
        return response

    def _refusal(
        self, locale: str, session: Mapping[str, Any], purchase: Purchase
    ) -> web.Response | None:
        visitor = session["user"]
        if visitor.get("tid") not in {purchase.tenant_id, purchase.purchaser_tenant_id} - {None}:
            return self._message(locale, "other_tenant", 403)
        if purchase.status == SUBSCRIBED:
            return page(
                locale,
                t(locale, "marketplace.active.title"),
                _p(t(locale, "marketplace.active.text"))
                + self._next_steps(locale, purchase.tenant_id),
            )
        if purchase.status == UNSUBSCRIBED:
            return self._message(locale, "invalid", 400)
        if self.service.catalog.by_marketplace_plan(purchase.marketplace_plan) is None:
            log.warning(
                "landing page: marketplace plan %r of subscription %s is not mapped",
                purchase.marketplace_plan,
                purchase.subscription_id,
            )
            return self._message(locale, "unmapped", 409, plan=purchase.marketplace_plan)
        return None

    def _confirmation(
        self, locale: str, session: Mapping[str, Any], purchase: Purchase
    ) -> web.Response:
        plan = self.service.catalog.by_marketplace_plan(purchase.marketplace_plan)
        assert plan is not None
        rows = [
            ("marketplace.offer", purchase.offer_id),
            ("marketplace.subscription", purchase.name or purchase.subscription_id),
            ("marketplace.plan", f"{plan.name} ({t(locale, f'term.{plan.term.value}')})"),
            ("marketplace.purchaser", purchase.purchaser_email or ""),
            ("marketplace.beneficiary", purchase.beneficiary_email or ""),
            ("marketplace.organization", purchase.tenant_id),
            ("marketplace.signed_in_as", session["user"].get("upn") or session["user"].get("name")),
        ]
        facts = "".join(
            f"<dt>{html.escape(t(locale, key))}</dt><dd>{html.escape(str(value))}</dd>"
            for key, value in rows
        )
        body = (
            _p(t(locale, "marketplace.confirm.text"))
            + f"<dl>{facts}</dl>"
            + '<form method="post" action="/marketplace/activate">'
            + f'<input type="hidden" name="csrf" value="{html.escape(session.get("csrf", ""))}">'
            + '<button type="submit" id="activate">'
            + f"{html.escape(t(locale, 'marketplace.activate'))}</button></form>"
        )
        return page(locale, t(locale, "marketplace.confirm.title"), body)

    def _api_failure(self, locale: str, error: FulfillmentError) -> web.Response:
        if error.status in (400, 403, 404):
            return self._message(locale, "invalid", 400)
        log.warning("landing page: the Fulfillment API failed: %s", error)
        return self._message(locale, "failure", 503)

    async def activate(self, request: web.Request) -> web.StreamResponse:
        locale = locale_of(request)
        session = self.sessions.load(request)
        form = await request.post()
        csrf = form.get("csrf")
        origin = request.headers.get("Origin")
        if (
            not session.get("user")
            or not isinstance(csrf, str)
            or not hmac.compare_digest(csrf, str(session.get("csrf", "")))
            or (origin not in (None, "null") and origin != self._origin(request))
        ):
            return self._message(locale, "forbidden", 403)
        try:
            purchase = await self.service.client.resolve(session["token"])
        except FulfillmentError as error:
            return self._api_failure(locale, error)
        refusal = self._refusal(locale, session, purchase)
        if refusal is not None:
            return refusal
        try:
            await self.service.activate(purchase)
        except UnmappedPlan:
            return self._message(locale, "unmapped", 409, plan=purchase.marketplace_plan)
        except FulfillmentError as error:
            return self._api_failure(locale, error)
        return page(
            locale,
            t(locale, "marketplace.done.title"),
            _p(t(locale, "marketplace.done.text", organization=purchase.tenant_id))
            + self._next_steps(locale, purchase.tenant_id),
        )

    # -- webhook ------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        try:
            await self.verifier.verify(request.headers.get("Authorization"))
        except KeysUnavailable as error:
            log.warning("webhook: signing keys unavailable: %s", error)
            return web.json_response({"error": "signing keys unavailable"}, status=503)
        except (jwt.PyJWTError, ValueError) as error:
            log.warning("webhook: refused token: %s", error)
            return web.json_response({"error": "unauthorized"}, status=401)
        if (request.content_length or 0) > MAX_WEBHOOK_BYTES:
            return web.json_response({"error": "too large"}, status=413)
        try:
            payload = await request.json()
        except ValueError:
            return web.json_response({"error": "not JSON"}, status=400)
        if not isinstance(payload, dict):
            return web.json_response({"error": "not an object"}, status=400)
        self.service.spawn(self.service.handle_webhook(payload))
        return web.json_response({"status": "accepted"})

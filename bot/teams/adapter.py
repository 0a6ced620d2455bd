"""CloudAdapter wiring and the /api/messages endpoint.

The endpoint is written around `adapter.process_activity` rather than `CloudAdapter.process`,
which answers every invoke with HTTP 500 (it serializes the body twice).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ActivityTypes
from botframework.connector.auth import BotFrameworkAuthentication, ConnectorFactory
from requests import RequestException

from bot.apps.banner import QuotaBanner
from bot.apps.dispatch import Dispatcher
from bot.apps.registry import Registry
from bot.domain.clock import Clock
from bot.domain.quota import QuotaPolicy
from bot.logcontext import log_context
from bot.services.reminders import send_reminders
from bot.settings import Settings
from bot.teams.activity import (
    MAX_CONVERSATION_ID,
    MAX_SERVICE_URL,
    TooDeep,
    read_activity_body,
    restore_tenant_id,
    tenant_of,
)
from bot.teams.fast_adapter import FastCloudAdapter
from bot.teams.handler import TeamsWorkBot, card_reply, invoke_reply
from bot.teams.middleware import (
    ConversationMiddleware,
    IdempotencyMiddleware,
    LogContextMiddleware,
    OutboxWakeMiddleware,
)
from bot.teams.sender import ProactiveSender
from bot.teams.wire import activity_from_json, dumps
from cards.general import apology_card
from storage.db import Database
from storage.outbox import OutboxStore
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024


@dataclass(frozen=True)
class BotFrameworkConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication looks for."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str
    TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL: str | None
    TO_BOT_FROM_CHANNEL_TOKEN_ISSUER: str | None
    TO_CHANNEL_FROM_BOT_LOGIN_URL: str | None

    @classmethod
    def from_settings(cls, settings: Settings) -> BotFrameworkConfig:
        return cls(
            APP_ID=settings.app_id,
            APP_PASSWORD=settings.app_password,
            APP_TYPE=settings.app_type,
            APP_TENANTID=settings.app_tenant_id,
            TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=settings.openid_metadata_url,
            TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=settings.token_issuer,
            TO_CHANNEL_FROM_BOT_LOGIN_URL=settings.login_url,
        )


async def on_turn_error(context: TurnContext, error: Exception) -> None:
    """Unexpected errors: logged with the activity id, answered with a short apology."""
    reference = uuid.uuid4().hex[:8]
    activity = context.activity
    # The adapter calls this outside the middleware, whose log context has ended by now.
    with log_context(tenant_of(activity), activity.id):
        log.error(
            "turn failed (ref %s, activity %s, type %s)",
            reference,
            activity.id,
            activity.type,
            exc_info=error,
        )
        card = apology_card(activity.locale, reference)
        try:
            if activity.type == ActivityTypes.invoke:
                await context.send_activity(invoke_reply(card))
            elif activity.type == ActivityTypes.message:
                await context.send_activity(card_reply(card))
        except Exception:  # the apology is best effort; the original error is what matters
            log.warning("could not send the apology (ref %s)", reference, exc_info=True)


class _CachingConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    MAX_CLIENTS = 64

    def __init__(self, inner: ConnectorFactory, cache: dict[tuple[str, str | None], Any]) -> None:
        self._inner = inner
        self._cache = cache

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        key = (service_url, audience)
        client = self._cache.get(key)
        if client is None:
            if len(self._cache) >= self.MAX_CLIENTS:
                self._cache.clear()
            client = await self._inner.create(service_url, audience)
            self._cache[key] = client
        return client


class CachingAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """Reuses connector and user-token clients instead of building them every turn.

    The stock adapter creates a ConnectorClient and a user-token client (msrest configurations
    and a retry policy each) per turn: about half of a turn's CPU. The bot has one app id, so a
    client per (service URL, audience) serves every turn; the credentials inside refresh their
    own tokens."""

    def __init__(self, inner: BotFrameworkAuthentication) -> None:
        self._inner = inner
        self._connectors: dict[tuple[str, str | None], Any] = {}
        self._user_token_client: Any = None

    def _cached(self, factory: ConnectorFactory | None) -> ConnectorFactory | None:
        return None if factory is None else _CachingConnectorFactory(factory, self._connectors)

    async def authenticate_request(self, activity: Activity, auth_header: str | None) -> Any:
        result = await self._inner.authenticate_request(activity, auth_header)
        result.connector_factory = self._cached(result.connector_factory)
        return result

    def create_connector_factory(self, claims_identity: Any) -> ConnectorFactory | None:
        return self._cached(self._inner.create_connector_factory(claims_identity))

    async def create_user_token_client(self, claims_identity: Any) -> Any:
        if self._user_token_client is None:
            self._user_token_client = await self._inner.create_user_token_client(claims_identity)
        return self._user_token_client

    async def authenticate_streaming_request(self, auth_header: str, channel_id: str) -> Any:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id)

    async def authenticate_channel_request(self, auth_header: str) -> Any:
        return await self._inner.authenticate_channel_request(auth_header)

    def create_bot_framework_client(self) -> Any:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self._inner.get_originating_audience())


@dataclass
class BotRuntime:
    adapter: FastCloudAdapter
    bot: TeamsWorkBot
    sender: ProactiveSender


def build_runtime(
    settings: Settings, db: Database, clock: Clock, policy: QuotaPolicy, registry: Registry
) -> BotRuntime:
    auth = CachingAuthentication(
        ConfigurationBotFrameworkAuthentication(BotFrameworkConfig.from_settings(settings))
    )
    adapter = FastCloudAdapter(auth)
    adapter.on_turn_error = on_turn_error
    units = UnitOfWorkFactory(db)
    banner = QuotaBanner(units, clock, policy)
    bot = TeamsWorkBot(units, clock, policy, Dispatcher(registry, banner))
    sender = ProactiveSender(
        adapter,
        OutboxStore(db),
        clock,
        settings.app_id,
        registry,
        banner=banner,
        daily=lambda: send_reminders(db, units, clock),
        daily_hour=settings.reminder_hour_utc,
    )
    adapter.use(LogContextMiddleware())
    adapter.use(IdempotencyMiddleware(units, clock))
    adapter.use(ConversationMiddleware(units, clock))
    adapter.use(OutboxWakeMiddleware(sender.wake))
    return BotRuntime(adapter, bot, sender)


def _bad_request(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=HTTPStatus.BAD_REQUEST)


def signing_keys_unavailable(error: BaseException) -> bool:
    """botbuilder fetches the channel's OpenID metadata and signing keys with `requests` while
    it validates a token: a failure there is ours (or the network's), not a bad token."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, RequestException):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def messages_handler(runtime: BotRuntime) -> Any:
    async def messages(request: web.Request) -> web.StreamResponse:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return web.json_response(
                {"error": "body too large"}, status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE
            )
        try:
            body = read_activity_body(await request.read(), request.charset)
        except TooDeep:
            return _bad_request("body is nested too deep")
        except (ValueError, RecursionError):  # json's decoder recurses once per bracket
            return _bad_request("body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return _bad_request("body is not an activity")
        try:
            activity = activity_from_json(body)
        except Exception:  # msrest raises several kinds for shapes it cannot read
            return _bad_request("body is not an activity")
        if activity.conversation is None or not activity.service_url:
            return _bad_request("activity without conversation or serviceUrl")
        if (
            len(activity.conversation.id or "") > MAX_CONVERSATION_ID
            or len(activity.service_url) > MAX_SERVICE_URL
        ):
            return _bad_request("conversation id or serviceUrl too long")
        restore_tenant_id(activity, body)
        with log_context(tenant_of(activity), activity.id):
            return await _serve(runtime, request, activity)

    return messages


async def _serve(runtime: BotRuntime, request: web.Request, activity: Activity) -> web.Response:
    """Authenticate and run the turn of an activity that has been read and checked."""
    # No header is None, not "": botbuilder validates an empty string as a token.
    auth_header = request.headers.get("Authorization") or None
    try:
        # Authenticate apart from the turn: botbuilder reports a bad token by raising
        # whatever its validation stumbles on (PermissionError, AttributeError, jwt
        # errors...), and none of that may become a 500.
        authenticated = await runtime.adapter.bot_framework_authentication.authenticate_request(
            activity, auth_header
        )
    except Exception as error:
        if signing_keys_unavailable(error):
            # 503 makes the channel retry; the operator must see why every request fails.
            log.error("cannot fetch the Bot Framework signing keys: %s", error)
            return web.json_response(
                {"error": "signing keys unavailable"}, status=HTTPStatus.SERVICE_UNAVAILABLE
            )
        log.info("request refused: %s", type(error).__name__)
        return web.json_response({"error": "unauthorized"}, status=HTTPStatus.UNAUTHORIZED)
    response = await runtime.adapter.process_activity(authenticated, activity, runtime.bot.on_turn)
    if response is not None:
        body = response.body
        # botbuilder's own error answers (a malformed invoke) leave a model unserialized.
        if hasattr(body, "serialize"):
            body = body.serialize()
        return web.json_response(data=body, status=response.status, dumps=dumps)
    return web.Response(status=HTTPStatus.OK)

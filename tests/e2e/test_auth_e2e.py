"""Bot Framework authentication over real HTTP, offline.

The channel side is a fake token service on 127.0.0.1 (tests/support/fake_issuer.py): it
publishes a test RSA key endorsed for Teams, signs the channel's bearer tokens, and answers the
bot's own client-credentials request before it posts a reply to the fake connector.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import create_app
from bot.domain.clock import FixedClock
from bot.settings import Settings
from tests.support import teams
from tests.support.bot_process import free_port
from tests.support.connector import FakeConnector
from tests.support.fake_issuer import BOT_CONNECTOR_AUDIENCE, FakeIssuer, new_rsa_key

APP_ID = "5f1c7d0e-3a4b-4c2d-9e8f-0a1b2c3d4e5f"
APP_PASSWORD = "test-password-not-a-secret"
ADA = teams.TeamsUser("tenant-auth", "29:ada", "Ada Lovelace", "aad-ada")

Client = TestClient[Any, Any]


@pytest.fixture
def issuer(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeIssuer]:
    with FakeIssuer(clients={APP_ID: APP_PASSWORD}) as fake:
        # botframework-connector and msal fetch with `requests`: trust the issuer's certificate
        # (and only it: nothing but 127.0.0.1 is contacted in these tests).
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_file)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        yield fake


def settings_for(issuer: FakeIssuer | None, tmp_path: Path, *, app_id: str = APP_ID) -> Settings:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}"
    if issuer is None:
        return Settings(database_url=database_url)
    return Settings(
        app_id=app_id,
        app_password=APP_PASSWORD if app_id else "",
        openid_metadata_url=issuer.openid_metadata_url,
        token_issuer=issuer.token_issuer,
        login_url=issuer.login_url,
        database_url=database_url,
    )


@asynccontextmanager
async def running(settings: Settings, clock: FixedClock) -> AsyncIterator[Client]:
    """The real app (its own SQLite file, migrated at start) behind a real HTTP server. Replies
    go out in the turn; the proactive sender is not needed, so it does not run."""
    app = create_app(settings, clock=clock, start_sender=False)
    client: Client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def secured_bot(
    issuer: FakeIssuer, tmp_path: Path, clock: FixedClock
) -> AsyncIterator[Client]:
    async with running(settings_for(issuer, tmp_path), clock) as client:
        yield client


def help_message(connector: FakeConnector) -> dict[str, Any]:
    return teams.message(ADA, teams.Conversation(ADA.personal_chat), connector.url, "help")


async def post(client: Client, activity: dict[str, Any], authorization: str | None) -> int:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = await client.post("/api/messages", json=activity, headers=headers)
    await response.read()
    return response.status


# -- refused --------------------------------------------------------------------------------


async def test_a_request_without_authorization_header_is_refused(
    secured_bot: Client, connector: FakeConnector, issuer: FakeIssuer
) -> None:
    status = await post(secured_bot, help_message(connector), authorization=None)

    assert status == 401
    assert connector.posted == []
    assert issuer.token_requests == []


async def test_an_empty_authorization_header_is_refused(
    secured_bot: Client, connector: FakeConnector
) -> None:
    assert await post(secured_bot, help_message(connector), authorization="") == 401
    assert connector.posted == []


Forge = Callable[[FakeIssuer, str], str]

FORGED: dict[str, Forge] = {
    # Same key id as the published key, so the signature check itself must catch it.
    "signed by another key": lambda iss, url: iss.channel_token(APP_ID, url, key=new_rsa_key()),
    "signed by a key that is not published": lambda iss, url: iss.channel_token(
        APP_ID, url, key=new_rsa_key(), kid="someone-elses-key"
    ),
    # Beyond the SDK's 5 minutes of clock tolerance.
    "expired": lambda iss, url: iss.channel_token(APP_ID, url, lifetime=-600),
    "not valid yet": lambda iss, url: iss.channel_token(APP_ID, url, nbf=int(time.time()) + 3600),
    "for another bot (wrong audience)": lambda iss, url: iss.channel_token(
        "another-bot-app-id", url
    ),
    "without audience": lambda iss, url: iss.channel_token(APP_ID, url, aud=None),
    "from another issuer": lambda iss, url: iss.channel_token(
        APP_ID, url, iss="https://evil.example/botframework"
    ),
    "for another service url": lambda iss, url: iss.channel_token(
        APP_ID, url, serviceurl="https://smba.trafficmanager.net/emea/"
    ),
    "without service url": lambda iss, url: iss.channel_token(APP_ID, url, serviceurl=None),
}


@pytest.mark.parametrize("forge", FORGED.values(), ids=list(FORGED))
async def test_a_bad_token_is_refused(
    secured_bot: Client, connector: FakeConnector, issuer: FakeIssuer, forge: Forge
) -> None:
    token = forge(issuer, connector.url)

    status = await post(secured_bot, help_message(connector), f"Bearer {token}")

    assert status == 401
    assert connector.posted == []
    assert issuer.token_requests == []


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer a.b.c"],
    ids=["no token", "not a JWT", "basic auth", "garbage JWT"],
)
async def test_a_malformed_authorization_header_is_refused(
    secured_bot: Client, connector: FakeConnector, authorization: str
) -> None:
    assert await post(secured_bot, help_message(connector), authorization) == 401
    assert connector.posted == []


async def test_a_token_for_a_channel_the_key_is_not_endorsed_for_is_refused(
    secured_bot: Client, connector: FakeConnector, issuer: FakeIssuer
) -> None:
    """Teams' keys are endorsed for "msteams": a token presented for another channel fails."""
    activity = help_message(connector)
    activity["channelId"] = "webchat"
    token = issuer.channel_token(APP_ID, connector.url)

    assert await post(secured_bot, activity, f"Bearer {token}") == 401
    assert connector.posted == []


# -- accepted -------------------------------------------------------------------------------


async def test_a_valid_channel_token_is_accepted_and_the_reply_carries_the_bots_token(
    secured_bot: Client, connector: FakeConnector, issuer: FakeIssuer
) -> None:
    activity = help_message(connector)
    token = issuer.channel_token(APP_ID, connector.url)

    status = await post(secured_bot, activity, f"Bearer {token}")

    assert status == 200
    [reply] = connector.to(ADA.personal_chat)
    assert reply.reply_to == activity["id"]
    assert reply.cards, "the reply is the help card"
    # The bot asked the login authority for a client-credentials token for the Bot Connector...
    [request] = issuer.token_requests
    assert request.grant_type == "client_credentials"
    assert request.client_id == APP_ID
    assert request.form.get("client_secret") == APP_PASSWORD
    assert request.scope == f"{BOT_CONNECTOR_AUDIENCE}/.default"
    # ...and sent exactly that token with its reply.
    assert reply.authorization == f"Bearer {issuer.access_tokens[-1]}"
    claims = issuer.verify_access_token(issuer.access_tokens[-1])
    assert claims["appid"] == APP_ID


async def test_an_invoke_with_a_valid_token_answers_with_a_card(
    secured_bot: Client, connector: FakeConnector, issuer: FakeIssuer
) -> None:
    activity = teams.execute(ADA, teams.Conversation(ADA.personal_chat), connector.url, "help", {})
    token = issuer.channel_token(APP_ID, connector.url)

    response = await secured_bot.post(
        "/api/messages", json=activity, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status == 200
    body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert body["value"]["type"] == "AdaptiveCard"


async def test_the_signing_keys_are_fetched_once_for_many_requests(
    secured_bot: Client, connector: FakeConnector, issuer: FakeIssuer
) -> None:
    for _ in range(3):
        token = issuer.channel_token(APP_ID, connector.url)
        assert await post(secured_bot, help_message(connector), f"Bearer {token}") == 200

    assert len(connector.to(ADA.personal_chat)) == 3
    assert issuer.requests.count(f"GET {issuer.jwks_url.removeprefix(issuer.base_url)}") == 1


# -- without an app id ----------------------------------------------------------------------


async def test_without_app_id_an_unauthenticated_request_is_accepted(
    tmp_path: Path, clock: FixedClock, connector: FakeConnector
) -> None:
    async with running(settings_for(None, tmp_path), clock) as client:
        activity = help_message(connector)

        status = await post(client, activity, authorization=None)

    assert status == 200
    [reply] = connector.to(ADA.personal_chat)
    assert reply.reply_to == activity["id"]
    assert reply.authorization is None


async def test_without_app_id_the_issuer_overrides_do_not_turn_auth_on(
    issuer: FakeIssuer, tmp_path: Path, clock: FixedClock, connector: FakeConnector
) -> None:
    """BOT_OPENID_METADATA_URL & co. left in a local .env must not break unauthenticated runs."""
    async with running(settings_for(issuer, tmp_path, app_id=""), clock) as client:
        status = await post(client, help_message(connector), authorization=None)

    assert status == 200
    [reply] = connector.to(ADA.personal_chat)
    assert reply.authorization is None
    assert issuer.token_requests == []


async def test_without_app_id_the_app_warns_at_start_that_it_is_unauthenticated(
    tmp_path: Path, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")

    async with running(settings_for(None, tmp_path), clock):
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]

    assert any("UNAUTHENTICATED" in r.getMessage() for r in warnings), [
        r.getMessage() for r in caplog.records
    ]


async def test_with_app_id_the_app_does_not_warn_about_unauthenticated_mode(
    issuer: FakeIssuer, tmp_path: Path, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot")

    async with running(settings_for(issuer, tmp_path), clock):
        messages = [r.getMessage() for r in caplog.records]

    assert not any("UNAUTHENTICATED" in m.upper() for m in messages), messages
    assert any(APP_ID in m for m in messages), messages


# -- the channel's signing keys cannot be fetched ---------------------------------------------


async def test_unreachable_signing_keys_are_a_503_logged_as_an_error(
    issuer: FakeIssuer,
    connector: FakeConnector,
    tmp_path: Path,
    clock: FixedClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Not the caller's fault: 503 makes the channel retry, and the operator sees why."""
    settings = settings_for(issuer, tmp_path)
    dead = f"http://127.0.0.1:{free_port()}/v1/.well-known/openidconfiguration"
    settings = dataclasses.replace(settings, openid_metadata_url=dead)
    token = issuer.channel_token(APP_ID, connector.url)
    async with running(settings, clock) as client:
        with caplog.at_level(logging.INFO):
            status = await post(client, help_message(connector), f"Bearer {token}")
            refused = await post(client, help_message(connector), "Bearer not-a-jwt")

    assert (status, refused) == (503, 401)
    assert connector.posted == []
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("signing keys" in message for message in errors), errors
    refusals = [r for r in caplog.records if "request refused" in r.getMessage()]
    assert [r.levelno for r in refusals] == [logging.INFO]

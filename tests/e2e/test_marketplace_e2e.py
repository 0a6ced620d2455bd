"""Selling through the marketplace, over real HTTP: the Fulfillment API (a fake on 127.0.0.1,
with bearer tokens MSAL gets from the fake Entra issuer over https), the webhook and the bot's
chat. The clock starts on Mon 2026-11-02 09:00 UTC."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.marketplace.api import FulfillmentClient, FulfillmentError
from bot.marketplace.auth import FulfillmentTokens
from storage.uow import UnitOfWorkFactory
from tests.support import teams
from tests.support.cards import action, card_text
from tests.support.fake_issuer import FakeIssuer, new_rsa_key
from tests.support.fake_marketplace import FakeMarketplace
from tests.support.marketplace import (
    CLIENT_ID,
    PUBLISHER_TENANT,
    SLEPT,
    MarketBot,
    marketplace_settings,
)

CONTOSO = "tenant-mp-contoso"
OTHER = "tenant-mp-other"
ADA = teams.TeamsUser(CONTOSO, "29:ada", "Ada Lovelace", "aad-ada")  # the purchaser
BOB = teams.TeamsUser(CONTOSO, "29:bob", "Bob Builder", "aad-bob")


async def bought(bot: MarketBot, plan: str = "standard-monthly") -> str:
    sid, _ = bot.market.add_subscription(CONTOSO, plan, purchaser_oid=ADA.aad_object_id)
    await bot.activate(sid)
    return sid


async def test_activation_puts_the_tenant_on_the_plan_and_the_purchaser_becomes_admin(
    market_bot: MarketBot,
) -> None:
    # Bob talks first (and would be the tenant's first admin anyway); Ada bought it.
    await market_bot.say(BOB, "help")
    sid = await bought(market_bot)
    assert market_bot.market.subscriptions[sid]["saasSubscriptionStatus"] == "Subscribed"
    activate = market_bot.market.calls("POST", "/activate")[0]
    assert activate.body == {"planId": "standard-monthly", "quantity": 1}
    sub = await market_bot.subscription(CONTOSO)
    assert (sub.plan_id, sub.source, sub.status) == ("standard", "marketplace", "active")
    roles = (await market_bot.say(ADA, "roles")).text
    assert "Ada Lovelace" in roles.split("Agents")[0]


async def test_every_call_carries_request_and_correlation_ids_and_one_cached_token(
    market_bot: MarketBot,
) -> None:
    sid = await bought(market_bot)
    client = market_bot.service.client
    await client.get_subscription(sid)
    await client.list_plans(sid)
    await client.list_operations(sid)
    ids = [s.headers["x-ms-requestid"] for s in market_bot.market.seen]
    assert len(set(ids)) == len(ids) >= 5
    assert all(s.headers.get("x-ms-correlationid") for s in market_bot.market.seen)
    tokens = [r for r in market_bot.issuer.token_requests if r.grant_type == "client_credentials"]
    assert len(tokens) == 1  # MSAL keeps the token
    assert tokens[0].scope is not None and "20e940b3-4c77-4b0b-9a53-9e16a1b010a7/.default" in (
        tokens[0].scope
    )
    assert tokens[0].path == f"/{PUBLISHER_TENANT}/oauth2/v2.0/token"


async def test_the_api_answering_429_then_200_is_retried_after_retry_after(
    market_bot: MarketBot,
) -> None:
    sid, _ = market_bot.market.add_subscription(CONTOSO, "standard-monthly")
    market_bot.market.failures[:] = [(429, "7"), (503, None)]
    SLEPT.clear()
    got = await market_bot.service.client.get_subscription(sid)
    assert got.subscription_id == sid and got.tenant_id == CONTOSO
    assert len(market_bot.market.calls("GET", sid)) == 3
    assert SLEPT[0] == 7.0 and len(SLEPT) == 2


async def test_a_client_error_is_not_retried_and_retries_end(
    issuer: FakeIssuer, market: FakeMarketplace
) -> None:
    client = FulfillmentClient(
        market.url, FulfillmentTokens(marketplace_settings(issuer, market)), attempts=3
    )
    SLEPT.clear()
    client._sleep = _record
    try:
        with pytest.raises(FulfillmentError) as missing:
            await client.get_subscription("no-such")
        assert missing.value.status == 404 and SLEPT == []
        market.failures[:] = [(500, None)] * 3
        with pytest.raises(FulfillmentError) as busy:
            await client.list_subscriptions()
        assert busy.value.status == 500 and len(SLEPT) == 2
    finally:
        await client.close()


async def _record(seconds: float) -> None:
    SLEPT.append(seconds)


async def test_a_customer_plan_change_by_webhook_is_confirmed_applied_and_patched(
    market_bot: MarketBot,
) -> None:
    sid = await bought(market_bot)
    op = market_bot.market.operation(sid, "ChangePlan", plan="premium-monthly")
    status, _ = await market_bot.webhook(op)
    assert status == 200
    assert market_bot.market.calls("GET", f"/operations/{op['id']}")  # confirmed first
    sub = await market_bot.subscription(CONTOSO)
    assert sub.plan_id == "premium"
    assert op["patched"] == "Success"
    usage = (await market_bot.say(ADA, "usage")).text
    assert "Premium" in usage


async def test_the_same_operation_twice_is_applied_once(market_bot: MarketBot) -> None:
    sid = await bought(market_bot)
    op = market_bot.market.operation(sid, "ChangePlan", plan="premium-monthly")
    await market_bot.webhook(op)
    segments = (await market_bot.subscription(CONTOSO)).segments
    assert (await market_bot.webhook(op))[0] == 200
    assert (await market_bot.subscription(CONTOSO)).segments == segments
    outcomes = [o.outcome for o in market_bot.service.outcomes if o.operation_id == op["id"]]
    assert outcomes == ["applied", "duplicate"]
    assert len(market_bot.market.calls("PATCH", f"/operations/{op['id']}")) == 1


async def test_an_unmapped_plan_is_refused_and_patched_failure(market_bot: MarketBot) -> None:
    sid = await bought(market_bot)
    op = market_bot.market.operation(sid, "ChangePlan", plan="gold-enterprise")
    await market_bot.webhook(op)
    assert (await market_bot.subscription(CONTOSO)).plan_id == "standard"
    assert op["patched"] == "Failure"


async def stored_quantity(bot: MarketBot, sid: str) -> int | None:
    async with UnitOfWorkFactory(bot.db).reader(CONTOSO) as uow:
        row = await uow.marketplace.get(sid)
        assert row is not None
        return row.quantity


async def test_a_change_of_quantity_is_refused_one_license_serves_the_whole_organization(
    market_bot: MarketBot,
) -> None:
    sid = await bought(market_bot)
    before = await market_bot.subscription(CONTOSO)
    op = market_bot.market.operation(sid, "ChangeQuantity", quantity=25)
    assert (await market_bot.webhook(op))[0] == 200
    confirm = market_bot.market.calls("GET", f"/operations/{op['id']}")
    patches = market_bot.market.calls("PATCH", f"/operations/{op['id']}")
    assert len(confirm) == 1 and market_bot.market.seen.index(confirm[0]) < (
        market_bot.market.seen.index(patches[0])
    )  # confirmed with a GET before the answer
    assert [(p.path, p.body) for p in patches] == [
        (f"/api/saas/subscriptions/{sid}/operations/{op['id']}", {"status": "Failure"})
    ]
    assert market_bot.market.operations[op["id"]]["status"] == "Failed"
    assert market_bot.market.subscriptions[sid]["quantity"] == 1  # the customer pays for one
    assert await market_bot.subscription(CONTOSO) == before  # plan, term and quota unchanged
    assert await stored_quantity(market_bot, sid) == 1
    [outcome] = [o for o in market_bot.service.outcomes if o.operation_id == op["id"]]
    assert (outcome.outcome, outcome.detail) == ("refused", "marketplace.quantity_not_applicable")
    assert "0 of 250" in (await market_bot.say(ADA, "usage")).text.replace("/", " of ")


async def test_a_change_of_quantity_the_marketplace_made_anyway_is_recorded_and_changes_nothing(
    market_bot: MarketBot,
) -> None:
    sid = await bought(market_bot)
    before = await market_bot.subscription(CONTOSO)
    market_bot.market.subscriptions[sid]["quantity"] = 25
    op = market_bot.market.operation(sid, "ChangeQuantity", quantity=25, status="Succeeded")
    await market_bot.webhook(op)
    assert market_bot.market.calls("PATCH", f"/operations/{op['id']}") == []  # nothing to answer
    assert await stored_quantity(market_bot, sid) == 25  # the marketplace's state wins
    assert await market_bot.subscription(CONTOSO) == before


@pytest.mark.parametrize(
    "kind", ["none", "garbage", "expired", "foreign key", "other audience", "not marketplace"]
)
async def test_a_webhook_with_a_bad_token_gets_401_and_changes_nothing(
    market_bot: MarketBot, kind: str
) -> None:
    sid = await bought(market_bot)
    op = market_bot.market.operation(sid, "Suspend", status="Succeeded")
    tokens = {
        "none": "",
        "garbage": "not.a.jwt",
        "expired": market_bot.token(exp=1_000_000, iat=999_000, nbf=999_000),
        "foreign key": market_bot.issuer.sign(
            {
                "iss": f"https://sts.windows.net/{PUBLISHER_TENANT}/",
                "aud": CLIENT_ID,
                "appid": "20e940b3-4c77-4b0b-9a53-9e16a1b010a7",
                "exp": 4_000_000_000,
            },
            key=new_rsa_key(),
        ),
        "other audience": market_bot.token(aud="someone-else"),
        "not marketplace": market_bot.token(appid="11111111-2222-3333-4444-555555555555"),
    }
    before = len(market_bot.market.seen)
    status, _ = await market_bot.webhook(op, tokens[kind] or "")
    assert status == 401
    assert len(market_bot.market.seen) == before  # not even confirmed
    assert (await market_bot.subscription(CONTOSO)).status == "active"


async def test_a_forged_operation_the_api_does_not_know_is_ignored(market_bot: MarketBot) -> None:
    sid = await bought(market_bot)
    op = market_bot.market.operation(sid, "Unsubscribe", status="Succeeded")
    del market_bot.market.operations[op["id"]]
    assert (await market_bot.webhook(op))[0] == 200
    assert (await market_bot.subscription(CONTOSO)).plan_id == "standard"


async def test_suspend_blocks_creating_in_every_app_and_reinstate_lifts_it(
    market_bot: MarketBot,
) -> None:
    sid = await bought(market_bot)
    assert "created" in (await market_bot.say(ADA, "new ticket Printer")).text.lower()
    await market_bot.webhook(market_bot.market.operation(sid, "Suspend", status="Succeeded"))
    refused = (await market_bot.say(ADA, "new ticket Scanner")).text
    assert "suspended" in refused, refused
    blank = {"title": "Onboarding", "items": "* a\nb"}
    assert "suspended" in card_text(await market_bot.press(ADA, "checklist.start", blank))
    assert "Printer" in (await market_bot.say(ADA, "tickets")).text  # everything else works
    await market_bot.webhook(market_bot.market.operation(sid, "Reinstate", status="Succeeded"))
    assert "Scanner" in (await market_bot.say(ADA, "new ticket Scanner")).text
    assert (await market_bot.subscription(CONTOSO)).status == "active"


async def test_renew_starts_a_new_term_with_usage_reset(market_bot: MarketBot) -> None:
    sid = await bought(market_bot)
    for n in range(3):
        await market_bot.say(ADA, f"new ticket T{n}")
    market_bot.clock.advance(timedelta(days=10))
    await market_bot.webhook(market_bot.market.operation(sid, "Renew", status="Succeeded"))
    sub = await market_bot.subscription(CONTOSO)
    assert sub.period_start == date(2026, 11, 12)
    assert "0 of 250" in (await market_bot.say(ADA, "usage")).text.replace("/", " of ")


async def test_unsubscribe_falls_back_to_free_and_keeps_the_data(market_bot: MarketBot) -> None:
    sid = await bought(market_bot)
    await market_bot.say(ADA, "new ticket Kept")
    await market_bot.webhook(market_bot.market.operation(sid, "Unsubscribe", status="Succeeded"))
    sub = await market_bot.subscription(CONTOSO)
    assert (sub.plan_id, sub.source) == ("free", "bot")
    assert "Kept" in (await market_bot.say(ADA, "ticket 1")).text


async def test_a_chat_plan_change_goes_through_the_marketplace(market_bot: MarketBot) -> None:
    await bought(market_bot)
    reply = await market_bot.say(ADA, "change plan premium")
    card = reply.cards[0]
    answer = await market_bot.press(ADA, "plan.change", action(card, "plan.change")["data"])
    assert "marketplace" in str(answer)
    assert (await market_bot.subscription(CONTOSO)).plan_id == "standard"  # not yet
    assert await market_bot.service.run_requests() == 1
    patch = market_bot.market.calls("PATCH")[0]
    assert patch.body == {"planId": "premium-monthly"}
    assert (await market_bot.subscription(CONTOSO)).plan_id == "premium"
    assert await market_bot.service.run_requests() == 0


async def ask_in_chat(bot: MarketBot, plan: str = "premium") -> None:
    card = (await bot.say(ADA, f"change plan {plan}")).cards[0]
    answer = await bot.press(ADA, "plan.change", action(card, "plan.change")["data"])
    assert "marketplace" in str(answer)


async def request_status(bot: MarketBot) -> list[str]:
    async with UnitOfWorkFactory(bot.db).reader(CONTOSO) as uow:
        return [r.status for r in await uow.marketplace.requests(("requested", "sent", "done"))]


async def test_a_chat_plan_change_is_followed_at_once_with_a_short_backoff(
    market_bot: MarketBot,
) -> None:
    sid = await bought(market_bot)
    market_bot.market.patch_runs_for = 3  # three GETs say InProgress, the fourth Succeeded
    await ask_in_chat(market_bot)
    SLEPT.clear()
    assert await market_bot.service.run_requests() == 1
    [op] = market_bot.market.partner_operations(sid)
    assert len(market_bot.market.calls("GET", f"/operations/{op['id']}")) == 4
    assert SLEPT == [0.5, 1.0, 2.0]  # waited for, on the injected sleep only
    assert (await market_bot.subscription(CONTOSO)).plan_id == "premium"
    assert await request_status(market_bot) == ["done"]
    assert market_bot.market.calls("PATCH", "/operations/") == []  # ours: nothing to answer
    assert await market_bot.service.run_requests() == 0


async def test_a_change_still_running_after_the_backoff_waits_for_its_webhook(
    market_bot: MarketBot,
) -> None:
    sid = await bought(market_bot)
    market_bot.market.patch_runs_for = 1000
    await ask_in_chat(market_bot)
    SLEPT.clear()
    assert await market_bot.service.run_requests() == 0
    [op] = market_bot.market.partner_operations(sid)
    following = market_bot.market.calls("GET", f"/operations/{op['id']}")
    assert len(following) == 7 and SLEPT == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]  # bounded
    assert await market_bot.service.run_requests() == 0  # looked at lately: not asked again
    assert len(market_bot.market.calls("GET", f"/operations/{op['id']}")) == 7
    # A webhook about it while it runs changes nothing and is not answered.
    await market_bot.webhook(op)
    assert (await market_bot.subscription(CONTOSO)).plan_id == "standard"
    # It succeeds: its webhook applies the plan the marketplace has, at once.
    market_bot.market.finish(op)
    await market_bot.webhook(op)
    assert (await market_bot.subscription(CONTOSO)).plan_id == "premium"
    assert await request_status(market_bot) == ["done"]
    assert market_bot.market.calls("PATCH", "/operations/") == []
    market_bot.clock.advance(timedelta(minutes=5))
    assert await market_bot.service.run_requests() == 0
    assert len(market_bot.market.calls("GET", f"/operations/{op['id']}")) == 9  # 2 webhooks


async def test_a_change_still_running_is_looked_at_again_a_minute_later(
    market_bot: MarketBot,
) -> None:
    sid = await bought(market_bot)
    market_bot.market.patch_runs_for = 1000
    await ask_in_chat(market_bot)
    await market_bot.service.run_requests()
    [op] = market_bot.market.partner_operations(sid)
    market_bot.clock.advance(timedelta(seconds=59))
    assert await market_bot.service.run_requests() == 0
    assert len(market_bot.market.calls("GET", f"/operations/{op['id']}")) == 7
    market_bot.clock.advance(timedelta(seconds=1))
    assert await market_bot.service.run_requests() == 0  # asked once more: still running
    assert len(market_bot.market.calls("GET", f"/operations/{op['id']}")) == 8
    market_bot.market.finish(op)
    market_bot.clock.advance(timedelta(seconds=60))
    assert await market_bot.service.run_requests() == 1
    assert (await market_bot.subscription(CONTOSO)).plan_id == "premium"
    assert await request_status(market_bot) == ["done"]


async def test_a_chat_change_the_marketplace_fails_is_not_applied(market_bot: MarketBot) -> None:
    sid = await bought(market_bot)
    market_bot.market.patch_outcome = "Failed"
    market_bot.market.patch_runs_for = 1
    await ask_in_chat(market_bot)
    assert await market_bot.service.run_requests() == 0
    assert (await market_bot.subscription(CONTOSO)).plan_id == "standard"
    assert market_bot.market.subscriptions[sid]["planId"] == "standard-monthly"
    assert await request_status(market_bot) == []  # failed: neither waiting nor done
    assert await market_bot.service.run_requests() == 0


async def test_sync_corrects_drift_and_says_what_it_changed(market_bot: MarketBot) -> None:
    sid = await bought(market_bot)
    other, _ = market_bot.market.add_subscription(OTHER, "premium-monthly", status="Subscribed")
    market_bot.market.subscriptions[sid]["planId"] = "professional-monthly"
    lines: list[str] = []
    changes = await market_bot.service.sync(lines.append)
    assert changes == lines and len(lines) == 2
    assert any(CONTOSO in line and "standard" in line and "professional" in line for line in lines)
    assert (await market_bot.subscription(CONTOSO)).plan_id == "professional"
    assert (await market_bot.subscription(OTHER)).plan_id == "premium"
    market_bot.market.subscriptions[other]["saasSubscriptionStatus"] = "Suspended"
    assert len(await market_bot.service.sync(lines.append)) == 1
    assert (await market_bot.subscription(OTHER)).status == "suspended"
    assert await market_bot.service.sync(lines.append) == []


async def test_the_sync_command_prints_what_it_changed(
    market_bot: MarketBot, tmp_path: Path
) -> None:
    sid = await bought(market_bot)
    market_bot.market.subscriptions[sid]["planId"] = "premium-monthly"
    settings = marketplace_settings(market_bot.issuer, market_bot.market)
    env = {
        **os.environ,
        "DATABASE_URL": market_bot.db.url,
        "MARKETPLACE_CLIENT_ID": settings.client_id,
        "MARKETPLACE_CLIENT_SECRET": settings.client_secret,
        "MARKETPLACE_TENANT_ID": settings.tenant_id,
        "MARKETPLACE_API_URL": settings.api_url,
        "MARKETPLACE_LOGIN_URL": settings.login_url,
        "MARKETPLACE_CA_FILE": settings.ca_file or "",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "marketplace",
        "sync",
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert any(CONTOSO in line and "standard" in line and "premium" in line for line in lines)
    assert lines[-1] == "1 subscription(s) corrected"
    assert (await market_bot.subscription(CONTOSO)).plan_id == "premium"

"""The purchaser of a marketplace subscription who already talks to the bot becomes an admin
when it is activated, however many users the tenant has, under each Teams id they have, and
in no other tenant."""

from __future__ import annotations

from bot.domain.clock import FixedClock
from bot.domain.plans import load_catalog
from bot.services import marketplace
from bot.services.marketplace import Purchase
from storage.models import UserAccount
from storage.statements import new_row
from storage.uow import UnitOfWorkFactory

TENANT = "tenant-contoso"
OTHER = "tenant-fabrikam"
BUYER = "aad-zoe"


async def test_the_purchaser_is_found_among_more_users_than_a_page_holds(
    uow: UnitOfWorkFactory, clock: FixedClock
) -> None:
    async with uow(TENANT) as unit:
        await unit.tenants.ensure(clock.now())
        # More users than `everyone` read at once before (10,000, by name): the purchaser's
        # name sorts last, so they were never among them.
        for i in range(10_001):
            await unit.users.add_if_absent(
                new_row(
                    UserAccount,
                    tenant_id=TENANT,
                    id=f"29:u{i:05}",
                    name=f"User {i:05}",
                    role="member",
                    created_at=clock.now(),
                )
            )
        for teams_id in ("29:zoe", "29:zoe-mobile"):  # one person, two Teams ids
            await unit.users.add_if_absent(
                new_row(
                    UserAccount,
                    tenant_id=TENANT,
                    id=teams_id,
                    aad_object_id=BUYER,
                    name="Zoë Zimmermann",
                    role="member",
                    created_at=clock.now(),
                )
            )
        await unit.commit()
    async with uow(OTHER) as unit:  # the same object id elsewhere is somebody else's business
        await unit.tenants.ensure(clock.now())
        await unit.users.add_if_absent(
            new_row(
                UserAccount,
                tenant_id=OTHER,
                id="29:zoe",
                aad_object_id=BUYER,
                name="Zoë Zimmermann",
                role="member",
                created_at=clock.now(),
            )
        )
        await unit.commit()
    purchase = Purchase(
        subscription_id="sub-1",
        tenant_id=TENANT,
        offer_id="teamswork",
        marketplace_plan="standard-monthly",
        quantity=None,
        status="Subscribed",
        purchaser_object_id=BUYER,
    )
    async with uow(TENANT) as unit:
        await marketplace.activate(unit, clock, load_catalog(), purchase)
        await unit.commit()
    async with uow.reader(TENANT) as unit:
        assert [u.id for u in await unit.users.with_roles(["admin"])] == ["29:zoe", "29:zoe-mobile"]
    async with uow.reader(OTHER) as unit:
        assert await unit.users.with_roles(["admin"]) == []

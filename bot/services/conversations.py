"""Where the bot is installed. Proactive messages are sent to these conversations."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.clock import Clock
from bot.services.identity import Identity, resolve_actor
from storage.models import ConversationRef
from storage.statements import new_row
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class Installation:
    conversation_id: str
    conversation_type: str  # personal | channel | groupChat
    service_url: str
    reference_json: str
    team_id: str | None = None
    channel_id: str | None = None
    user_id: str | None = None


async def record_installation(
    uow: UnitOfWork, clock: Clock, who: Identity | None, installation: Installation
) -> bool:
    """Store (or refresh and reactivate) a conversation reference. True if it is new or was
    inactive: the caller then welcomes the conversation."""
    async with uow:
        if who is not None:
            await resolve_actor(uow, clock, who)
        else:
            await uow.tenants.ensure(clock.now())
        now = clock.now()
        ref = await uow.conversations.get(installation.conversation_id)
        fresh = ref is None or not ref.active
        if ref is None:
            ref = await uow.conversations.get_or_create(
                new_row(
                    ConversationRef,
                    tenant_id=uow.tenant_id,
                    conversation_id=installation.conversation_id,
                    conversation_type=installation.conversation_type,
                    team_id=installation.team_id,
                    channel_id=installation.channel_id,
                    user_id=installation.user_id,
                    service_url=installation.service_url,
                    reference=installation.reference_json,
                    active=True,
                    created_at=now,
                    updated_at=now,
                )
            )
        ref.conversation_type = installation.conversation_type
        ref.team_id = installation.team_id
        ref.channel_id = installation.channel_id
        ref.user_id = installation.user_id
        ref.service_url = installation.service_url
        ref.reference = installation.reference_json
        ref.active = True
        ref.updated_at = now
        await uow.conversations.save(ref)
        await uow.commit()
        return fresh


async def record_uninstallation(uow: UnitOfWork, clock: Clock, conversation_id: str) -> None:
    async with uow:
        ref = await uow.conversations.get(conversation_id)
        if ref is not None and ref.active:
            ref.active = False
            ref.updated_at = clock.now()
            await uow.conversations.save(ref)
        await uow.commit()


async def claim_activity(uow: UnitOfWork, clock: Clock, activity_id: str) -> bool:
    """True the first time an activity id is seen in the tenant, False for a redelivery."""
    async with uow:
        fresh = await uow.activities.claim(activity_id, clock.now())
        await uow.commit()
        return fresh


async def release_activity(uow: UnitOfWork, activity_id: str) -> None:
    """Forget an activity whose processing failed, so that Teams' retry is handled."""
    async with uow:
        await uow.activities.release(activity_id)
        await uow.commit()

"""Settings of the organization (the tenant) as a whole."""

from __future__ import annotations

from bot.domain.clock import Clock
from bot.domain.errors import DomainError
from bot.services.identity import Identity, resolve_actor
from bot.services.roles import require_admin
from storage.uow import UnitOfWork

LANGUAGES = ("de", "en")


async def set_language(uow: UnitOfWork, clock: Clock, who: Identity, language: str) -> str:
    """The language of what the bot posts on its own into the tenant's channels and group
    chats (admins). People keep the language of their own last message."""
    if language not in LANGUAGES:
        raise DomainError("organization.language_usage", allowed=" | ".join(LANGUAGES))
    async with uow:
        await require_admin(uow, await resolve_actor(uow, clock, who))
        await uow.tenants.set_language(language, clock.now())
        await uow.commit()
        return language

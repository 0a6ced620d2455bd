"""Notices written to the outbox in the caller's transaction, so a change and the messages it
causes commit together (or not at all)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from bot.domain.clock import Clock
from bot.domain.notices import Notice, QuotaNotice
from bot.domain.quota import QuotaState, crossed_threshold
from bot.domain.roles import Role
from storage.models import ConversationRef, OutboxRow
from storage.uow import UnitOfWork

BROADCAST_TYPES = ("channel", "groupChat")
PREVIEW_CHARS = 300


async def _enqueue(
    uow: UnitOfWork,
    clock: Clock,
    conversation: ConversationRef,
    notice: Notice,
    locale: str | None,
    thread: str | None = None,
    recipient: str | None = None,
) -> None:
    assert conversation.id is not None
    now = clock.now()
    await uow.outbox.enqueue(
        OutboxRow(
            tenant_id=uow.tenant_id,
            conversation_ref_id=conversation.id,
            thread_conversation_id=thread,
            recipient_id=recipient,
            kind=notice.KIND,
            payload=notice.to_json(),
            locale=locale,
            next_attempt_at=now,
            created_at=now,
        )
    )


@dataclass(frozen=True)
class Recipient:
    conversation: ConversationRef
    open_chat_with: str | None = None  # a user to open a personal chat with first
    locale: str | None = None  # the recipient's own language, where known


async def quota_audience(uow: UnitOfWork) -> list[Recipient]:
    """Every active channel and group chat of the tenant, and each admin's personal chat, in
    the admin's language. An admin the bot has no personal chat with is reached by opening one
    through a team channel."""
    conversations = await uow.conversations.active()
    admins = await uow.users.with_roles([Role.ADMIN.value])
    shared = [c for c in conversations if c.conversation_type in BROADCAST_TYPES]
    personal = {
        c.user_id: c for c in conversations if c.conversation_type == "personal" and c.user_id
    }
    team_channel = next((c for c in shared if c.conversation_type == "channel"), None)
    audience = [Recipient(c) for c in shared]
    for admin in admins:
        if admin.id in personal:
            audience.append(Recipient(personal[admin.id], locale=admin.locale))
        elif team_channel is not None:
            audience.append(Recipient(team_channel, open_chat_with=admin.id, locale=admin.locale))
    return audience


async def notice_quota(
    uow: UnitOfWork,
    clock: Clock,
    before: QuotaState,
    after: QuotaState,
    period_start: date,
    thresholds: Sequence[int],
    locale: str | None,
) -> int | None:
    """If this create crossed a threshold not yet notified for this period and limit, queue
    the warning for the whole organization. Returns the threshold notified, if any."""
    level = crossed_threshold(before.used, after.used, after.limit, thresholds)
    if level is None:
        return None
    if not await uow.notices.record(after.app.value, period_start, level, after.limit, clock.now()):
        return None
    notice = QuotaNotice(after.app, after.used, after.limit, level, after.renews_on)
    # Channels and group chats read the organization's language, where an admin set one.
    locale = await uow.tenants.language() or locale
    for recipient in await quota_audience(uow):
        await _enqueue(
            uow,
            clock,
            recipient.conversation,
            notice,
            recipient.locale or locale,
            recipient=recipient.open_chat_with,
        )
    return level


def channel_thread(conversation_id: str) -> tuple[str, str | None]:
    """(channel-level id, thread id or None) of the conversation a ticket was created in."""
    if ";messageid=" in conversation_id:
        return conversation_id.split(";messageid=", 1)[0], conversation_id
    return conversation_id, None


async def notice_person(
    uow: UnitOfWork,
    clock: Clock,
    person_id: str,
    notice: Notice,
    origin_conversation_id: str | None,
    locale: str | None,
) -> bool:
    """Tell one person about an item: in their personal chat with the bot if there is one,
    else in the channel thread or group chat where the item was created; never in somebody
    else's personal chat."""
    personal = await uow.conversations.personal_chat(person_id)
    if personal is not None:
        person = await uow.users.get(person_id)
        own_locale = person.locale if person is not None and person.locale else locale
        await _enqueue(uow, clock, personal, notice, own_locale)
        return True
    if not origin_conversation_id:
        return False
    channel_id, thread = channel_thread(origin_conversation_id)
    origin = await uow.conversations.get(channel_id)
    if origin is None or not origin.active or origin.conversation_type not in BROADCAST_TYPES:
        return False
    locale = await uow.tenants.language() or locale
    await _enqueue(uow, clock, origin, notice, locale, thread)
    return True


def preview(text: str) -> str:
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"

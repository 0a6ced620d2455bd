"""The proactive side of the database, read straight from the tables: outbox messages, quota
notices given, conversation references. Plus Bot Framework-shaped conversation references, so
that rows written by a test can really be delivered to the fake connector."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from bot.domain.clock import Clock
from bot.domain.notices import QuotaNotice, TicketNotice
from bot.services import conversations
from bot.services.conversations import Installation
from bot.services.identity import Identity
from storage.db import Database
from storage.models import OutboxRow
from storage.uow import UnitOfWorkFactory
from tests.support.teams import BOT_ID, BOT_NAME


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    tenant_id: str
    conversation_id: str  # of the conversation reference, channel level
    thread_conversation_id: str | None
    kind: str
    payload: str
    locale: str | None
    status: str
    attempts: int
    next_attempt_at: datetime
    claimed_by: str | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @property
    def quota(self) -> QuotaNotice:
        assert self.kind == QuotaNotice.KIND, self.kind
        return QuotaNotice.from_json(self.payload)

    @property
    def ticket(self) -> TicketNotice:
        assert self.kind == TicketNotice.KIND, self.kind
        return TicketNotice.from_json(self.payload)


@dataclass(frozen=True)
class NoticeRecord:
    tenant_id: str
    app: str
    period_start: date
    threshold: int
    limit: int


def _aware(value: Any) -> Any:
    # A raw query on SQLite hands timestamps back as text, without the zone.
    if value is None or isinstance(value, datetime):
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value
    parsed = datetime.fromisoformat(str(value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def outbox_rows(db: Database, tenant_id: str | None = None) -> list[OutboxRecord]:
    """Every outbox message (of one tenant, if given), in the order they were written."""
    query = (
        "SELECT o.id, o.tenant_id, c.conversation_id, o.thread_conversation_id, o.kind, "
        "o.payload, o.locale, o.status, o.attempts, o.next_attempt_at, o.claimed_by, "
        "o.last_error, o.created_at, o.sent_at "
        "FROM outbox o JOIN conversations c ON c.id = o.conversation_ref_id"
    )
    params: dict[str, Any] = {}
    if tenant_id is not None:
        query += " WHERE o.tenant_id = :t"
        params["t"] = tenant_id
    async with db.engine.connect() as conn:
        result = await conn.execute(sa.text(query + " ORDER BY o.id"), params)
        return [
            OutboxRecord(
                int(r[0]),
                str(r[1]),
                str(r[2]),
                r[3],
                str(r[4]),
                str(r[5]),
                r[6],
                str(r[7]),
                int(r[8]),
                _aware(r[9]),
                r[10],
                r[11],
                _aware(r[12]),
                _aware(r[13]),
            )
            for r in result
        ]


async def outbox_row(db: Database, message_id: int) -> OutboxRecord:
    [row] = [r for r in await outbox_rows(db) if r.id == message_id]
    return row


async def notice_rows(db: Database, tenant_id: str) -> list[NoticeRecord]:
    async with db.engine.connect() as conn:
        result = await conn.execute(
            sa.text(
                "SELECT tenant_id, app, period_start, threshold, quota_limit FROM quota_notices "
                "WHERE tenant_id = :t ORDER BY period_start, quota_limit, threshold"
            ),
            {"t": tenant_id},
        )
        return [
            NoticeRecord(str(t), str(a), _day(p), int(th), int(lim)) for t, a, p, th, lim in result
        ]


async def conversation_active(db: Database, tenant_id: str, conversation_id: str) -> bool:
    async with db.engine.connect() as conn:
        value = (
            await conn.execute(
                sa.text(
                    "SELECT active FROM conversations WHERE tenant_id = :t AND conversation_id = :c"
                ),
                {"t": tenant_id, "c": conversation_id},
            )
        ).scalar_one()
    return bool(value)


async def conversation_ref_id(db: Database, tenant_id: str, conversation_id: str) -> int:
    async with db.engine.connect() as conn:
        value = (
            await conn.execute(
                sa.text(
                    "SELECT id FROM conversations WHERE tenant_id = :t AND conversation_id = :c"
                ),
                {"t": tenant_id, "c": conversation_id},
            )
        ).scalar_one()
    return int(value)


def reference_json(
    tenant_id: str,
    conversation_id: str,
    conversation_type: str,
    service_url: str,
    user_id: str = "29:someone",
) -> str:
    """A ConversationReference as botbuilder serializes it (what the bot stores)."""
    return json.dumps(
        {
            "activityId": "act-installed",
            "user": {"id": user_id, "name": "Someone"},
            "bot": {"id": BOT_ID, "name": BOT_NAME},
            "conversation": {
                "id": conversation_id,
                "conversationType": conversation_type,
                "tenantId": tenant_id,
                **({"isGroup": True} if conversation_type != "personal" else {}),
            },
            "channelId": "msteams",
            "locale": "en-US",
            "serviceUrl": service_url,
        }
    )


async def install(
    factory: UnitOfWorkFactory,
    clock: Clock,
    who: Identity,
    conversation_id: str,
    conversation_type: str = "personal",
    service_url: str = "http://127.0.0.1:9/connector",
) -> None:
    """The bot is installed in a conversation by `who` (a personal chat is `who`'s own)."""
    personal = conversation_type == "personal"
    await conversations.record_installation(
        factory(who.tenant_id),
        clock,
        who,
        Installation(
            conversation_id=conversation_id,
            conversation_type=conversation_type,
            service_url=service_url,
            reference_json=reference_json(
                who.tenant_id, conversation_id, conversation_type, service_url, who.user_id
            ),
            team_id="19:team@thread.tacv2" if conversation_type == "channel" else None,
            channel_id=conversation_id if conversation_type == "channel" else None,
            user_id=who.user_id if personal else None,
        ),
    )


async def enqueue(
    factory: UnitOfWorkFactory,
    tenant_id: str,
    conversation_id: str,
    notice: QuotaNotice | TicketNotice,
    at: datetime,
    *,
    locale: str | None = "en-US",
    thread: str | None = None,
) -> int:
    """Write one outbox message directly, the way a service does inside its transaction."""
    async with factory(tenant_id) as uow:
        ref = await uow.conversations.get(conversation_id)
        assert ref is not None and ref.id is not None, conversation_id
        row = OutboxRow(
            tenant_id=tenant_id,
            conversation_ref_id=ref.id,
            thread_conversation_id=thread,
            kind=notice.KIND,
            payload=notice.to_json(),
            locale=locale,
            next_attempt_at=at,
            created_at=at,
        )
        await uow.outbox.enqueue(row)
        await uow.commit()
        assert row.id is not None
        return row.id

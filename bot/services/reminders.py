"""The daily reminder pass: each person with tickets or checklists due today or overdue gets
one digest a day, in their personal chat, through the outbox and its rate limits."""

from __future__ import annotations

import logging

from bot.domain.checklists import DueItem, ReminderNotice
from bot.domain.clock import Clock
from bot.services.notifications import notice_person
from storage.db import Database
from storage.reminders import people_with_due_items
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


async def send_reminders(db: Database, units: UnitOfWorkFactory, clock: Clock) -> int:
    """Queue today's digests; returns how many were queued. Safe to run again the same day
    and from several processes: each person's digest is recorded once per UTC day."""
    today = clock.now().date()
    queued = 0
    for tenant_id, user_id in await people_with_due_items(db, today):
        async with units(tenant_id) as uow:
            if not await uow.reminders.record(user_id, today, clock.now()):
                continue
            items = [
                DueItem("tickets", t.number, t.title, t.due)
                for t in await uow.tickets.due_for(user_id, today)
                if t.due is not None
            ] + [
                DueItem("checklists", c.number, c.title, c.due)
                for c in await uow.checklists.due_for(user_id, today)
                if c.due is not None
            ]
            items.sort(key=lambda i: (i.due, i.app, i.number))
            # Only their own chat: a digest of one person's work is not for a channel.
            if items and await notice_person(
                uow, clock, user_id, ReminderNotice(today, tuple(items)), None, None
            ):
                queued += 1
            await uow.commit()
    if queued:
        log.info("queued %d reminder digests for %s", queued, today)
    return queued

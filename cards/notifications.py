"""Cards the bot posts on its own: quota warnings and ticket notifications."""

from __future__ import annotations

from bot.domain.notices import QuotaNotice, TicketEvent, TicketNotice
from bot.domain.quota import FULL, QuotaState
from bot.i18n import fmt_date, fmt_number, fmt_percent, t
from cards.billing import app_title, quota_lines
from cards.common import Card, Element, card, execute, heading, literal, text


def quota_warning_card(locale: str | None, notice: QuotaNotice) -> Card:
    state = QuotaState(notice.app, notice.used, notice.limit, notice.renews_on)
    app = t(locale, f"app.{notice.app.value}")
    key = "warning.reached" if notice.threshold >= FULL else "warning.near"
    body: list[Element] = [
        heading(
            t(
                locale,
                "warning.title_reached" if notice.threshold >= FULL else "warning.title_near",
                app=app_title(locale, notice.app),
            )
        ),
        text(
            t(
                locale,
                key,
                app=app,
                used=fmt_number(locale, notice.used),
                limit=fmt_number(locale, notice.limit),
                percent=fmt_percent(locale, state.percent),
                renews=fmt_date(locale, notice.renews_on),
            )
        ),
        *quota_lines(locale, state),
    ]
    return card(
        body,
        [execute(t(locale, "button.plans"), "plans"), execute(t(locale, "button.usage"), "usage")],
    )


def ticket_notice_card(locale: str | None, notice: TicketNotice) -> Card:
    status = t(locale, f"status.{notice.status.value}")
    params = {
        "actor": literal(notice.actor),
        "number": notice.number,
        "title": literal(notice.title),
        "status": status,
        "detail": literal(notice.detail),
    }
    body: list[Element] = [
        text(t(locale, f"notify.{notice.event.value}", **params), weight="Bolder"),
        text(
            t(locale, "ticket.heading", number=notice.number, title=literal(notice.title)),
            spacing="Small",
        ),
    ]
    if notice.event is TicketEvent.COMMENTED and notice.detail:
        body.append(text(literal(notice.detail), isSubtle=True))
    return card(body, [execute(t(locale, "button.open"), "ticket.show", {"number": notice.number})])

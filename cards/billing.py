"""Subscription cards: usage, plans, plan change, cancellation, statement, quota reached."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from bot.domain.billing import BillingPeriod, ChangeKind, StatementLine
from bot.domain.plans import App, Plan
from bot.domain.quota import QuotaExceeded, QuotaState
from bot.domain.subscription import ScheduledChange, Statement
from bot.i18n import fmt_date, fmt_datetime, fmt_money, fmt_number, fmt_percent, t
from cards.common import (
    Card,
    Element,
    attention,
    card,
    choice_set,
    error_text,
    execute,
    heading,
    progress_bar,
    text,
)


def _app(locale: str | None, app: App) -> str:
    return t(locale, f"app.{app.value}")


def app_title(locale: str | None, app: App) -> str:
    """The app's name capitalized, for the start of a line or a heading."""
    name = _app(locale, app)
    return name[:1].upper() + name[1:]


def _period(locale: str | None, period: BillingPeriod) -> str:
    last = period.end - timedelta(days=1)
    return t(
        locale, "billing.period", start=fmt_date(locale, period.start), end=fmt_date(locale, last)
    )


def _days(locale: str | None, days: int) -> str:
    return t(locale, "billing.day" if days == 1 else "billing.days", days=days)


def _price(locale: str | None, plan: Plan) -> str:
    return t(locale, f"price.{plan.term.value}", price=fmt_money(locale, plan.price, plan.currency))


def quota_lines(locale: str | None, quota: QuotaState) -> list[Element]:
    return [
        text(
            t(
                locale,
                "usage.line",
                app=app_title(locale, quota.app),
                used=fmt_number(locale, quota.used),
                limit=fmt_number(locale, quota.limit),
                percent=fmt_percent(locale, quota.percent),
            ),
            weight="Bolder",
        ),
        progress_bar(quota.percent),
    ]


def usage_card(
    locale: str | None,
    plan: Plan,
    period: BillingPeriod,
    quotas: Sequence[QuotaState],
    suspended: bool = False,
    scheduled: ScheduledChange | None = None,
) -> Card:
    body: list[Element] = [heading(t(locale, "usage.title"))]
    if suspended:
        body.append(attention(t(locale, "subscription.suspended")))
    body.append(
        text(
            t(
                locale,
                "usage.plan",
                plan=plan.name,
                term=t(locale, f"term.{plan.term.value}"),
                period=_period(locale, period),
                renews=fmt_date(locale, period.end),
            )
        )
    )
    for quota in quotas:
        body += quota_lines(locale, quota)
    actions = [execute(t(locale, "button.plans"), "plans")]
    if scheduled is not None:
        body.append(_scheduled_line(locale, scheduled))
        actions.append(execute(t(locale, "scheduled.call_off"), "plan.call_off"))
    return card(body, actions)


def _scheduled_line(locale: str | None, scheduled: ScheduledChange) -> Element:
    return text(
        t(
            locale,
            "scheduled.line",
            target=scheduled.target.name,
            current=scheduled.current.name,
            on=fmt_date(locale, scheduled.on),
        ),
        color="Warning",
        separator=True,
    )


def call_off_card(locale: str | None, scheduled: ScheduledChange) -> Card:
    return card(
        [
            heading(t(locale, "scheduled.called_off_title")),
            text(
                t(
                    locale,
                    "scheduled.called_off",
                    current=scheduled.current.name,
                    target=scheduled.target.name,
                    on=fmt_date(locale, scheduled.on),
                )
            ),
        ],
        [execute(t(locale, "button.usage"), "usage")],
    )


def end_of_term_card(locale: str | None, scheduled: ScheduledChange, *, done: bool) -> Card:
    """ "Do not renew": free from the end of the term."""
    values = {
        "plan": scheduled.current.name,
        "free": scheduled.target.name,
        "on": fmt_date(locale, scheduled.on),
    }
    if done:
        return card(
            [
                heading(t(locale, "end.done_title", **values)),
                text(t(locale, "end.done", **values)),
            ],
            [
                execute(t(locale, "button.usage"), "usage"),
                execute(t(locale, "scheduled.call_off"), "plan.call_off"),
            ],
        )
    return card(
        [heading(t(locale, "end.title", **values)), text(t(locale, "end.explain", **values))],
        [
            execute(t(locale, "end.confirm"), "subscription.end"),
            execute(t(locale, "button.keep_plan"), "usage"),
        ],
    )


def _plan_column(locale: str | None, plan: Plan, current: bool) -> Element:
    items: list[Element] = [
        text(
            plan.name + (f" ({t(locale, 'plans.current')})" if current else ""),
            weight="Bolder",
            color="Accent" if current else "Default",
        ),
        text(_price(locale, plan), spacing="None"),
    ]
    for app in App:
        items.append(
            text(
                t(
                    locale,
                    "plans.quota",
                    count=fmt_number(locale, plan.quotas[app]),
                    app=_app(locale, app),
                ),
                size="Small",
                spacing="None",
            )
        )
    return {
        "type": "Column",
        "width": "stretch",
        "items": items,
        **({"style": "accent"} if current else {}),
    }


def plans_card(
    locale: str | None,
    current: Plan,
    plans: Sequence[Plan],
    other_term: Sequence[Plan],
    is_admin: bool,
) -> Card:
    body: list[Element] = [
        heading(t(locale, "plans.title")),
        text(t(locale, "plans.intro", term=t(locale, f"term.{current.term.value}"))),
        {
            "type": "ColumnSet",
            "columns": [_plan_column(locale, p, p.id == current.id) for p in plans],
        },
    ]
    if other_term:
        body.append(text(t(locale, "plans.other_term"), weight="Bolder", separator=True))
        body.append(
            {"type": "ColumnSet", "columns": [_plan_column(locale, p, False) for p in other_term]}
        )
    choices = [
        (
            plan.id,
            t(
                locale,
                "plans.option",
                plan=plan.name,
                term=t(locale, f"term.{plan.term.value}"),
                price=_price(locale, plan),
            ),
        )
        for plan in (*plans, *other_term)
        if plan.id != current.id
    ]
    if not is_admin:
        body.append(text(t(locale, "plans.ask_admin"), isSubtle=True))
    if not is_admin or not choices:
        return card(body)
    # One list of plans and one button: a button per plan cannot say which plan it buys.
    body.append(choice_set("plan", t(locale, "plans.choose_label"), choices, value=choices[0][0]))
    return card(body, [execute(t(locale, "button.switch_plan"), "plan.confirm")])


def _line_rows(locale: str | None, statement_lines: Sequence[tuple[str, str, str]]) -> Element:
    return {
        "type": "FactSet",
        "facts": [
            {"title": f"{label} ({days})" if days else label, "value": amount}
            for label, days, amount in statement_lines
        ],
    }


def plan_change_card(
    locale: str | None,
    current: Plan,
    target: Plan,
    kind: ChangeKind,
    period: BillingPeriod,
    lines: Sequence[StatementLine],
    total: Decimal,
    quotas: dict[App, int],
    used: dict[App, int],
    *,
    done: bool,
    accrued: Decimal | None = None,
    effective: date | None = None,
) -> Card:
    if kind is ChangeKind.SCHEDULED and effective is not None:
        return _scheduled_change_card(
            locale, current, target, period, lines, total, quotas, used, effective, done=done
        )
    body: list[Element] = [
        heading(
            t(
                locale,
                "change.done_title" if done else "change.title",
                current=current.name,
                target=target.name,
            )
        ),
    ]
    if kind is ChangeKind.RESTART:
        body.append(
            text(
                t(
                    locale,
                    "change.restart",
                    term=t(locale, f"term.{target.term.value}"),
                    start=fmt_date(locale, period.start),
                )
            )
        )
    else:
        body.append(text(t(locale, "change.prorated", period=_period(locale, period))))
    body.append(
        _line_rows(
            locale,
            [
                (
                    line.plan.name,
                    _days(locale, line.days),
                    fmt_money(locale, line.amount, line.plan.currency),
                )
                for line in lines
            ],
        )
    )
    body += _projection(locale, total, accrued, target.currency)
    body.append(text(t(locale, "change.quota_title"), weight="Bolder", separator=True))
    for app in App:
        body.append(
            text(
                t(
                    locale,
                    "change.quota_line",
                    app=app_title(locale, app),
                    limit=fmt_number(locale, quotas[app]),
                    used=fmt_number(locale, used[app]),
                ),
                spacing="None",
            )
        )
        if used[app] >= quotas[app]:
            body.append(
                text(
                    t(locale, "change.over_limit", app=_app(locale, app)),
                    color="Attention",
                    size="Small",
                    spacing="None",
                )
            )
    if done:
        return card(body, [execute(t(locale, "button.usage"), "usage")])
    return card(
        body,
        [
            execute(
                t(locale, "change.confirm", plan=target.name), "plan.change", {"plan": target.id}
            ),
            execute(t(locale, "button.keep_plan"), "plans"),
        ],
    )


def _projection(
    locale: str | None, total: Decimal, accrued: Decimal | None, currency: str
) -> list[Element]:
    """The projected charge for the whole period, and what has accrued so far, each labelled."""
    elements: list[Element] = [
        text(
            t(locale, "change.total", total=fmt_money(locale, total, currency)),
            weight="Bolder",
        )
    ]
    if accrued is not None:
        elements.append(
            text(
                t(locale, "change.accrued", accrued=fmt_money(locale, accrued, currency)),
                spacing="None",
            )
        )
    return elements


def _scheduled_change_card(
    locale: str | None,
    current: Plan,
    target: Plan,
    period: BillingPeriod,
    lines: Sequence[StatementLine],
    total: Decimal,
    quotas: dict[App, int],
    used: dict[App, int],
    effective: date,
    *,
    done: bool,
) -> Card:
    """A downgrade that this period's usage does not fit: the figures, and the renewal date."""
    on = fmt_date(locale, effective)
    title = "change.scheduled_title" if done else "change.title"
    body: list[Element] = [
        heading(t(locale, title, current=current.name, target=target.name, on=on)),
        text(t(locale, "change.scheduled", current=current.name, target=target.name, on=on)),
    ]
    for app in App:
        if used[app] > quotas[app]:
            body.append(
                text(
                    t(
                        locale,
                        "change.scheduled_line",
                        app=app_title(locale, app),
                        used=fmt_number(locale, used[app]),
                        target=target.name,
                        limit=fmt_number(locale, quotas[app]),
                    ),
                    color="Attention",
                    spacing="None",
                )
            )
    body.append(
        text(
            t(locale, "billing.current", period=_period(locale, period)),
            weight="Bolder",
            separator=True,
        )
    )
    body.append(
        _line_rows(
            locale,
            [
                (
                    line.plan.name,
                    _days(locale, line.days),
                    fmt_money(locale, line.amount, line.plan.currency),
                )
                for line in lines
            ],
        )
    )
    body += _projection(locale, total, None, current.currency)
    if done:
        return card(
            body,
            [
                execute(t(locale, "button.usage"), "usage"),
                execute(t(locale, "scheduled.call_off"), "plan.call_off"),
            ],
        )
    return card(
        body,
        [
            execute(
                t(locale, "change.schedule_confirm", plan=target.name, on=on),
                "plan.change",
                {"plan": target.id},
            ),
            execute(t(locale, "button.keep_plan"), "plans"),
        ],
    )


def cancellation_card(
    locale: str | None,
    plan: Plan,
    refund: Decimal,
    deadline: datetime,
    free: Plan,
    *,
    done: bool,
) -> Card:
    if done:
        return card(
            [
                heading(t(locale, "cancel.done_title")),
                text(
                    t(
                        locale,
                        "cancel.done",
                        plan=plan.name,
                        free=free.name,
                        refund=fmt_money(locale, refund, plan.currency),
                    )
                ),
            ],
            [execute(t(locale, "button.plans"), "plans")],
        )
    return card(
        [
            heading(t(locale, "cancel.title", plan=plan.name)),
            text(
                t(
                    locale,
                    "cancel.explain",
                    free=free.name,
                    refund=fmt_money(locale, refund, plan.currency),
                    deadline=fmt_datetime(locale, deadline),
                )
            ),
        ],
        [
            execute(t(locale, "cancel.confirm"), "subscription.cancel"),
            execute(t(locale, "button.keep_plan"), "usage"),
        ],
    )


def statement_card(
    locale: str | None,
    statements: Sequence[Statement],
    scheduled: ScheduledChange | None = None,
) -> Card:
    body: list[Element] = [heading(t(locale, "billing.title"))]
    if scheduled is not None:
        body.append(_scheduled_line(locale, scheduled))
    for statement in statements:
        currency = statement.lines[0].plan.currency if statement.lines else "EUR"
        label = "billing.current" if statement.current else "billing.past"
        body.append(
            text(
                t(locale, label, period=_period(locale, statement.period)),
                weight="Bolder",
                separator=True,
            )
        )
        rows = [
            (
                f"{line.plan.name}, {t(locale, f'term.{line.plan.term.value}')}",
                t(locale, "billing.voided", days=_days(locale, line.days))
                if line.voided
                else _days(locale, line.days),
                fmt_money(locale, line.amount, line.plan.currency),
            )
            for line in statement.lines
        ]
        rows += [
            (t(locale, "billing.refund"), "", fmt_money(locale, -amount, currency))
            for amount in statement.refunds
            if amount
        ]
        if rows:
            body.append(_line_rows(locale, rows))
        total = fmt_money(locale, statement.total, currency)
        if statement.accrued is None:
            body.append(
                text(t(locale, "billing.total", total=total), weight="Bolder", spacing="Small")
            )
        else:
            # The current period: the projection to its end, and what has accrued so far.
            body.append(
                text(t(locale, "billing.projected", total=total), weight="Bolder", spacing="Small")
            )
            body.append(
                text(
                    t(
                        locale,
                        "billing.accrued",
                        accrued=fmt_money(locale, statement.accrued, currency),
                    ),
                    spacing="None",
                )
            )
    if len(statements) == 1:
        return card(
            body, [execute(t(locale, "button.billing_history"), "billing", {"history": True})]
        )
    return card(body)


def quota_reached_banner(locale: str | None, error: QuotaExceeded) -> list[Element]:
    """Says which quota is used up, how much, when it renews, and what plans have more."""
    state = error.state
    elements: list[Element] = [attention(error_text(locale, error))]
    if error.upgrades:
        offers = "\n".join(
            f"- **{p.name}**: "
            + t(
                locale,
                "plans.quota",
                count=fmt_number(locale, p.quotas[state.app]),
                app=_app(locale, state.app),
            )
            + f", {_price(locale, p)}"
            for p in error.upgrades
        )
        elements.append(text(t(locale, "quota.upgrades") + "\n" + offers))
    elements.append(text(t(locale, "quota.kept"), isSubtle=True, size="Small"))
    elements.append({"type": "ActionSet", "actions": [execute(t(locale, "button.plans"), "plans")]})
    return elements


def near_limit_banner(locale: str | None, quotas: Sequence[QuotaState]) -> list[Element]:
    """A short line on cards while a quota is past its first warning threshold."""
    return [
        text(
            t(
                locale,
                "quota.near_banner",
                app=app_title(locale, q.app),
                percent=fmt_percent(locale, q.percent),
                renews=fmt_date(locale, q.renews_on),
            ),
            color="Warning",
            size="Small",
        )
        for q in quotas
    ]

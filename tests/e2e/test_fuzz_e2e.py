"""Hypothesis drives the real bot over HTTP, on SQLite and PostgreSQL: every verb of the app
registry pressed with card data whose every field is missing, valid, of the wrong type
(numbers, floats, booleans, null, lists, nested objects), of the wrong size (empty, past the
field's limit, past the 16,000-character payload limit) or full of hostile characters (NUL,
lone surrogates, bidi marks, markdown, emoji, combining marks, Unicode digits); and every
command phrase of the registry typed with fuzzed arguments.

Each example is one to three activities in a tenant of its own (an admin, an agent, a member,
two tickets), so that replaying it while shrinking meets the same state. Every activity must be
answered with status < 500 and a card (or one reply) without the apology, and without live
markdown from the user's text. After every activity and after the run, nothing is half-written:
every ticket has its "created" history line, the tickets are exactly those the bot announced as
created, each tenant's quota counts its tickets, no comment or history line belongs to no
ticket. After the run the bot is healthy. The inputs issue 9 lists always run first, as explicit
examples, and so does a tenant at its quota.

The bot runs once per test on the test's event loop; hypothesis runs in a worker thread and
hands each activity to that loop, so that the whole-run checks can follow the run. Examples are
derandomized (no example database), so CI sees the same inputs every run.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.sql import ColumnElement

from bot.apps import build_registry
from bot.domain.plans import load_catalog
from bot.domain.roles import Role
from bot.domain.tickets import Priority, Status, TicketFilter
from bot.i18n import t
from storage.db import Database
from storage.models import ItemCommentRow, ItemEventRow, QuotaUsageRow, TicketRow
from tests.e2e.conftest import Bot
from tests.support import teams
from tests.support.cards import card_text
from tests.support.markdown import live_markdown, markdown_texts

T = TypeVar("T")

REGISTRY = build_registry()
VERBS = sorted(REGISTRY.verbs)
PHRASES = sorted({phrase for command in REGISTRY.commands for phrase in command.phrases})
APOLOGY = t("en-US", "error.generic").split(".")[0]  # "Sorry, something went wrong on our side"
CREATED = re.compile(r"Ticket #(\d+) was created\.")
PAYLOAD_LIMIT = 16_000

ADMIN = teams.TeamsUser("tenant-f", "29:admin", "Ada Admin", "aad-admin")
AGENT = teams.TeamsUser("tenant-f", "29:agent", "Aga Agent", "aad-agent")
MEMBER = teams.TeamsUser("tenant-f", "29:member", "Mem Member", "aad-member")
USERS = (ADMIN, AGENT, MEMBER)

# The fields each verb's handler reads from its card data. Every verb of the registry is listed
# (test_every_verb_of_the_registry_is_fuzzed), so that a new verb cannot escape the fuzz.
FIELDS: dict[str, tuple[str, ...]] = {
    "help": (),
    "unknown": ("text", "suggestion"),
    "roles.list": (),
    "roles.set": ("user_id", "role", "user_name"),
    "ticket.form": (),
    "ticket.create": ("title", "description", "priority", "category", "due"),
    "tickets.list": ("filter", "page"),
    "ticket.show": ("number",),
    "ticket.refresh": ("number", "seen"),
    "ticket.assign_me": ("number", "seen"),
    "ticket.assign": ("number", "assignee", "seen"),
    "ticket.status": ("number", "status", "seen"),
    "ticket.close": ("number", "seen"),
    "ticket.reopen": ("number", "seen"),
    "ticket.priority": ("number", "priority", "seen"),
    "ticket.comment": ("number", "comment", "seen"),
    "usage": (),
    "plans": (),
    "plan.confirm": ("plan",),
    "plan.change": ("plan",),
    "subscription.cancel_confirm": (),
    "subscription.cancel": (),
    "plan.call_off": (),
    "subscription.end_confirm": (),
    "subscription.end": (),
    "billing": ("history",),
    "template.form": (),
    "template.create": ("title", "description", "items"),
    "template.edit_form": ("number",),
    "template.update": ("number", "title", "description", "items"),
    "template.archive": ("number",),
    "template.restore": ("number",),
    "templates.list": ("page",),
    "template.show": ("number",),
    "checklist.form": ("template",),
    "checklist.start": ("title", "template", "items", "assignee", "reviewer", "due"),
    "checklists.list": ("filter", "page"),
    "checklist.show": ("number",),
    "checklist.check": ("number", "position", "checked"),
    "checklist.note": ("number", "position", "note"),
    "checklist.submit": ("number",),
    "checklist.approve": ("number",),
    "checklist.return": ("number", "comment"),
    "organization.language": ("language",),
    "opportunity.form": (),
    "opportunity.create": (
        "name",
        "amount",
        "currency",
        "close_date",
        "account",
        "contact",
        "contact_email",
        "next_step",
    ),
    "opportunities.list": ("filter", "page"),
    "opportunity.show": ("number",),
    "opportunity.advance": ("number",),
    "opportunity.stage": ("number", "stage", "lost_reason"),
    "opportunity.reopen": ("number",),
    "opportunity.edit": (
        "number",
        "amount",
        "currency",
        "close_date",
        "probability",
        "next_step",
        "owner",
    ),
    "opportunity.owner": ("number", "owner"),
    "opportunity.note": ("number", "note"),
    "pipeline.show": ("mine",),
    "accounts.list": ("filter", "page"),
    "account.show": ("number",),
    "account.edit": ("number", "domain", "notes"),
    "contacts.list": ("filter", "page"),
    "contact.show": ("number",),
    "contact.edit": ("number", "email", "phone", "job_role"),
}

# -- values ----------------------------------------------------------------------------------

# Single code points, by kind.
CONTROL = "\x00\x00\x01\x08\x1b\x7f\x85"  # NUL twice: PostgreSQL refuses it in text
SURROGATES = "\ud800\udbff\udc00\udfff"  # lone halves (JSON escapes them; UTF-8 cannot)
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u202a\u202e\u2066\u2069\u2028\u2029\u2060\ufeff"
COMBINING = "\u0301\u0336\u20dd\u0489"
DIGITS = "\u00b2\u00b9\u0661\u0663\u06f1\u07c1\u0967\uff11\u2167\u2460\U0001d7d9"  # isdigit()
MARKDOWN = "*_~`#[]()<>!|\\\"'&{}$%\n\r\t \u00a0"
OTHER = "\U0001f600\U0001f4a9\U0010ffff\ufffd\u00e9\u4e2d\u05d0\u0627aZ09 "
# Several code points that mean something together: links, emphasis, template and markup
# syntax, mention tags, an emoji sequence, a number in other scripts.
HOSTILE_FRAGMENTS = (
    "**URGENT**",
    "_SHOUT_",
    "~~GONE~~",
    "[Click](https://evil.example/phish)",
    "[x](javascript:alert(1))",
    "<https://evil.example>",
    "www.evil.example",
    "# ADMIN",
    "> quote",
    "- item",
    "1. item",
    "```code```",
    "{{DATE(2017-02-14T06:08:39Z, SHORT)}}",
    "${$root.secret}",
    "<at>Aga Agent</at>",
    "<b>bold</b>",
    "&nbsp;",
    "&lt;script&gt;",
    "\U0001f469\u200d\U0001f4bb",
    "\U0001f1fa\U0001f1f8",
    "e\u0301\u0301\u0301",
    "\u202eevil\u202c",
    "\u00b2\u00b3",
    "\u0661\u0662",
    "' OR 1=1 --",
    "%s%n{0}",
    "\\u0000",
)


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """One of the strategies, drawn in proportion to its weight. (`st.one_of` flattens nested
    one_ofs, so a strategy made of many branches would otherwise crowd out the others.)"""
    table = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(table).flatmap(lambda strategy: strategy)


hostile_text = st.lists(
    weighted(
        (3, st.sampled_from(CONTROL + SURROGATES)),
        (2, st.sampled_from(INVISIBLE + COMBINING)),
        (2, st.sampled_from(DIGITS)),
        (3, st.sampled_from(MARKDOWN)),
        (3, st.sampled_from(OTHER)),
        (3, st.sampled_from(HOSTILE_FRAGMENTS)),
        # Any code point at all, surrogates included.
        (2, st.characters(codec=None, exclude_categories=())),
    ),
    max_size=24,
).map("".join)

# Text with at least one of the code points that broke the bot before (NUL, a lone surrogate,
# a digit int() misreads, a bidi override), where a value is stored or parsed.
NASTY = CONTROL[:2] + SURROGATES + DIGITS[:4] + "\u202e\u200f"
stored_text = st.builds(
    lambda before, nasty, after: before + nasty + after,
    hostile_text,
    st.sampled_from(NASTY),
    hostile_text,
)


def _repeat(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


# Strings around the limits: a title's 200, a description's 4,000, the payload's 16,000, and
# past the HTTP body limit (a 413) once escaped.
huge_text = st.builds(
    _repeat,
    weighted((1, st.just("x")), (3, hostile_text.filter(bool))),
    weighted(
        (6, st.sampled_from([200, 201, 4_000, 4_001, PAYLOAD_LIMIT - 10, PAYLOAD_LIMIT + 1])),
        (1, st.just(50_000)),
    ),
)
whitespace = st.sampled_from(["", " ", "   ", "\t\n", "\u00a0", "\u200b", "\u3000", "\x00"])
numberish = st.one_of(
    st.sampled_from(
        [
            "\u00b2",  # "²".isdigit() is True, int("²") fails
            "\u0661",  # "١" is int()'d to 1
            "\uff11",  # fullwidth 1
            "\U0001d7d9",  # mathematical 1
            "\u2167",  # roman numeral eight
            "#1",
            "# 1",
            "##1",
            "#",
            " 1 ",
            "1.0",
            "1e3",
            "0x1",
            "0b1",
            "1_0",
            "-1",
            "+1",
            "0",
            "01",
            "2147483647",
            "2147483648",
            "9" * 400,
            "1\x00",
            "1\ud800",
            "NaN",
            "Infinity",
        ]
    ),
    st.integers().map(str),
)
dates = st.sampled_from(
    [
        "0001-01-01",
        "1970-01-01",
        "2026-11-01",
        "2026-11-02",
        "2026-02-30",
        "2026-13-01",
        "9999-12-31",
        "10000-01-01",
        "20261202",
        "2026-12-01T00:00:00Z",
        "2026-12-01T25:00",
        "+02026-12-01",
        "\uff12\uff10\uff12\uff16-12-01",
        "2026-\u0661\u0662-01",
        "yesterday",
    ]
)
scalars = st.one_of(
    st.integers(),
    st.sampled_from([0, -1, 2**31 - 1, 2**31, 2**63, -(2**63) - 1, 10**30, 10**300]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
nested = st.recursive(
    st.one_of(scalars, hostile_text),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(hostile_text, children, max_size=3),
    ),
    max_leaves=6,
)


def _nest(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"n": value}
    return value


# Past the activity depth the bot reads (a 400, not a turn).
too_deep = st.integers(min_value=28, max_value=40).map(_nest)
hostile_value = weighted(
    (6, hostile_text),
    (2, huge_text),
    (2, whitespace),
    (3, numberish),
    (1, dates),
    (5, scalars),
    (3, nested),
    (1, too_deep),
)

PLAN_IDS = sorted(plan.id for plan in load_catalog(None).all())
VALID: dict[str, st.SearchStrategy[Any]] = {
    "verb": st.nothing(),  # replaced by the verb itself
    "text": st.sampled_from(["helpp", "tickts", "hello there"]),
    "suggestion": st.sampled_from(["help", "tickets", ""]),
    "user_id": st.sampled_from([u.user_id for u in USERS]),
    "user_name": st.sampled_from(["Ghost", "Aga Agent"]),
    "role": st.sampled_from([r.value for r in Role]),
    "title": st.sampled_from(["Printer broken", "VPN down", "x"]),
    "description": st.sampled_from(["", "It smokes."]),
    "priority": st.sampled_from([p.value for p in Priority]),
    "category": st.sampled_from(["", "Hardware"]),
    "due": st.sampled_from(["", "2026-12-01"]),
    "filter": st.sampled_from([f.value for f in TicketFilter]),
    "page": st.sampled_from([0, 1, "0", "1"]),
    "number": st.one_of(st.integers(1, 4), st.sampled_from(["1", "#2"])),
    "assignee": st.sampled_from([u.user_id for u in USERS]),
    "status": st.sampled_from([s.value for s in Status]),
    "comment": st.sampled_from(["On it.", "x"]),
    "plan": st.sampled_from(PLAN_IDS),
    "history": st.sampled_from([True, False, "true"]),
    "language": st.sampled_from(["de", "en", "fr", "DE"]),
    "name": st.sampled_from(["Renewal", "Acme rollout"]),
    "amount": st.sampled_from(["12500", "12500.50", "0", "1,5"]),
    "currency": st.sampled_from(["EUR", "usd", "CHF"]),
    "close_date": st.sampled_from(["", "2026-12-31"]),
    "account": st.sampled_from(["", "Acme"]),
    "contact": st.sampled_from(["", "Jo Doe"]),
    "contact_email": st.sampled_from(["", "jo@acme.example"]),
    "next_step": st.sampled_from(["", "Call back"]),
    "stage": st.sampled_from(["lead", "qualified", "won", "lost"]),
    "lost_reason": st.sampled_from(["", "Too expensive"]),
    "probability": st.sampled_from(["", "40", 40]),
    "owner": st.sampled_from([u.user_id for u in USERS]),
    "mine": st.sampled_from([True, False]),
    "domain": st.sampled_from(["", "acme.example"]),
    "notes": st.sampled_from(["", "Key account"]),
    "email": st.sampled_from(["", "jo@acme.example"]),
    "phone": st.sampled_from(["", "+49 30 1234"]),
    "job_role": st.sampled_from(["", "CFO"]),
    "items": st.sampled_from(["Laptop\n* Accounts", "one", "* a\n* b\nc"]),
    "position": st.sampled_from([1, 2, "1", "3"]),
    "checked": st.sampled_from([True, False, "true"]),
    "note": st.sampled_from(["", "done early"]),
    "template": st.sampled_from(["", "1", 1, "Onboarding"]),
    "reviewer": st.sampled_from([u.user_id for u in USERS]),
    "seen": st.sampled_from(["2026-11-02T09:00:00+00:00", "2026-11-02T09:00:00", "2020-01-01"]),
}


def valid_value(name: str, verb: str) -> st.SearchStrategy[Any]:
    return st.just(verb) if name == "verb" else VALID[name]


def field_value(name: str, verb: str) -> st.SearchStrategy[Any]:
    return weighted((1, valid_value(name, verb)), (2, hostile_value))


@st.composite
def one_field_hostile(draw: st.DrawFn, verb: str) -> dict[str, Any]:
    """What the verb's card sends, but one field (or a stray key) is hostile: the others are
    valid, so that the hostile value gets past them, to the service and the database."""
    data = {name: draw(valid_value(name, verb)) for name in (*FIELDS[verb], "verb")}
    name = draw(st.sampled_from([*FIELDS[verb], "verb", "<stray>"]))
    if name == "<stray>":
        name = draw(hostile_text)
    # Text that is plausibly a value (stored when it fits) as often as anything else.
    data[name] = draw(weighted((3, stored_text), (3, hostile_value)))
    return data


def card_data(verb: str) -> st.SearchStrategy[Any]:
    """Data as the verb's card would send it with one field hostile; or every field missing,
    valid or hostile, with stray keys; now and then no object at all."""
    known = st.fixed_dictionaries(
        {}, optional={name: field_value(name, verb) for name in (*FIELDS[verb], "verb")}
    )
    stray = st.dictionaries(hostile_text, hostile_value, max_size=2)
    any_fields = st.builds(lambda extra, data: {**extra, **data}, stray, known)
    return weighted((5, one_field_hostile(verb)), (4, any_fields), (1, hostile_value))


# -- activities ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Press:
    """An Action.Execute press of `verb` with `data`."""

    user: teams.TeamsUser
    verb: Any
    data: Any


@dataclass(frozen=True)
class Say:
    """A typed message, with the people it @mentions as (id, name)."""

    user: teams.TeamsUser
    text: str
    mentions: tuple[tuple[str, str], ...] = ()


# The three users, now and then with a hostile display name (Teams sends it on every activity).
users = weighted(
    (4, st.sampled_from(USERS)),
    (
        1,
        st.builds(
            replace, st.sampled_from(USERS), name=weighted((1, hostile_text), (2, stored_text))
        ),
    ),
)
# Every verb; the ones that write what users typed more often.
WRITES_USER_TEXT = {"ticket.create": 5, "ticket.comment": 2, "ticket.priority": 2}
WEIGHTED_VERBS = [v for v in VERBS for _ in range(WRITES_USER_TEXT.get(v, 1))]
presses = weighted(
    (
        9,
        st.sampled_from(WEIGHTED_VERBS).flatmap(
            lambda verb: st.builds(Press, users, st.just(verb), card_data(verb))
        ),
    ),
    # Verbs no card sends: unknown, hostile, not a string.
    (1, st.builds(Press, users, hostile_value, card_data("ticket.create"))),
)
arguments = weighted((4, hostile_text), (3, numberish), (1, dates), (1, huge_text), (1, whitespace))


# Every phrase; those that take an argument more often.
TAKES_ARGUMENT = {"new ticket": 4, "ticket": 3, "tickets": 2, "role": 2, "change plan": 2}
WEIGHTED_PHRASES = [p for p in PHRASES for _ in range(TAKES_ARGUMENT.get(p, 1))]


def typed(phrase: str, case: Callable[[str], str], separator: str, argument: str) -> str:
    return case(phrase) + separator + argument


commands = st.builds(
    typed,
    st.sampled_from(WEIGHTED_PHRASES),
    st.sampled_from([str.lower, str.upper, str.title]),
    st.sampled_from([" ", "  ", "\t", "\n", "\u00a0", "\u3000", ""]),
    arguments,
)
mentions = st.lists(
    st.tuples(
        st.one_of(st.sampled_from([u.user_id for u in USERS]), hostile_text),
        st.one_of(st.sampled_from([u.name for u in USERS]), hostile_text.filter(bool)),
    ),
    max_size=2,
).map(tuple)
says = weighted(
    (5, st.builds(Say, users, commands)),
    (2, st.builds(Say, users, commands, mentions)),
    (2, st.builds(Say, users, weighted((3, hostile_text), (1, huge_text)))),
)
activities = weighted((2, presses), (1, says))


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Run:
    bot: Bot
    db: Database
    # (tenant, number) of every ticket the bot announced as created ("Ticket #n was created.").
    announced: set[tuple[str, int]] = field(default_factory=set)
    tenants: int = 0
    activities: int = 0
    # The texts of the help card: the bot's own markdown (bold commands, `<title>`), no user's.
    own: set[str] = field(default_factory=set)

    async def post(self, activity: dict[str, Any]) -> tuple[int, Any]:
        """Post as a hostile client would: JSON escaped to ASCII, so that lone surrogates
        survive the wire (NaN and Infinity too: Python's JSON reads them)."""
        response = await self.bot.client.post(
            "/api/messages",
            data=json.dumps(activity, ensure_ascii=True).encode(),
            headers={"Content-Type": "application/json"},
        )
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body

    async def new_tenant(self) -> str:
        """A tenant of its own for an example, so that its answers do not hang on what earlier
        examples did (a replay while shrinking meets the same state): an admin (the first to
        speak), an agent, a member, and a ticket of the admin's (#1) and of the member's (#2)."""
        self.tenants += 1
        tenant = f"tenant-{self.tenants}"
        for user in USERS:
            help_reply = await self.bot.say(replace(user, tenant_id=tenant), "help")
            self.own |= {text for card in help_reply.cards for text in markdown_texts(card)}
        admin, member = replace(ADMIN, tenant_id=tenant), replace(MEMBER, tenant_id=tenant)
        await self.bot.press(admin, "roles.set", {"user_id": AGENT.user_id, "role": "agent"})
        for user in (admin, member):
            created = await self.bot.press(user, "ticket.create", {"title": f"From {user.name}"})
            self.announced |= {(tenant, int(n)) for n in CREATED.findall(card_text(created))}
        return tenant

    async def one(self, case: Press | Say, tenant: str) -> None:
        """Post one activity (as a user of `tenant`); check its answer and the database."""
        self.activities += 1
        case = replace(case, user=replace(case.user, tenant_id=tenant))
        conversation = teams.Conversation(case.user.personal_chat)
        url = self.bot.connector.url
        before = len(self.bot.connector.posted)
        if isinstance(case, Press):
            activity = teams.execute(case.user, conversation, url, "", {})
            activity["value"]["action"].update(verb=case.verb, data=case.data)
            status, body = await self.post(activity)
            assert status < 500, (status, body)
            cards = []
            if status == 200:
                assert isinstance(body, dict) and body.get("statusCode") == 200, body
                cards = [body["value"]]
        else:
            status, body = await self.post(
                teams.message(case.user, conversation, url, case.text, list(case.mentions))
            )
            assert status < 500, (status, body)
            cards = []
            if status == 200:
                replies = self.bot.connector.posted[before:]
                assert len(replies) == 1, [p.text[:200] for p in replies]
                cards = replies[0].cards
                assert cards, replies[0].text[:200]
        if status == 200:
            shown = "\n".join(card_text(c) for c in cards)
            assert APOLOGY not in shown, shown[:500]
            user_texts = (t for c in cards for t in markdown_texts(c) if t not in self.own)
            assert [
                (text[:200], live_markdown(text)) for text in user_texts if live_markdown(text)
            ] == []
            self.announced |= {(tenant, int(n)) for n in CREATED.findall(shown)}
        await self.nothing_half_written()

    async def nothing_half_written(self) -> None:
        async with self.db.sessions() as session:

            async def scalar(query: Any) -> Any:
                return (await session.execute(query)).scalar_one()

            def ticket_exists(item_id: ColumnElement[int]) -> Any:
                return select(TicketRow.id).where(TicketRow.id == item_id).exists()

            tickets = {
                (tenant, number)
                for tenant, number in await session.execute(
                    select(TicketRow.tenant_id, TicketRow.number)
                )
            }
            counted = dict(
                (
                    await session.execute(
                        select(QuotaUsageRow.tenant_id, func.sum(QuotaUsageRow.used))
                        .where(QuotaUsageRow.app == "tickets")
                        .group_by(QuotaUsageRow.tenant_id)
                    )
                ).all()
            )
            without_created = await scalar(
                select(func.count())
                .select_from(TicketRow)
                .where(
                    ~select(ItemEventRow.id)
                    .where(
                        ItemEventRow.app == "tickets",
                        ItemEventRow.item_id == TicketRow.id,
                        ItemEventRow.field == "created",
                    )
                    .exists()
                )
            )
            used = await scalar(
                select(func.coalesce(func.sum(QuotaUsageRow.used), 0)).where(
                    QuotaUsageRow.app == "tickets"
                )
            )
            orphan_events = await scalar(
                select(func.count())
                .select_from(ItemEventRow)
                .where(~ticket_exists(ItemEventRow.item_id))
            )
            orphan_comments = await scalar(
                select(func.count())
                .select_from(ItemCommentRow)
                .where(~ticket_exists(ItemCommentRow.item_id))
            )
        assert tickets == self.announced
        assert without_created == 0
        assert used == len(tickets)
        per_tenant = {t: sum(1 for tenant, _ in tickets if tenant == t) for t, _ in tickets}
        assert {t: n for t, n in counted.items() if n} == per_tenant
        assert (orphan_events, orphan_comments) == (0, 0)


async def in_worker_thread(test: Callable[[Callable[[Awaitable[T]], T]], None]) -> None:
    """Run a synchronous hypothesis test in a thread; `run` hands a coroutine to this loop."""
    loop = asyncio.get_running_loop()

    def run(coroutine: Awaitable[T]) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)  # type: ignore[arg-type]
        return future.result(timeout=120)

    await asyncio.to_thread(test, run)


def known(*cases: Press | Say) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Run `cases` as explicit examples, before anything hypothesis generates."""

    def decorate(test: Callable[..., None]) -> Callable[..., None]:
        for case in reversed(cases):
            test = example(cases=[case])(test)
        return test

    return decorate


# The inputs issue 9 lists (each ended in the apology card or a 500), always tried.
KNOWN = known(
    Press(ADMIN, "ticket.create", {"title": "Printer\x00 broken", "description": "\x00"}),
    Press(ADMIN, "ticket.create", {"title": "Printer\ud800 broken", "category": "\udfff"}),
    Press(MEMBER, "ticket.comment", {"number": 2, "comment": "NUL\x00 and \ud800"}),
    Say(replace(MEMBER, name="Mem\x00\ud800"), "new ticket \ud800\x00"),
    Say(ADMIN, "ticket \u00b2"),
    Say(ADMIN, "ticket \u0661"),
    Press(ADMIN, "ticket.show", {"number": "\u00b2"}),
    Press(ADMIN, "tickets.list", {"filter": "all", "page": 1_000_000}),
    Press(ADMIN, "ticket.create", {"title": "Long ago", "due": "0001-01-01"}),
    Press(ADMIN, "ticket.create", {"title": "x" * (PAYLOAD_LIMIT + 1)}),
    Press(ADMIN, "ticket.create", {"title": _nest(40)}),
    Press(ADMIN, "ticket.priority", {"number": float("nan"), "priority": "high"}),
    Press(ADMIN, "roles.set", {"user_id": "29:ghost", "role": "admin", "user_name": "Ghost"}),
    Press(ADMIN, "roles.set", {"user_id": ADMIN.user_id, "role": "member"}),
)

FREE_TICKETS = 25  # the free plan's quota (bot/domain/default_plans.json)
# Creates with hostile (but, once cleaned, valid) titles when the free quota is used up: refused
# by the quota, nothing written.
AT_THE_QUOTA = example(
    cases=[
        *(Press(MEMBER, "ticket.create", {"title": f"#{n}"}) for n in range(3, FREE_TICKETS + 1)),
        Press(MEMBER, "ticket.create", {"title": "Printer\x00\ud800", "category": "\u202e"}),
        Say(MEMBER, "new ticket \ud800\x00 \u00b2"),
        Press(ADMIN, "usage", {}),
    ]
)


async def fuzz(bot: Bot, db: Database, max_examples: int) -> Run:
    run_ = Run(bot, db)

    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(cases=st.lists(activities, min_size=1, max_size=3))
    @KNOWN
    @AT_THE_QUOTA
    def examples(run: Callable[[Awaitable[Any]], Any], cases: list[Press | Say]) -> None:
        tenant = run(run_.new_tenant())
        for case in cases:
            run(run_.one(case, tenant))

    await in_worker_thread(examples)
    return run_


async def still_healthy(bot: Bot) -> None:
    response = await bot.client.get("/healthz")
    assert response.status == 200
    member, admin = (replace(user, tenant_id="tenant-1") for user in (MEMBER, ADMIN))
    assert "help" in (await bot.say(member, "help")).text.lower()
    card = await bot.press(admin, "tickets.list", {"filter": "all", "page": 0})
    assert APOLOGY not in card_text(card)


def examples_for(db: Database) -> int:
    return 100 if db.is_sqlite else 50


def test_every_verb_of_the_registry_is_fuzzed() -> None:
    assert set(FIELDS) == set(REGISTRY.verbs)


@pytest.mark.filterwarnings("ignore:Generating overly large repr")
async def test_fuzzed_activities_get_a_clear_answer_and_write_nothing_half(
    bot: Bot, any_db: Database
) -> None:
    run = await fuzz(bot, any_db, examples_for(any_db))
    assert run.activities >= examples_for(any_db)
    await run.nothing_half_written()
    async with any_db.sessions() as session:  # the explicit example did reach the quota
        most = (await session.execute(select(func.max(QuotaUsageRow.used)))).scalar_one()
    assert most == FREE_TICKETS
    await still_healthy(bot)

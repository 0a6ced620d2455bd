"""`python -m bench`: the stock echo bot, the Agents SDK echo and this bot, side by side, in one
run on one machine, against one fake Bot Connector (in this process, no rate limits: it answers
every reply at once and counts it).

Every server is its own process on 127.0.0.1. Each case posts a bounded number of activities
with C in flight (default 32) over T tenants (default 50); a turn's latency is its HTTP request,
the reply having been posted to the connector before the request returns (the Agents SDK echo
answers 202 after posting its reply). Peak RSS is the server's VmHWM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.dialects import postgresql, sqlite

from bench.connector import LimitingConnector
from storage.db import Database
from storage.models import TenantCounter, TicketRow

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
AGENTS_VENV = BENCH / ".agents-venv"
AGENTS_PACKAGES = (
    "microsoft-agents-hosting-aiohttp==1.9.0",
    # The SDK's samples build the connection manager with msal, as this echo does.
    "microsoft-agents-authentication-msal==1.9.0",
)
USERS_PER_TENANT = 4
BOT_ID = "28:bench-bot"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_agents_venv() -> Path:
    """The Agents SDK lives in a venv of its own: its pins are not the bot's."""
    python = AGENTS_VENV / "bin" / "python"
    marker = AGENTS_VENV / ".installed"
    if not marker.exists() or marker.read_text() != "\n".join(AGENTS_PACKAGES):
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(AGENTS_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *AGENTS_PACKAGES], check=True
        )
        marker.write_text("\n".join(AGENTS_PACKAGES))
    return python


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system, all threads) the process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5); `fields` starts at field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Ticks = tuple[int, int, int]


def machine_ticks(stat: Path = Path("/proc/stat")) -> Ticks | None:
    """All CPUs' clock ticks so far, those of them spent idle (or waiting for I/O) and those
    the hypervisor gave another guest (steal), from /proc/stat; None where there is none."""
    try:
        fields = [int(f) for f in stat.read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    if len(fields) < 5:
        return None
    # user nice system idle iowait irq softirq steal ...; guest time is counted in user too.
    return sum(fields[:8]), fields[3] + fields[4], fields[7] if len(fields) > 7 else 0


def busy_and_steal(before: Ticks | None, after: Ticks | None) -> tuple[float, float] | None:
    """The percentages of the machine's CPU time between two readings that was busy (any
    process, the load generator's too) and that the host gave to others (steal)."""
    if before is None or after is None or after[0] <= before[0]:
        return None
    total = after[0] - before[0]
    idle = (after[1] - before[1]) / total
    steal = (after[2] - before[2]) / total
    return round(100 * (1 - idle - steal), 1), round(100 * steal, 1)


def local_server(url: str) -> bool:
    """The database of `url` runs on this machine (its processes' CPU can be read)."""
    host = sa.engine.make_url(url).host
    return host in (None, "", "localhost", "127.0.0.1", "::1")


def postgres_cpu_seconds() -> float | None:
    """The CPU time every process of the local PostgreSQL server has used so far (user and
    system; the postmaster's children that exited count in its own), or None if there is
    none to read (another machine's server, or no /proc)."""
    total, found = 0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text.split("(", 1)[1].rsplit(")", 1)
        if name != "postgres":
            continue
        fields = rest.split()
        # utime, stime, cutime and cstime are fields 14 to 17 of stat(5).
        total += sum(int(f) for f in fields[11:15])
        found = True
    return total / os.sysconf("SC_CLK_TCK") if found else None


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    @property
    def rss(self) -> float:
        return peak_rss_mb(self.process.pid)

    @property
    def cpu(self) -> float:
        return cpu_seconds(self.process.pid)


@asynccontextmanager
async def server(
    name: str,
    argv: list[str],
    env: dict[str, str],
    *,
    cwd: Path,
    ready: str = "/healthz",
    quiet: bool = False,
) -> AsyncIterator[Server]:
    port = free_port()
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env={**os.environ, **env, "PORT": str(port), "HOST": "127.0.0.1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if quiet else None,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(400):
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited with {process.returncode}")
                try:
                    if ready == "/healthz":
                        async with session.get(f"{url}/healthz") as response:
                            if response.status == 200:
                                break
                    else:
                        async with session.get(f"{url}/api/messages") as response:
                            break  # any answer: the port is open
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError(f"{name} did not start")
        yield Server(name, url, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def our_bot(database_url: str, root: Path) -> Callable[[], Any]:
    env = {"DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", "MicrosoftAppId": ""}
    return lambda: server("bot", [sys.executable, "-m", "bot"], env, cwd=root)


# -- activities ------------------------------------------------------------------------------


def activity(
    service_url: str,
    tenant: str,
    user: str,
    *,
    text: str = "",
    value: dict[str, Any] | None = None,
    invoke: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "invoke" if invoke is not None else "message",
        "id": uuid.uuid4().hex,
        "channelId": "msteams",
        "serviceUrl": service_url,
        "locale": "en-US",
        "from": {"id": user, "name": user, "aadObjectId": user},
        "recipient": {"id": BOT_ID, "name": "TeamsWork"},
        "conversation": {
            "id": f"a:{tenant}:{user}",
            "conversationType": "personal",
            "tenantId": tenant,
        },
        "channelData": {"tenant": {"id": tenant}},
    }
    if invoke is not None:
        body["name"] = "adaptiveCard/action"
        body["value"] = {"action": {"type": "Action.Execute", **invoke}, "trigger": "manual"}
    else:
        body["text"] = text
        if value is not None:
            body["value"] = value
    return body


@dataclass
class Result:
    case: str
    server: str
    turns: int
    seconds: float
    latencies: list[float] = field(repr=False)
    errors: int
    rss_mb: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self, stock: float | None) -> dict[str, Any]:
        ordered = sorted(self.latencies)

        def pct(q: float) -> float:
            if not ordered:
                return 0.0
            return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

        rate = self.turns / self.seconds if self.seconds else 0.0
        return {
            "case": self.case,
            "server": self.server,
            "turns": self.turns,
            "turns_per_second": round(rate, 1),
            "p50_ms": pct(0.50),
            "p95_ms": pct(0.95),
            "p99_ms": pct(0.99),
            "peak_rss_mb": self.rss_mb,
            "x_stock_echo": round(rate / stock, 2) if stock else None,
            "errors": self.errors,
            **self.extra,
        }


async def fire(
    urls: list[str], activities: list[dict[str, Any]], concurrency: int
) -> tuple[float, list[float], int]:
    """POST every activity, at most `concurrency` in flight, round robin over `urls`."""
    latencies: list[float] = []
    errors = 0
    pending = list(reversed(activities))

    async def worker(session: aiohttp.ClientSession, index: int) -> None:
        nonlocal errors
        url = urls[index % len(urls)] + "/api/messages"
        while pending:
            body = pending.pop()
            started = time.perf_counter()
            try:
                async with session.post(url, json=body) as response:
                    await response.read()
                    if response.status >= 300 and response.status != 202:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - started)

    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(session, i) for i in range(concurrency)))
        return time.perf_counter() - started, latencies, errors


# -- our bot's cases -------------------------------------------------------------------------


def echoes(args: argparse.Namespace, service_url: str, count: int) -> list[dict[str, Any]]:
    """`count` "hello" messages for an echo bot, round robin over the tenants and their users."""
    names = tenants(args, "echo") * (count // args.tenants + 1)
    return [
        activity(service_url, t, users(t)[i % USERS_PER_TENANT], text="hello")
        for i, t in enumerate(names)
    ][:count]


def tenants(args: argparse.Namespace, prefix: str) -> list[str]:
    return [f"{prefix}-t{i}" for i in range(args.tenants)]


def users(tenant: str) -> list[str]:
    return [f"29:{tenant}-u{j}" for j in range(USERS_PER_TENANT)]


def newcomer(tenant: str) -> str:
    return f"29:{tenant}-newcomer"


async def warm_up(urls: list[str], service_url: str, names: list[str]) -> None:
    """First contact of every user (the first of a tenant becomes its admin), and each tenant
    on the professional plan, so that the creates of the benchmark are not refused."""
    admins = [activity(service_url, t, users(t)[0], text="help") for t in names]
    await fire(urls, admins, 16)
    plans = [
        activity(service_url, t, users(t)[0], value={"verb": "plan.change", "plan": "professional"})
        for t in names
    ]
    await fire(urls, plans, 16)
    rest = [activity(service_url, t, u, text="help") for t in names for u in users(t)[1:]]
    await fire(urls, rest, 16)


def steady(
    service_url: str, names: list[str], count: int, make: Callable[[str, str, int], dict[str, Any]]
) -> list[dict[str, Any]]:
    out = []
    for i in range(count):
        tenant = names[i % len(names)]
        user = users(tenant)[(i // len(names)) % USERS_PER_TENANT]
        out.append(make(tenant, user, i))
    return out


def first_contact(
    service_url: str, names: list[str], count: int, make: Callable[[str, str, int], dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every turn from a user the bot has never seen, in a conversation it has never seen."""
    run = uuid.uuid4().hex[:6]
    return [make(names[i % len(names)], f"29:new-{run}-{i}", i) for i in range(count)]


def our_cases(service_url: str) -> dict[str, Callable[[str, str, int], dict[str, Any]]]:
    return {
        "help": lambda t, u, i: activity(service_url, t, u, text="help"),
        "new ticket": lambda t, u, i: activity(service_url, t, u, text=f"new ticket Printer {i}"),
        "tickets": lambda t, u, i: activity(service_url, t, u, text="tickets"),
        "card action": lambda t, u, i: activity(
            service_url,
            t,
            u,
            invoke={"verb": "tickets.list", "data": {"verb": "tickets.list", "filter": "all"}},
        ),
    }


async def run_case(
    name: str,
    label: str,
    urls: list[str],
    servers: list[Server],
    activities: list[dict[str, Any]],
    concurrency: int,
    fake: LimitingConnector,
    *,
    warm: list[dict[str, Any]] | None = None,
    database: bool = False,
) -> Result:
    """One case, after the `warm` activities, unmeasured (what a server makes on its first
    turns of a kind: caches, prepared statements, query plans); with `database`, the CPU the
    local PostgreSQL server spent a turn too (it runs on the same two cores as the bot, and so
    does this process: the load generator and the fake connector, whose CPU a turn is
    reported as well)."""
    if warm:
        await fire(urls, warm, concurrency)
    before = fake.replies
    cpu = sum(s.cpu for s in servers)
    load_cpu = time.process_time()
    database_cpu = postgres_cpu_seconds() if database else None
    ticks = machine_ticks()
    seconds, latencies, errors = await fire(urls, activities, concurrency)
    ticks_after = machine_ticks()
    replies = fake.replies - before
    turns = len(activities)
    # The servers' CPU a turn: what a loaded machine's scheduling changes least.
    cpu_ms = round(1000 * (sum(s.cpu for s in servers) - cpu) / turns, 2)
    extra: dict[str, Any] = {
        "replies": replies,
        "server_cpu_ms_per_turn": cpu_ms,
        "load_cpu_ms_per_turn": round(1000 * (time.process_time() - load_cpu) / turns, 2),
    }
    # How busy the whole machine was: a case that leaves cores idle is bound by something
    # other than the CPU. Steal: what the host of a virtual machine gave to other guests.
    shares = busy_and_steal(ticks, ticks_after)
    if shares is not None:
        extra["machine_busy_percent"], extra["steal_percent"] = shares
    database_after = postgres_cpu_seconds() if database_cpu is not None else None
    if database_cpu is not None and database_after is not None:
        extra["database_cpu_ms_per_turn"] = round(1000 * (database_after - database_cpu) / turns, 2)
    result = Result(
        name,
        label,
        len(activities),
        seconds,
        latencies,
        errors,
        max(s.rss for s in servers),
        extra,
    )
    row = result.row(None)
    log(
        f"  {name:<28} {label:<22} {row['turns_per_second']:>7} turns/s  "
        f"p50 {row['p50_ms']:>6} p99 {row['p99_ms']:>7} ms  CPU {cpu_ms:>5} ms a turn  "
        + (
            f"(PostgreSQL {extra['database_cpu_ms_per_turn']:>5})  "
            if "database_cpu_ms_per_turn" in extra
            else ""
        )
        + f"busy {extra.get('machine_busy_percent', '-')} % "
        + f"(steal {extra.get('steal_percent', '-')} %)  errors {errors}  replies {replies}"
    )
    return result


def log(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


PAIRED = "new ticket (paired, round"
STOCK_AGAIN = "stock echo (again, before"


def rows_of(results: list[Result]) -> list[dict[str, Any]]:
    """The results as rows, each case's ratio to the stock echo measured last before it."""
    rows: list[dict[str, Any]] = []
    stock: float | None = None
    for result in results:
        if (result.case == "stock echo" or result.case.startswith(STOCK_AGAIN)) and result.seconds:
            stock = result.turns / result.seconds
        rows.append(result.row(stock))
    return rows


async def paired_rounds(
    args: argparse.Namespace,
    one: Server,
    two: Server,
    service_url: str,
    names: list[str],
    create: Callable[[str, str, int], dict[str, Any]],
    fake: LimitingConnector,
    url: str,
) -> list[Result]:
    """Steady creates on one process and on two, in turn, `--rounds` times each: the same
    processes and database, each pair of rounds seconds apart. This machine's speed moves by a
    third between spells of minutes, and one process against two measured minutes apart says
    more about the spells than about the processes; alternating rounds meet the same spell."""
    results: list[Result] = []
    for round_ in range(1, args.rounds + 1):
        for label, servers in (("1 process", [one]), ("2 processes", [one, two])):
            results.append(
                await run_case(
                    f"{PAIRED} {round_})",
                    f"ours, PG, {label}",
                    [s.url for s in servers],
                    servers,
                    steady(service_url, names, args.turns, create),
                    args.concurrency,
                    fake,
                    warm=steady(service_url, names, args.warm, create),
                    database=local_server(url),
                )
            )
    return results


def paired_summary(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The paired rounds' turns/s: each configuration's median, and in how many rounds two
    processes served more than one."""
    paired = [r for r in rows if r["case"].startswith(PAIRED)]
    one = [r["turns_per_second"] for r in paired if r["server"] == "ours, PG, 1 process"]
    two = [r["turns_per_second"] for r in paired if r["server"] == "ours, PG, 2 processes"]
    if not one or len(one) != len(two):
        return None
    return {
        "rounds": len(one),
        "one_process_median": statistics.median(one),
        "two_processes_median": statistics.median(two),
        "two_ahead_in_rounds": sum(b > a for a, b in zip(one, two, strict=True)),
    }


# -- databases -------------------------------------------------------------------------------


@asynccontextmanager
async def fresh_database(kind: str, folder: Path) -> AsyncIterator[str]:
    if kind == "sqlite":
        path = folder / f"bench-{uuid.uuid4().hex[:6]}.db"
        yield f"sqlite+aiosqlite:///{path}"
        return
    from bench.__main__ import database

    async with database("postgres") as url:
        yield url


async def seed_tickets(url: str, names: list[str], total: int) -> None:
    """`total` existing tickets spread over the tenants and their users, written directly."""
    db = Database(url)
    try:
        table = TicketRow.__table__  # type: ignore[attr-defined]
        counters = TenantCounter.__table__  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        per_tenant = total // len(names)
        statuses = ("new", "open", "in_progress", "resolved", "closed")
        async with db.writers.begin() as conn:
            for tenant in names:
                people = users(tenant)
                rows = [
                    {
                        "tenant_id": tenant,
                        "number": 100_000 + n,
                        "title": f"Seeded {n}",
                        "description": "",
                        "priority": "normal",
                        "category": "",
                        "status": statuses[n % len(statuses)],
                        "requester_id": people[n % len(people)],
                        "requester_name": people[n % len(people)],
                        "created_at": now - timedelta(minutes=n),
                        "updated_at": now - timedelta(minutes=n),
                    }
                    for n in range(per_tenant)
                ]
                if rows:
                    await conn.execute(sa.insert(table), rows)
                insert = (
                    postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
                )(counters)
                await conn.execute(
                    insert.values(
                        tenant_id=tenant, name="ticket", value=200_000
                    ).on_conflict_do_update(
                        index_elements=["tenant_id", "name"], set_={"value": 200_000}
                    )
                )
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does to a table that grew so (its inserts pass the threshold):
            # the statistics a query is planned by, and the visibility map that lets a count
            # read an index alone. VACUUM runs outside a transaction.
            async with db.engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(sa.text("VACUUM ANALYZE tickets"))
    finally:
        await db.dispose()


async def data_cases(
    args: argparse.Namespace,
    kind: str,
    folder: Path,
    root: Path,
    service_url: str,
    fake: LimitingConnector,
) -> list[Result]:
    """Create, the list, a newcomer's list and the help desk's queue with 1,000 and with
    100,000 existing tickets, on a fresh database of `kind` each, a bot on each. The two run
    each case in turn, seconds apart: this machine's speed moves by a third between spells of
    minutes, and the ratio of the two is what the case is for."""
    label = "ours, SQLite" if kind == "sqlite" else "ours, PostgreSQL"
    sizes = (1_000, 100_000)
    bots: dict[int, tuple[Server, str, list[str]]] = {}
    results: list[Result] = []
    async with AsyncExitStack() as stack:
        for existing in sizes:
            url = await stack.enter_async_context(fresh_database(kind, folder))
            await migrate_only(url, root)
            names = tenants(args, f"d{existing}")
            bot = await stack.enter_async_context(our_bot(url, root)())
            await warm_up([bot.url], service_url, names)
            await seed_tickets(url, names, existing)
            # A member who has none of the tenant's tickets (most people of a large
            # organization have few), known to the bot before the case.
            newcomers = [activity(service_url, t, newcomer(t), text="help") for t in names]
            await fire([bot.url], newcomers, 16)
            bots[existing] = (bot, url, names)
        cases = our_cases(service_url)
        cases["newcomer's tickets"] = lambda t, u, i: activity(
            service_url, t, newcomer(t), text="tickets"
        )
        # The help desk's queue: the tenant's open tickets, by its admin (the first user), who
        # sees them all.
        cases["open queue"] = lambda t, u, i: activity(
            service_url, t, users(t)[0], text="tickets open"
        )
        for case in ("new ticket", "tickets", "newcomer's tickets", "open queue"):
            for existing in sizes:
                bot, url, names = bots[existing]
                results.append(
                    await run_case(
                        f"{case} at {existing:,} tickets",
                        label,
                        [bot.url],
                        [bot],
                        steady(service_url, names, args.turns, cases[case]),
                        args.concurrency,
                        fake,
                        warm=steady(service_url, names, args.warm, cases[case]),
                        database=kind == "postgres" and local_server(url),
                    )
                )
    return results


# -- the run ---------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    fake = LimitingConnector(limits=False)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    service_url = f"http://127.0.0.1:{port}"
    root = Path(args.bot_root).resolve() if args.bot_root else ROOT
    results: list[Result] = []
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"tw-bench-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    c = args.concurrency
    stack = AsyncExitStack()
    try:
        echo_turns = echoes(args, service_url, args.echo_turns)
        echo_warm = echoes(args, service_url, args.warm)
        log(f"bench: {c} in flight, {args.tenants} tenants, bot from {root}")
        stock: Server | None = None
        if "stock" in args.only:
            stock = await stack.enter_async_context(
                server(
                    "stock echo",
                    [sys.executable, str(BENCH / "stock_echo.py")],
                    {"MicrosoftAppId": ""},
                    cwd=BENCH,
                    ready="port",
                )
            )

        async def measure_stock(case: str) -> None:
            if stock is not None:
                results.append(
                    await run_case(
                        case,
                        "botbuilder 4.17.1",
                        [stock.url],
                        [stock],
                        echo_turns,
                        c,
                        fake,
                        warm=echo_warm,
                    )
                )

        await measure_stock("stock echo")

        async def stock_again(part: str) -> None:
            """The stock echo measured again before a part that starts minutes after the
            first: the part's ratios are to this one, measured in the same spell."""
            await measure_stock(f"{STOCK_AGAIN} {part})")

        if "agents" in args.only:
            python = ensure_agents_venv()
            env = {
                "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID": "",
                "CONNECTIONS__SERVICE_CONNECTION__SETTINGS__ANONYMOUS_ALLOWED": "true",
            }
            async with server(
                "agents echo",
                [str(python), "-W", "ignore", str(BENCH / "agents_echo.py")],
                env,
                cwd=BENCH,
                ready="port",
                quiet=True,  # it warns about the missing app id on every turn
            ) as agents:
                results.append(
                    await run_case(
                        "agents sdk echo",
                        "agents-sdk 1.9.0",
                        [agents.url],
                        [agents],
                        echo_turns,
                        c,
                        fake,
                        warm=echo_warm,
                    )
                )
        if "sqlite" in args.only:
            async with fresh_database("sqlite", folder) as url:
                await migrate_only(url, root)
                async with our_bot(url, root)() as bot:
                    names = tenants(args, "s")
                    await warm_up([bot.url], service_url, names)
                    for phase, build in (("steady", steady), ("first contact", first_contact)):
                        if phase not in args.phases:
                            continue
                        for case, make in our_cases(service_url).items():
                            if args.cases and case not in args.cases:
                                continue
                            acts = build(service_url, names, args.turns, make)
                            results.append(
                                await run_case(
                                    f"{case} ({phase})",
                                    "ours, SQLite",
                                    [bot.url],
                                    [bot],
                                    acts,
                                    c,
                                    fake,
                                    warm=build(service_url, names, args.warm, make),
                                )
                            )
        if "data" in args.only:
            await stock_again("SQLite data")
            results += await data_cases(args, "sqlite", folder, root, service_url, fake)
        if "postgres" in args.only:
            await stock_again("PostgreSQL")
            async with fresh_database("postgres", folder) as url:
                await migrate_only(url, root)
                names = tenants(args, "p")
                cases = our_cases(service_url)
                async with our_bot(url, root)() as bot:
                    await warm_up([bot.url], service_url, names)
                    for phase, build in (("steady", steady), ("first contact", first_contact)):
                        for case in ("new ticket", "tickets"):
                            acts = build(service_url, names, args.turns, cases[case])
                            results.append(
                                await run_case(
                                    f"{case} ({phase})",
                                    "ours, PostgreSQL",
                                    [bot.url],
                                    [bot],
                                    acts,
                                    c,
                                    fake,
                                    warm=build(service_url, names, args.warm, cases[case]),
                                    database=local_server(url),
                                )
                            )
                async with our_bot(url, root)() as one, our_bot(url, root)() as two:
                    acts = steady(service_url, names, args.turns, cases["new ticket"])
                    results.append(
                        await run_case(
                            "new ticket (steady)",
                            "ours, PG, 2 processes",
                            [one.url, two.url],
                            [one, two],
                            acts,
                            c,
                            fake,
                            # Two fresh processes: their first turns load what the single
                            # process had loaded before (modules, locale data, statements).
                            warm=steady(
                                service_url,
                                names,
                                max(args.warm, 2 * len(names)),
                                cases["new ticket"],
                            ),
                            database=local_server(url),
                        )
                    )
                    results += await paired_rounds(
                        args, one, two, service_url, names, cases["new ticket"], fake, url
                    )
        if "postgres-data" in args.only:
            await stock_again("PostgreSQL data")
            results += await data_cases(args, "postgres", folder, root, service_url, fake)
    finally:
        await stack.aclose()
        await runner.cleanup()
    rows = rows_of(results)
    paired = paired_summary(rows)
    if paired is not None:
        log(
            f"  paired rounds: 1 process {paired['one_process_median']} turns/s, 2 processes "
            f"{paired['two_processes_median']} (medians of {paired['rounds']}); two ahead in "
            f"{paired['two_ahead_in_rounds']} of {paired['rounds']}"
        )
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "concurrency": c,
        "tenants": args.tenants,
        "turns_per_case": args.turns,
        "echo_turns": args.echo_turns,
        "warm_turns_per_case": args.warm,
        "bot_root": str(root),
        "load_average_at_start": os.getloadavg(),
        "cpus": os.cpu_count(),
        "results": rows,
        "paired": paired,
    }


async def migrate_only(url: str, root: Path) -> None:
    """The database migrated by the bot that will serve it (`python -m bot migrate` in `root`):
    with `--bot-root` an older checkout, whose migrations stop before the bench's own."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "migrate",
        cwd=root,
        env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"},
    )
    if await process.wait() != 0:
        raise RuntimeError(f"python -m bot migrate in {root} exited with {process.returncode}")


def table(report: dict[str, Any]) -> str:
    lines = [
        "| case | server | turns/s | p50 ms | p95 ms | p99 ms | peak RSS MB | server CPU ms a turn "
        "| PostgreSQL CPU ms a turn | load generator CPU ms a turn | machine busy % | steal % "
        "| x stock echo |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['case']} | {r['server']} | {r['turns_per_second']} | {r['p50_ms']} | "
            f"{r['p95_ms']} | {r['p99_ms']} | {r['peak_rss_mb']} | "
            f"{r.get('server_cpu_ms_per_turn', '')} | {r.get('database_cpu_ms_per_turn', '')} | "
            f"{r.get('load_cpu_ms_per_turn', '')} | {r.get('machine_busy_percent', '')} | "
            f"{r.get('steal_percent', '')} | {r['x_stock_echo']} |"
        )
    return "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--turns", type=int, default=1000, help="activities per case of ours")
    parser.add_argument("--echo-turns", type=int, default=400, help="activities per echo case")
    parser.add_argument(
        "--warm",
        type=int,
        default=200,
        help="unmeasured activities of each case before it is measured (every server's)",
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument(
        "--only",
        default="stock,agents,sqlite,data,postgres,postgres-data",
        help="comma-separated parts: stock, agents, sqlite, data (SQLite at 1,000 and 100,000 "
        "tickets), postgres, postgres-data (PostgreSQL at 1,000 and 100,000 tickets)",
    )
    parser.add_argument(
        "--cases", default="", help="only these of our SQLite cases (e.g. 'new ticket')"
    )
    parser.add_argument("--phases", default="steady,first contact")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="PostgreSQL: rounds of steady creates on one process and on two, in turn",
    )
    parser.add_argument("--bot-root", default="", help="run the bot from another checkout")
    parser.add_argument("--out", default="", help="JSON file (default bench/results/<time>.json)")


def main(args: argparse.Namespace) -> int:
    args.only = set(args.only.split(","))
    args.cases = set(filter(None, args.cases.split(",")))
    args.phases = set(args.phases.split(","))
    report = asyncio.run(run(args))
    out = (
        Path(args.out)
        if args.out
        else BENCH / "results" / (datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + ".json")
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(table(report) + "\n")
    log(f"written to {out}")
    return 0

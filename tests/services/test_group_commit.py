"""Group commit on a SQLite file (storage/transactions.py): writers that follow each other on
the write lock share one COMMIT; each one's commit returns only once its writes are committed,
and raises if they were not; a writer that fails undoes only its own writes; a group is
committed even when a writer after it gives up."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc

from storage.db import Database
from storage.models import UserAccount
from storage.transactions import GroupFailed, SqliteConnections
from storage.uow import UnitOfWork, UnitOfWorkFactory
from tests.support.databases import database_url, migrated

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with database_url("sqlite", tmp_path) as url, migrated(url) as database:
        yield database


def connections(db: Database) -> SqliteConnections:
    assert db.sqlite_connections is not None and db.sqlite_connections.group_commit
    return db.sqlite_connections


def stored(db: Database) -> set[str]:
    """The claims committed, as another connection (another process) reads them."""
    path = db.url.split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT activity_id FROM processed_activities")}


async def claiming(
    db: Database, name: str, then: Callable[[UnitOfWork], Awaitable[None]] | None = None
) -> set[str]:
    """A unit that claims activity `name`, runs `then`, commits; what another connection reads
    right after its commit returned."""
    async with UnitOfWorkFactory(db)("t1") as uow:
        assert await uow.activities.claim(name, NOW)
        if then is not None:
            await then(uow)
        await uow.commit()
    return stored(db)


async def queued(db: Database, *units: Awaitable[set[str]]) -> list[set[str] | BaseException]:
    """Run `units` with each waiting for the write lock behind the one before (the lock is
    held until all of them wait), as a burst of turns does."""
    lock = db.write_lock
    assert lock is not None
    await lock.acquire()
    tasks = [asyncio.ensure_future(unit) for unit in units]
    while lock._waiters is None or len(lock._waiters) < len(tasks):  # type: ignore[attr-defined]
        await asyncio.sleep(0)
    lock.release()
    # A writer whose group is never committed would wait for ever: fail instead.
    return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)


async def test_writers_waiting_for_each_other_share_a_commit(db: Database) -> None:
    c = connections(db)
    commits, handed = c.writer_commits, c.handed_over
    names = [f"a{i}" for i in range(20)]
    seen = await queued(db, *(claiming(db, name) for name in names))
    # Each commit returned once its claim was committed: another connection reads it then.
    assert all(isinstance(s, set) and name in s for name, s in zip(names, seen, strict=True))
    assert stored(db) == set(names)
    # Groups of at most GROUP_MAX: 20 writers, 3 COMMITs (8, 8, 4), not 20. The eighth of
    # each full group commits it; the last group's four all hand over (its committer waits
    # behind them), and its committer commits them.
    assert c.writer_commits - commits == 3
    assert c.handed_over - handed == 7 + 7 + 4
    assert not c.grouped()


async def test_a_writer_alone_is_committed_by_its_group_s_committer(db: Database) -> None:
    """Nobody waits: the writer's group is itself, which its committer commits on the loop's
    next pass; its commit returns once that is done. Writers one after another each have
    their own COMMIT."""
    c = connections(db)
    commits, handed = c.writer_commits, c.handed_over
    for name in ("one", "two"):
        assert name in await claiming(db, name)
    assert (c.writer_commits - commits, c.handed_over - handed) == (2, 2)
    assert not c.grouped()


async def test_writers_that_reach_the_lock_within_a_pass_share_a_commit(db: Database) -> None:
    """Three turns that take the write lock one after another without waiting (nobody holds
    it when each asks) are still one group: the first's committer comes after them."""
    c = connections(db)
    commits = c.writer_commits
    seen = await asyncio.gather(*(claiming(db, name) for name in ("x", "y", "z")))
    assert all(s == {"x", "y", "z"} for s in seen)
    assert c.writer_commits - commits == 1


async def test_a_failing_writer_in_a_group_undoes_only_its_own_writes(db: Database) -> None:
    async def fail(uow: UnitOfWork) -> None:
        await uow.activities.claim("b-second", NOW)
        raise ValueError("the use-case refused")

    c = connections(db)
    commits = c.writer_commits
    first, failed, third = await queued(
        db, claiming(db, "a"), claiming(db, "b", fail), claiming(db, "c")
    )
    assert isinstance(failed, ValueError)
    assert isinstance(first, set) and isinstance(third, set)
    assert stored(db) == {"a", "c"}
    assert c.writer_commits - commits == 1


async def test_a_group_whose_commit_fails_fails_every_writer_in_it(db: Database) -> None:
    """The second writer leaves a foreign key broken until COMMIT (deferred), so the group's
    COMMIT fails: no writer's claim is stored, every writer's commit raises, and the next
    writer begins afresh."""

    async def break_a_key(uow: UnitOfWork) -> None:
        sqlite = (await uow.tx.driver())._sqlite
        assert sqlite is not None
        sqlite.execute("PRAGMA defer_foreign_keys=ON")
        sqlite.execute(
            "INSERT INTO checklist_items (tenant_id, checklist_id, position, text, required,"
            " note) VALUES ('t1', 999, 1, 'x', 0, '')"
        )

    results = await queued(db, claiming(db, "a"), claiming(db, "b", break_a_key), claiming(db, "c"))
    assert all(isinstance(r, (GroupFailed, sqlite3.IntegrityError)) for r in results), results
    assert stored(db) == set()
    assert not connections(db).grouped()
    assert "d" in await claiming(db, "d")


async def test_a_group_is_committed_when_the_writer_after_it_gives_up(db: Database) -> None:
    """The first writer hands its claim to the group while the second waits; the second gives
    up inside its unit (cancelled): the group's committer commits the first's claim."""
    inside = asyncio.Event()
    hanging: list[asyncio.Task[object]] = []

    async def hang(_uow: UnitOfWork) -> None:
        task = asyncio.current_task()
        assert task is not None
        hanging.append(task)
        inside.set()
        await asyncio.Event().wait()

    async def run() -> list[set[str] | BaseException]:
        return await queued(db, claiming(db, "a"), claiming(db, "b", hang))

    burst = asyncio.ensure_future(run())
    await inside.wait()
    assert connections(db).grouped()  # the first's claim waits for a COMMIT
    hanging[0].cancel()
    first, second = await burst
    assert isinstance(second, asyncio.CancelledError)
    assert isinstance(first, set) and first == {"a"}
    assert stored(db) == {"a"}


async def test_the_wal_starts_again_under_writers_that_never_pause(db: Database) -> None:
    """Eight writers that never pause, so that group follows group, and a WAL made "long"
    at once: the checkpoints still catch up with the groups' COMMITs, and the WAL starts
    again and again. Its file (which never shrinks) stays as long as a few checkpoints'
    pages, about 90 here, where the same 150 COMMITs without a checkpoint wrote 1,031."""
    c = connections(db)
    c.RESTART_FRAMES = 1
    c.CHECKPOINT_EVERY = 5
    wal = Path(c.path + "-wal")

    async def writer(index: int) -> None:
        for n in range(150):
            await claiming(db, f"w{index}-{n}")

    await asyncio.wait_for(asyncio.gather(*(writer(i) for i in range(8))), 60)
    await c.checkpointed()
    assert c.checkpoints >= 10 and c.handed_over > 600
    assert len(stored(db)) == 1200
    assert wal.stat().st_size // 4096 < 200


async def test_writers_with_orm_sessions_are_parts_of_a_group_too(db: Database) -> None:
    """The first writer and the third write through the ORM as well, the second fails after
    an ORM write: the first's and third's rows are committed in one COMMIT, the second's
    undone, and closing the sessions ended none of the group's transaction."""

    def account(user_id: str) -> UserAccount:
        return UserAccount(tenant_id="t1", id=user_id, name=user_id, role="member", created_at=NOW)

    def orm_write(user_id: str, fail: bool = False) -> Callable[[UnitOfWork], Awaitable[None]]:
        async def then(uow: UnitOfWork) -> None:
            session = await uow.orm()
            session.add(account(user_id))
            await session.flush()
            if fail:
                raise ValueError("the use-case refused")

        return then

    c = connections(db)
    commits, handed = c.writer_commits, c.handed_over
    first, failed, third = await queued(
        db,
        claiming(db, "a", orm_write("29:a")),
        claiming(db, "b", orm_write("29:b", fail=True)),
        claiming(db, "c", orm_write("29:c")),
    )
    assert isinstance(failed, ValueError)
    # Each commit returned once the group's COMMIT had stored both.
    assert first == {"a", "c"}
    assert isinstance(third, set) and third == {"a", "c"}
    assert (c.writer_commits - commits, c.handed_over - handed) == (1, 2)
    path = db.url.split("///", 1)[1]
    with sqlite3.connect(path) as conn:
        users = {r[0] for r in conn.execute("SELECT id FROM users")}
    assert users == {"29:a", "29:c"}


async def test_a_part_whose_flush_ends_the_transaction_fails_the_writers_before_it(
    db: Database,
) -> None:
    """The second writer's ORM flush fails (a user that exists already): SQLAlchemy rolls the
    whole transaction back, the first writer's claim with it, so the first writer's commit
    raises; the third begins afresh and is stored."""

    async def duplicate(uow: UnitOfWork) -> None:
        session = await uow.orm()
        for _ in range(2):
            session.add(
                UserAccount(tenant_id="t1", id="29:same", name="A", role="member", created_at=NOW)
            )
            await session.flush()
            session.expunge_all()

    first, failed, third = await queued(
        db, claiming(db, "a"), claiming(db, "b", duplicate), claiming(db, "c")
    )
    assert isinstance(first, GroupFailed)
    assert isinstance(failed, sa_exc.IntegrityError)
    assert third == {"c"}
    assert stored(db) == {"c"}
    assert not connections(db).grouped()

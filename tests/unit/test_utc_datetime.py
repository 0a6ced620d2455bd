"""A time read back from SQLite: the one-parse path of `UTCDateTime` gives exactly what
SQLAlchemy's processor followed by `process_result_value` gives, for every text either reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, select

from storage.models import ProcessedActivity, UTCDateTime

SQLITE = sqlite.dialect()


def _one_parse() -> Any:
    return UTCDateTime().dialect_impl(SQLITE).result_processor(SQLITE, None)


def _two_steps() -> Any:
    """SQLAlchemy's own composition: the SQLite DATETIME processor, then ours."""
    return sa.types.TypeDecorator.result_processor(UTCDateTime().dialect_impl(SQLITE), SQLITE, None)


def _read(process: Any, text: object) -> tuple[str, object]:
    try:
        return "value", process(text)
    except Exception as error:  # noqa: BLE001 - the kind of failure is compared
        return "error", type(error)


_instants = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))
_offsets = st.sampled_from(["", "+00:00", "+02:00", "-05:30", "Z", "+0100"])
_specs = st.sampled_from(["auto", "hours", "minutes", "seconds", "milliseconds", "microseconds"])


@st.composite
def _texts(draw: st.DrawFn) -> str:
    """What SQLAlchemy writes, and what else a column may hold (a date, a time with an offset,
    a `T`, fewer digits), and some that are no time at all."""
    instant = draw(_instants)
    kind = draw(st.sampled_from(["written", "iso", "date", "junk"]))
    if kind == "written":
        return instant.strftime("%Y-%m-%d %H:%M:%S.%f")
    if kind == "iso":
        separator = draw(st.sampled_from([" ", "T"]))
        return instant.isoformat(separator, draw(_specs)) + draw(_offsets)
    if kind == "date":
        return instant.date().isoformat() + draw(st.sampled_from(["", "+00:00"]))
    return draw(st.text(max_size=30))


@given(_texts())
@example("2026-12-07 14:11:52.171056")
@example("2026-12-07")  # "+00:00" added reads as a naive midnight
@example("2026-12-07 14")
@example("2026-12-07 14:11:52+02:00")
@example("")
def test_a_time_reads_as_sqlalchemy_then_process_result_value_read_it(text: str) -> None:
    one, two = _read(_one_parse(), text), _read(_two_steps(), text)
    assert one == two
    if one[0] == "value":
        value = one[1]
        assert isinstance(value, datetime) and value.tzinfo is UTC


def test_none_stays_none() -> None:
    assert _one_parse()(None) is None


def test_postgresql_keeps_sqlalchemy_s_composition() -> None:
    pg = postgresql.asyncpg.dialect()  # type: ignore[attr-defined]
    process = UTCDateTime().dialect_impl(pg).result_processor(pg, None)
    at = datetime(2026, 12, 7, 15, 0, tzinfo=timezone(timedelta(hours=1)))
    assert process(at) == at and process(at).tzinfo is UTC


def test_the_orm_reads_what_it_wrote_as_an_aware_utc_time() -> None:
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    SQLModel.metadata.create_all(engine, tables=[ProcessedActivity.__table__])  # type: ignore[attr-defined]
    at = datetime(2026, 12, 7, 14, 11, 52, 171056, tzinfo=UTC)
    with Session(engine) as session:
        session.add(ProcessedActivity(tenant_id="t", activity_id="a", processed_at=at))
        session.commit()
    with engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT processed_at FROM processed_activities")
        assert stored.scalar_one() == "2026-12-07 14:11:52.171056"
    with Session(engine) as session:
        read = session.exec(select(ProcessedActivity)).one().processed_at
    assert read == at and read.tzinfo is UTC


@pytest.mark.parametrize("text", ["2026-12-07 14:11:52.171056", "2026-12-07 00:00:00.000000"])
def test_the_written_form_takes_the_one_parse(text: str) -> None:
    """What SQLAlchemy writes never needs the two steps (the point of the fast path)."""
    assert datetime.fromisoformat(text + "+00:00").tzinfo is UTC
    assert _one_parse()(text) == _two_steps()(text)

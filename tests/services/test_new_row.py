"""`new_row` and `to_model` (storage/statements.py) make every table model's rows as pydantic's
`model_construct` and SQLAlchemy's instance state make them: the same values in the same
order, the same "fields set", no extra or private values; and such a row is inserted with its
defaults and updated through the ORM."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlmodel import SQLModel, select

import storage.marketplace  # noqa: F401  (its table models)
from storage.db import Database
from storage.models import TicketRow
from storage.statements import _maker, columns_of, new_row, to_model

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def _table_models() -> list[type[SQLModel]]:
    found: list[type[SQLModel]] = []
    todo = list(SQLModel.__subclasses__())
    while todo:
        model = todo.pop()
        todo.extend(model.__subclasses__())
        if hasattr(model, "__table__"):
            found.append(model)
    return sorted(found, key=lambda m: m.__name__)


MODELS = _table_models()


def _value(annotation: Any, name: str) -> Any:
    text = str(annotation)
    if "datetime.datetime" in text:
        return NOW
    if "datetime.date" in text:
        return date(2026, 12, 24)
    if "Decimal" in text:
        return Decimal("12.50")
    if "bool" in text:
        return True
    if "int" in text:
        return 7
    return f"{name}-value"


def _stock(model: type[SQLModel], **values: Any) -> Any:
    made = model.model_construct(**values)
    inspect(model).class_manager.setup_instance(made)
    return made


def _state(row: Any) -> tuple[list[tuple[str, Any]], set[str], Any, Any]:
    stored = [(k, v) for k, v in row.__dict__.items() if k != "_sa_instance_state"]
    return stored, row.__pydantic_fields_set__, row.__pydantic_extra__, row.__pydantic_private__


def test_every_table_model_is_found() -> None:
    tables = {model.__table__.name for model in MODELS}  # type: ignore[attr-defined]
    assert tables == set(SQLModel.metadata.tables)
    assert TicketRow in MODELS


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_row_is_made_as_model_construct_makes_it(model: type[SQLModel]) -> None:
    fields = model.__pydantic_fields__
    every = {name: _value(f.annotation, name) for name, f in fields.items()}
    required = {name: every[name] for name, f in fields.items() if f.is_required()}
    for values in (every, required, {}, {**required, "no_such_field": 1}):
        made = new_row(model, **values)
        assert _state(made) == _state(_stock(model, **values)), values
        assert inspect(made).transient
        made.__pydantic_fields_set__.add("x")  # each row has a set of its own
        assert "x" not in new_row(model, **values).__pydantic_fields_set__


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_fetched_tuple_makes_the_row_model_construct_makes(model: type[SQLModel]) -> None:
    names = columns_of(model)
    row = tuple(_value(model.__pydantic_fields__[n].annotation, n) for n in names)
    made = to_model(model, names, row)
    assert _state(made) == _state(_stock(model, **dict(zip(names, row, strict=True))))


async def test_a_row_made_so_is_inserted_and_updated_through_the_orm(any_db: Database) -> None:
    made = new_row(
        TicketRow,
        tenant_id="t1",
        number=1,
        title="Printer",
        priority="high",
        status="open",
        requester_id="29:u",
        created_at=NOW,
        updated_at=NOW,
    )
    async with any_db.sessions() as session:
        session.add(made)
        await session.commit()
        made.title = "Printer on 3"
        await session.commit()
    async with any_db.sessions() as session:
        stored = (await session.execute(select(TicketRow))).scalars().one()
    assert (stored.title, stored.description, stored.category, stored.requester_name) == (
        "Printer on 3",
        "",
        "",
        "",
    )


def test_a_model_the_fast_way_cannot_make_goes_through_model_construct(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Aliases, default factories, mutable defaults, extra values or a post-init: then
    model_construct makes the row (with its instance state), as it did for every model."""
    values = {"tenant_id": "t1", "number": 1, "title": "x", "no_such_field": 2}
    fast = new_row(TicketRow, **values)
    monkeypatch.setattr(_maker(TicketRow), "plain", False)
    made = new_row(TicketRow, **values)
    assert _state(made) == _state(_stock(TicketRow, **values)) == _state(fast)
    assert inspect(made).transient

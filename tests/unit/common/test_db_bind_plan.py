"""``Prepared.bind`` on PostgreSQL (named parameters): the values SQLAlchemy's
``construct_params`` and the types' bind processors give, picked by a plan made once per
statement (values given, constants of the statement, defaults refused), and by
``construct_params`` itself where the plan would not be that simple. No server needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa
from psycopg.types.json import Json
from sqlalchemy.dialects import postgresql

from revisit_common.db import Prepared, UtcDateTime

DIALECT = postgresql.psycopg.dialect()
meta = sa.MetaData()
things = sa.Table(
    "things",
    meta,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(20)),
    sa.Column("amount", sa.Numeric(12, 2)),
    sa.Column("tags", sa.JSON),
    sa.Column("at", UtcDateTime),
    sa.Column("odd name%", sa.String(20)),  # a name the compiler escapes
)
INSERT = sa.insert(things)
UPDATE_KIND = sa.update(things).where(things.c.id == sa.bindparam("thing"), things.c.kind == "open")
SELECT_ODD = sa.select(things.c.id).where(things.c["odd name%"] == sa.bindparam("odd"))
EAST = timezone(timedelta(hours=8))


def expected(prepared: Prepared, params: dict) -> dict:
    values = prepared.compiled.construct_params(params)
    for name, process in prepared.processors:
        values[name] = process(values[name])
    return values


def plain(values: dict) -> dict:
    """Json wrappers (which compare by identity) as what they wrap."""
    return {k: ("json", v.obj) if isinstance(v, Json) else v for k, v in values.items()}


def test_an_insert_binds_as_sqlalchemy_binds_it_every_time():
    params = {
        "id": "t1",
        "kind": "open",
        "amount": Decimal("12.50"),
        "tags": ["a", "b"],
        "at": datetime(2026, 6, 1, 12, 0, tzinfo=EAST),
    }
    prepared = Prepared(INSERT, tuple(params), DIALECT)
    assert prepared.named is not None
    for _ in range(3):
        bound = prepared.bind(params)
        assert plain(bound) == plain(expected(prepared, params))
    assert prepared.named is not None  # (checked, and kept)
    assert bound["at"] == datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
    assert plain(bound)["tags"] == ("json", ["a", "b"])


def test_constants_of_the_statement_are_bound_with_the_values_given():
    params = {"kind": "closed", "thing": "t1"}
    prepared = Prepared(UPDATE_KIND, tuple(params), DIALECT)
    assert prepared.named is not None
    for _ in range(2):
        bound = prepared.bind(params)
        assert bound == expected(prepared, params)
    assert sorted(bound.values()) == ["closed", "open", "t1"]


def test_escaped_names_are_bound_by_construct_params():
    prepared = Prepared(SELECT_ODD, ("odd",), DIALECT)
    params = {"odd": "x"}
    assert prepared.bind(params) == expected(prepared, params)
    insert = Prepared(INSERT, ("id", "odd name%"), DIALECT)
    assert insert.named is None
    assert insert.bind({"id": "t1", "odd name%": "y"}) == expected(
        insert, {"id": "t1", "odd name%": "y"}
    )

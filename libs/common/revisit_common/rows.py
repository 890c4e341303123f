"""Rows of a tenant: loading one by its id (another tenant's row is as unknown as a missing
one), copying a row's attributes into an event or another row as they are, and the columns
set on a new row, for a Core insert."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .errors import NotFound

Row = TypeVar("Row")


def tenant_row(session: Session, model: type[Row], tenant_id: str, row_id: Any, what: str) -> Row:
    """The ``model`` row ``row_id`` of ``tenant_id``; missing or another tenant's: NotFound
    naming ``what`` (``"customer"``)."""
    row = session.get(model, row_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(what)
    return row


def copied(row: object, *names: str) -> dict[str, Any]:
    """The attributes ``names`` of ``row`` as keyword arguments (``**copied(customer,
    "region", "owner")``): the fields an event or another row takes from it unchanged."""
    return {name: getattr(row, name) for name in names}


def set_columns(row: object, table: sa.Table) -> dict[str, Any]:
    """The columns of ``table`` set on ``row``, a new object not in a session: what the unit
    of work would insert (a column never set is left to its default, as the flush leaves it);
    for a Core ``INSERT`` of the row instead of a flush."""
    values = sa.inspect(row).dict
    return {column.key: values[column.key] for column in table.columns if column.key in values}


def insert_values(row: object, table: sa.Table) -> dict[str, Any]:
    """Every column of ``table`` for a Core ``INSERT`` of ``row`` (a new object not in a
    session, or a plain object with attributes named as the columns) with the same result
    as :func:`set_columns`' values: a column never set that has no default is NULL. The same
    columns whatever was set, so the statement is compiled once (:func:`.db.run`, which
    applies no column defaults: a column with a default left unset is a ValueError here)."""
    mapped = sa.inspect(row, raiseerr=False)
    values = vars(row) if mapped is None else mapped.dict
    out = {}
    for column in table.columns:
        key = column.key
        if key in values:
            out[key] = values[key]
        elif column.default is None and column.server_default is None:
            out[key] = None
        else:
            raise ValueError(f"{table.name}.{key} has a default and was not set")
    return out

"""Cursor pagination over time-ordered ids: ``?limit=`` (1..500, default 50) and ``?cursor=``.

:class:`PageArgs` reads the query, :func:`listing` runs a query for one page, and
:func:`page_schema` makes the response schema of a list (``items`` and ``next_cursor``).
"""

from __future__ import annotations

import base64
import binascii

from flask_smorest import abort
from marshmallow import Schema, fields, validate
from sqlalchemy import Select


class PageArgs(Schema):
    """``?limit=`` and ``?cursor=``; a list's own filters subclass it."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        abort(422, message="invalid cursor", errors={"cursor": ["not a cursor from this API"]})
    if not value or len(value) > 64:
        abort(422, message="invalid cursor", errors={"cursor": ["not a cursor from this API"]})
    return value


def page(session, query: Select, id_column, limit: int, cursor: str | None):
    """Run ``query`` ordered by id after the cursor; returns (rows, next_cursor)."""
    if cursor:
        query = query.where(id_column > decode_cursor(cursor))
    rows = session.scalars(query.order_by(id_column).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(getattr(rows[-1], id_column.key)) if more and rows else None
    return rows, next_cursor


def listing(session, query: Select, id_column, args: dict) -> dict:
    """One page of ``query`` for the validated :class:`PageArgs` ``args``, as the body of a
    :func:`page_schema` response."""
    items, cursor = page(session, query, id_column, args["limit"], args["cursor"])
    return {"items": items, "next_cursor": cursor}


def page_schema(name: str, item: type[Schema]) -> type[Schema]:
    """The schema of one page of ``item``: ``items`` and ``next_cursor`` (null on the last
    page). ``name`` is the class name, e.g. ``CustomerPageSchema`` (the OpenAPI component
    ``CustomerPage``)."""
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item)), "next_cursor": fields.String(allow_none=True)},
        name=name,
    )

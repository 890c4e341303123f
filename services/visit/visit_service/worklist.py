"""Work lists (CONTRACT §4.3): ``GET /visits?assignee=me&due_from=&due_to=&sort=``.

* ``assignee=me`` is the calling person: the staff id the API key acts as (a key of nobody
  gets 422, :meth:`revisit_common.caller.Caller.person`).
* ``sort=due_date`` lists the earliest due first, ``sort=-due_date`` the latest; visits due
  the same day in the order of their ids (ascending, or descending with ``-``). Without
  ``sort`` the list stays in id order (oldest first), as before.
* The cursor of a sorted list carries the last visit's due date and id (a keyset), so pages
  neither skip nor repeat visits whatever is planned meanwhile; a cursor of another order
  is 422.

The index ``ix_visits_tenant_assignee_due`` (tenant, assignee, due date, id) serves a
person's list over a due range in due-date order without a sort.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_smorest import abort

from revisit_common.caller import Caller
from revisit_common.paging import decode_cursor, encode_cursor
from revisit_common.tabular import seek

from .models import Visit

ME = "me"
SORTS = ("due_date", "-due_date")


def for_caller(args: dict, caller: Caller) -> dict:
    """``args`` with ``assignee=me`` replaced by the calling person's staff id."""
    if args.get("assignee") == ME:
        return {**args, "assignee": caller.person()}
    return args


def order_of(args: dict) -> tuple[tuple[Any, ...], bool]:
    """The keyset columns of the list's order and whether it is descending."""
    sort = args.get("sort")
    if sort is None:
        return (Visit.id,), False
    return (Visit.due_date, Visit.id), sort.startswith("-")


def _cursor_key(cursor: str, columns: tuple[Any, ...]) -> list[Any]:
    value = decode_cursor(cursor)
    if len(columns) == 1:
        return [value]
    day, _, visit_id = value.partition("|")
    try:
        due = date.fromisoformat(day)
    except ValueError:
        due = None
    if due is None or not visit_id:
        abort(422, message="invalid cursor", errors={"cursor": ["not a cursor of this order"]})
    return [due, visit_id]


def _cursor_of(visit: Visit, columns: tuple[Any, ...]) -> str:
    if len(columns) == 1:
        return encode_cursor(visit.id)
    return encode_cursor(f"{visit.due_date.isoformat()}|{visit.id}")


def page(session, query: sa.Select, args: dict) -> tuple[list[Visit], str | None]:
    """One page of ``query`` in the list's order after its cursor; (visits, next cursor)."""
    columns, descending = order_of(args)
    after = _cursor_key(args["cursor"], columns) if args.get("cursor") else None
    limit = args["limit"]
    rows = session.scalars(seek(query, columns, after, descending).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (_cursor_of(rows[-1], columns) if more and rows else None)

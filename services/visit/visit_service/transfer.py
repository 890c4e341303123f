"""``GET /visits/export``: the visits ``GET /visits`` lists (same filters, ``assignee=me``
and ``sort`` included), every one, as a CSV or XLSX file (``revisit_common.tabular``); the
record's fields with the derived ``overdue`` as of the tenant's today. Issues and audits
have lists of their own."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from revisit_common.caller import Caller
from revisit_common.tabular import keyset_rows

from . import domain
from .models import Visit
from .service import tenant_context, visit_query
from .worklist import order_of

COLUMNS = (
    Visit.id, Visit.customer_id, Visit.region, Visit.reason, Visit.method, Visit.due_date,
    Visit.assignee, Visit.status, Visit.trigger, Visit.created_at, Visit.completed_at,
    Visit.completed_by, Visit.on_time, Visit.satisfaction, Visit.recommend_score,
    Visit.repurchase_intent, Visit.ratings, Visit.product_feedback, Visit.service_feedback,
    Visit.needs, Visit.competitor_info, Visit.replied_at, Visit.appointment_at,
    Visit.cancelled_at, Visit.cancel_reason,
)  # fmt: skip
KEYS = tuple(column.key for column in COLUMNS)
STATUS = KEYS.index("status")
HEADERS = (*KEYS[: STATUS + 1], "overdue", *KEYS[STATUS + 1 :])


def export_rows(read, caller: Caller, args: dict) -> Iterator[list[Any]]:
    """The export's rows, in the list's order, read in keyset batches (``read``:
    ``Database.read``)."""
    with read() as session:
        today = tenant_context(session, caller.tenant_id, caller.clock).today
    query = visit_query(caller.tenant_id, args, today).with_only_columns(*COLUMNS)
    order, descending = order_of(args)
    for row in keyset_rows(read, query, order, descending=descending):
        overdue = domain.is_overdue(row.status, row.due_date, today)
        yield [*row[: STATUS + 1], overdue, *row[STATUS + 1 :]]

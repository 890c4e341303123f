"""``GET /complaints/export``: the complaints ``GET /complaints`` lists (same filters,
``assignee=me`` included, and a department key sees its own department's only), every one,
as a CSV or XLSX file (``revisit_common.tabular``), oldest first. The ledger has its own
view (``GET /complaints/{id}``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask_smorest import Blueprint

from revisit_common import tabular, use_case
from revisit_common.runtime import runtime
from revisit_common.tabular import keyset_rows

from .models import Complaint
from .schemas import ComplaintListArgs
from .service import list_query

blp = Blueprint(
    "complaint_files",
    __name__,
    url_prefix="/api/v1/complaints",
    description="Complaints out as CSV or XLSX files",
)
ComplaintExportArgs = tabular.export_args(ComplaintListArgs, "ComplaintExportArgs")

COLUMNS = (
    Complaint.id, Complaint.number, Complaint.status, Complaint.severity, Complaint.channel,
    Complaint.category, Complaint.department, Complaint.assignee, Complaint.customer_id,
    Complaint.region,
    Complaint.complainant, Complaint.contact, Complaint.product, Complaint.description,
    Complaint.received_at, Complaint.first_response_by, Complaint.plan_by,
    Complaint.resolve_by, Complaint.first_responded_at, Complaint.planned_at,
    Complaint.resolved_at, Complaint.closed_at, Complaint.resolution, Complaint.satisfied,
    Complaint.created_by, Complaint.created_at, Complaint.updated_at,
)  # fmt: skip
HEADERS = tuple(column.key for column in COLUMNS)


def export_rows(read, query) -> Iterator[Any]:
    return keyset_rows(read, query.with_only_columns(*COLUMNS), (Complaint.id,))


@tabular.export_route(blp, "/export", ComplaintExportArgs)
def complaints_export(args):
    """The complaints ``GET /complaints`` would list with these filters, every one, as a CSV
    (UTF-8 with BOM) or XLSX file."""
    caller = use_case.caller()
    query = list_query(caller, args, caller.now())
    return tabular.download(
        args["format"],
        "complaints",
        HEADERS,
        lambda read: export_rows(read, query),
        runtime().db,
        stamp=caller.now().date(),
    )

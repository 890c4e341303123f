"""``GET /customers/export``: the customers ``GET /customers`` lists, as a CSV or XLSX file
(``revisit_common.tabular``), every matching row, oldest first. Its columns are the fields
``POST /customers/import`` reads (so an export imports again) and the derived ones, which
the import ignores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from revisit_common.tabular import keyset_rows

from .models import Customer
from .service import customer_query

COLUMNS = (
    Customer.id, Customer.external_id, Customer.name, Customer.type, Customer.region,
    Customer.owner, Customer.address, Customer.legal_representative, Customer.business_scope,
    Customer.annual_purchase_amount, Customer.purchase_frequency, Customer.cooperation_start,
    Customer.overdue_days, Customer.legal_dispute, Customer.credit_rating, Customer.size_tier,
    Customer.cooperation_tier, Customer.score, Customer.grade, Customer.risk_level,
    Customer.created_at, Customer.updated_at,
)  # fmt: skip
HEADERS = tuple(column.key for column in COLUMNS)


def export_rows(read, tenant_id: str, args: dict) -> Iterator[Any]:
    """The rows of the export, read in keyset batches (``read``: ``Database.read``)."""
    query = customer_query(tenant_id, args).with_only_columns(*COLUMNS)
    return keyset_rows(read, query, (Customer.id,))

"""``POST /customers/import``: many customers from one file, all or nothing.

Every row is a whole customer and must pass ``POST /customers``'s schema
(:class:`.schemas.CustomerInSchema`), loaded as that route loads a body. A row whose
``external_id`` names a customer of the tenant updates it (as ``PATCH /customers/{id}``
would, with the fields the file has); any other row registers a new customer (as
``POST /customers``). Both go through the same use cases as those routes
(:func:`.service.create_customer`, :func:`.service.update_customer`), so they publish the
same events, through the outbox, in the import's one transaction.

A file with any invalid row writes nothing: the answer lists every error (row, field,
message) with ``created`` and ``updated`` 0. So does ``dry_run``, which checks and counts
without writing. An external id twice in one file is an error of the later row. The annual
purchase amount of a customer with recorded purchases follows them (it cannot be typed in):
an update leaves it as it is.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import Session

from revisit_common.caller import Caller
from revisit_common.messaging.outbox import Outbox

from . import service
from .import_rows import Row, Table, error
from .models import Customer
from .schemas import CustomerInSchema

LOOKUP_BATCH = 500  # external ids looked up per query


def flatten(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(field, message) pairs of a marshmallow error dict (nested fields dotted)."""
    if isinstance(messages, dict):
        pairs = []
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            pairs.extend(flatten(value, "" if key == "_schema" and not prefix else name))
        return pairs
    if isinstance(messages, list):
        return [pair for message in messages for pair in flatten(message, prefix)]
    return [(prefix, str(messages))]


def validated(table: Table) -> tuple[list[tuple[Row, dict]], list[dict]]:
    """The rows loaded by ``POST /customers``'s schema (only the fields each row gives) and
    the errors of those that fail it, after the file's own errors."""
    schema = CustomerInSchema()
    errors = list(table.errors)
    loaded = []
    seen: dict[str, int] = {}
    for row in table.rows:
        try:
            data = schema.load(row.data)
        except ValidationError as exc:
            errors.extend(error(row.number, f, m) for f, m in flatten(exc.messages))
            continue
        external = data.get("external_id")
        if external is not None:
            if external in seen:
                message = f"external_id {external!r} is also on row {seen[external]}"
                errors.append(error(row.number, "external_id", message))
                continue
            seen[external] = row.number
        loaded.append((row, {key: value for key, value in data.items() if key in row.data}))
    return loaded, errors


def existing(session: Session, tenant_id: str, external_ids: list[str | None]) -> dict:
    """The tenant's customers with these external ids, by external id."""
    wanted = sorted({external for external in external_ids if external is not None})
    found = {}
    for start in range(0, len(wanted), LOOKUP_BATCH):
        chunk = wanted[start : start + LOOKUP_BATCH]
        query = sa.select(Customer).where(
            Customer.tenant_id == tenant_id, Customer.external_id.in_(chunk)
        )
        found.update((customer.external_id, customer) for customer in session.scalars(query))
    return found


def import_customers(
    session: Session, outbox: Outbox, caller: Caller, table: Table, dry_run: bool
) -> dict[str, Any]:
    """Check every row, then (unless ``dry_run`` or any error) create or update each."""
    loaded, errors = validated(table)
    if errors:
        return {"created": 0, "updated": 0, "errors": errors}
    known = existing(session, caller.tenant_id, [data.get("external_id") for _, data in loaded])
    plan = [(known.get(data.get("external_id")), data) for _, data in loaded]
    created = sum(1 for match, _ in plan if match is None)
    result = {"created": created, "updated": len(plan) - created, "errors": []}
    if dry_run:
        return result
    policy, timezone = service.policy_for(session, caller.tenant_id)
    for match, data in plan:
        if match is None:
            service.create_customer(session, outbox, caller, data, policy=policy, timezone=timezone)
        else:
            if "annual_purchase_amount" in data and service.has_purchases(session, match):
                data = {k: v for k, v in data.items() if k != "annual_purchase_amount"}
            service.update_customer(session, outbox, caller, match.id, data)
    return result

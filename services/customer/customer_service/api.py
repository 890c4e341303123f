"""HTTP routes of the customer service: validate, call one service function, render."""

from __future__ import annotations

import sqlalchemy as sa
from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from revisit_common import idempotency
from revisit_common.identity import current
from revisit_common.paging import PageArgs, page
from revisit_common.runtime import runtime

from . import service
from .models import Customer, Purchase
from .schemas import (
    CustomerInSchema,
    CustomerListArgs,
    CustomerOutSchema,
    CustomerPageSchema,
    CustomerPatchSchema,
    PurchaseInSchema,
    PurchaseOutSchema,
    PurchasePageSchema,
    RepairCloseSchema,
    RepairInSchema,
    RepairOutSchema,
)

blp = Blueprint("customers", __name__, url_prefix="/api/v1/customers", description="Customers")


def _caller() -> service.Caller:
    return service.Caller(current().tenant_id, g.get("request_id"))


def _run(fn, *, read: bool = False):
    """Run one use case in a transaction, mapping its errors to problem responses."""
    rt = runtime()
    try:
        with rt.db.read() if read else idempotency.transaction(rt.db) as session:
            return fn(session)
    except service.NotFound as exc:
        abort(404, message=f"{exc} not found")
    except service.Conflict as exc:
        abort(409, message=str(exc))


@blp.route("")
class Customers(MethodView):
    @blp.arguments(CustomerListArgs, location="query")
    @blp.response(200, CustomerPageSchema)
    def get(self, args):
        """List customers, filtered, newest last, with cursor paging."""
        tenant = current().tenant_id

        def run(session):
            query = sa.select(Customer).where(Customer.tenant_id == tenant)
            for key in ("type", "grade", "region", "risk_level", "owner"):
                if key in args:
                    query = query.where(getattr(Customer, key) == args[key])
            if "q" in args:
                pattern = "%" + args["q"].replace("\\", "\\\\").replace("%", "\\%") + "%"
                query = query.where(Customer.name.ilike(pattern, escape="\\"))
            items, cursor = page(session, query, Customer.id, args["limit"], args["cursor"])
            return {"items": items, "next_cursor": cursor}

        return _run(run, read=True)

    @blp.arguments(CustomerInSchema)
    @blp.response(201, CustomerOutSchema)
    def post(self, data):
        """Register a customer; its classification is derived from the tenant's policy."""
        rt = runtime()
        return _run(lambda s: service.create_customer(s, rt.outbox, _caller(), data))


@blp.route("/<customer_id>")
class CustomerItem(MethodView):
    @blp.response(200, CustomerOutSchema)
    def get(self, customer_id):
        return _run(lambda s: service.get_customer(s, current().tenant_id, customer_id), read=True)

    @blp.arguments(CustomerPatchSchema)
    @blp.response(200, CustomerOutSchema)
    def patch(self, data, customer_id):
        """Change fields; the derived classification is recomputed."""
        rt = runtime()
        return _run(lambda s: service.update_customer(s, rt.outbox, _caller(), customer_id, data))


@blp.route("/<customer_id>/purchases")
class Purchases(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PurchasePageSchema)
    def get(self, args, customer_id):
        def run(session):
            customer = service.get_customer(session, current().tenant_id, customer_id)
            query = sa.select(Purchase).where(Purchase.customer_id == customer.id)
            items, cursor = page(session, query, Purchase.id, args["limit"], args["cursor"])
            return {"items": items, "next_cursor": cursor}

        return _run(run, read=True)

    @blp.arguments(PurchaseInSchema)
    @blp.response(201, PurchaseOutSchema)
    def post(self, data, customer_id):
        """Record a purchase; a customer's first purchase leads to a new-customer visit."""
        rt = runtime()
        return _run(lambda s: service.record_purchase(s, rt.outbox, _caller(), customer_id, data))


@blp.route("/<customer_id>/repairs")
class Repairs(MethodView):
    @blp.arguments(RepairInSchema)
    @blp.response(201, RepairOutSchema)
    def post(self, data, customer_id):
        """Open a repair/service record."""
        return _run(lambda s: service.open_repair(s, _caller(), customer_id, data))


@blp.route("/<customer_id>/repairs/<repair_id>/close")
class RepairClose(MethodView):
    @blp.arguments(RepairCloseSchema)
    @blp.response(200, RepairOutSchema)
    def post(self, data, customer_id, repair_id):
        """Close a repair record; a repair follow-up visit becomes due."""
        rt = runtime()
        return _run(
            lambda s: service.close_repair(s, rt.outbox, _caller(), customer_id, repair_id, data)
        )

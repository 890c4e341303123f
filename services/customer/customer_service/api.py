"""HTTP routes of the customer service: validate, call one service function, render."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from revisit_common import routes, use_case
from revisit_common.identity import current
from revisit_common.paging import PageArgs, listing

from . import projects, purchase_recording, service
from .customer_view import customer_body, customer_of, customer_view
from .models import Customer, Project, Purchase
from .schemas import (
    CustomerInSchema,
    CustomerListArgs,
    CustomerOutSchema,
    CustomerPageSchema,
    CustomerPatchSchema,
    ProjectInSchema,
    ProjectOutSchema,
    ProjectPageSchema,
    PurchaseInSchema,
    PurchaseOutSchema,
    PurchasePageSchema,
    RepairCloseSchema,
    RepairInSchema,
    RepairOutSchema,
)

blp = Blueprint("customers", __name__, url_prefix="/api/v1/customers", description="Customers")


@blp.route("")
class Customers(MethodView):
    @blp.arguments(CustomerListArgs, location="query")
    @blp.response(200, CustomerPageSchema)
    def get(self, args):
        """List customers, filtered, newest last, with cursor paging."""
        query = service.customer_query(current().tenant_id, args)
        return use_case.run(lambda session: listing(session, query, Customer.id, args), read=True)

    @blp.arguments(routes.once(CustomerInSchema))
    @blp.response(201, CustomerOutSchema)
    def post(self, data):
        """Register a customer; its classification is derived from the tenant's policy."""
        customer = use_case.write_core(service.create_customer, data)
        # rendered as CustomerOutSchema dumps it (customer_view.customer_body)
        return current_app.json.response(customer_body(customer_of(customer))), 201


# The most frequent read: a route of its own (no MethodView, no idempotency wrapper, which
# only POST and PATCH routes get), rendered as CustomerOutSchema dumps it (customer_view.py).
@routes.get(blp, "/<customer_id>", CustomerOutSchema)
def customer_item(customer_id):
    customer = use_case.lookup(customer_view, customer_id)
    return current_app.json.response(customer_body(customer))


@blp.route("/<customer_id>", methods=["PATCH"])
class CustomerItem(MethodView):
    @blp.arguments(CustomerPatchSchema)
    @blp.response(200, CustomerOutSchema)
    def patch(self, data, customer_id):
        """Change fields; the derived classification is recomputed. The annual purchase
        amount of a customer with recorded purchases follows them: typing it is a 409."""
        return use_case.write(service.update_customer, customer_id, data)


@blp.route("/<customer_id>/purchases")
class Purchases(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PurchasePageSchema)
    def get(self, args, customer_id):
        return use_case.list_of(service.get_customer, customer_id, Purchase.customer_id, args)

    @blp.arguments(routes.once(PurchaseInSchema))
    @blp.response(201, PurchaseOutSchema)
    def post(self, data, customer_id):
        """Record a purchase; a customer's first purchase leads to a new-customer visit."""
        purchase = use_case.write_core(purchase_recording.record_purchase, customer_id, data)
        # rendered as PurchaseOutSchema dumps it (purchase_recording.purchase_body)
        return current_app.json.response(purchase_recording.purchase_body(purchase)), 201


@blp.route("/<customer_id>/projects")
class Projects(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ProjectPageSchema)
    def get(self, args, customer_id):
        return use_case.list_of(service.get_customer, customer_id, Project.customer_id, args)

    @blp.arguments(routes.once(ProjectInSchema))
    @blp.response(201, ProjectOutSchema)
    def post(self, data, customer_id):
        """Record a project completed for the customer; a post_project visit follows."""
        return use_case.write(projects.record_project, customer_id, data)


@routes.post(blp, "/<customer_id>/repairs", RepairInSchema, RepairOutSchema, status=201)
def repairs(data, customer_id):
    """Open a repair/service record (closed at once when ``closed_at`` is given)."""
    return use_case.write(service.open_repair, customer_id, data)


@routes.post(blp, "/<customer_id>/repairs/<repair_id>/close", RepairCloseSchema, RepairOutSchema)
def repair_close(data, customer_id, repair_id):
    """Close a repair record; a repair follow-up visit becomes due."""
    return use_case.write(service.close_repair, customer_id, repair_id, data)

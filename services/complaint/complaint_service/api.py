"""HTTP routes of the complaint service: validate, call one service function, render."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from revisit_common import idempotency
from revisit_common.identity import current, require_role
from revisit_common.paging import page
from revisit_common.runtime import runtime

from . import lifecycle, service
from .models import Complaint
from .schemas import (
    ComplaintInSchema,
    ComplaintListArgs,
    ComplaintPageSchema,
    ComplaintSchema,
    TransitionSchema,
)

blp = Blueprint("complaints", __name__, url_prefix="/api/v1/complaints", description="Complaints")

STAFF = ("admin", "manager", "agent")


def _caller() -> service.Caller:
    identity = current()
    return service.Caller(
        identity.tenant_id, identity.actor, identity.role, identity.department, g.get("request_id")
    )


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
    except service.Invalid as exc:
        abort(422, message="invalid fields", errors=exc.errors)


@blp.route("")
class Complaints(MethodView):
    @blp.arguments(ComplaintListArgs, location="query")
    @blp.response(200, ComplaintPageSchema)
    def get(self, args):
        """List complaints, filtered (overdue=true: a running limit is past due), oldest first."""
        caller = _caller()

        def run(session):
            query = service.list_query(caller, args, service.now())
            items, cursor = page(session, query, Complaint.id, args["limit"], args["cursor"])
            return {"items": items, "next_cursor": cursor}

        return _run(run, read=True)

    @blp.arguments(ComplaintInSchema)
    @blp.response(201, ComplaintSchema)
    def post(self, data):
        """Register a complaint: numbered, its time limits set from the tenant's settings."""
        require_role(*STAFF)
        rt = runtime()
        return _run(lambda s: service.create_complaint(s, rt.outbox, _caller(), data, rt.directory))


@blp.route("/<complaint_id>")
class ComplaintItem(MethodView):
    @blp.response(200, ComplaintSchema)
    def get(self, complaint_id):
        """A complaint with its ledger (every step: when, who, department, note)."""
        return _run(lambda s: service.get_complaint(s, _caller(), complaint_id), read=True)


@blp.route("/<complaint_id>/transitions")
class ComplaintTransitions(MethodView):
    @blp.arguments(TransitionSchema)
    @blp.response(200, ComplaintSchema)
    def post(self, data, complaint_id):
        """One lifecycle step; an action not allowed from the current status is 409."""
        require_role(*STAFF, "department")
        rt = runtime()
        return _run(lambda s: lifecycle.transition(s, rt.outbox, _caller(), complaint_id, data))

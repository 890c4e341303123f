"""HTTP routes of the visit service: validate, call one service function, render."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import RAISE

from revisit_common import idempotency
from revisit_common.identity import current, require_role
from revisit_common.paging import page
from revisit_common.runtime import runtime

from . import records, service
from .models import Issue, Visit
from .schemas import (
    AuditInSchema,
    AuditOutSchema,
    AuditSampleArgs,
    AuditSampleSchema,
    CancelSchema,
    CompleteSchema,
    IssueListArgs,
    IssueOutSchema,
    IssuePageSchema,
    ResolveSchema,
    VisitInSchema,
    VisitListArgs,
    VisitOutSchema,
    VisitPageSchema,
)

blp = Blueprint("visits", __name__, url_prefix="/api/v1/visits", description="Visits")
issues_blp = Blueprint("issues", __name__, url_prefix="/api/v1/issues", description="Issues")
SUPERVISORS = ("auditor", "manager", "admin")


def _caller() -> service.Caller:
    who = current()
    return service.Caller(who.tenant_id, g.get("request_id"), who.actor, who.role, who.department)


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
    except service.Forbidden as exc:
        abort(403, message=str(exc))
    except service.Invalid as exc:
        abort(422, message="invalid fields", errors=exc.errors)


@blp.before_request
def _no_departments():
    """Department keys work on issues only (the gateway says so too)."""
    who = g.get("identity")
    if who is not None and who.role == "department":
        abort(403, message="department keys may not use visits")


@blp.route("")
class Visits(MethodView):
    @blp.arguments(VisitListArgs, location="query", unknown=RAISE)
    @blp.response(200, VisitPageSchema)
    def get(self, args):
        """List visits (filters: status, overdue, assignee, customer, reason, region, due
        range), oldest first, with cursor paging."""
        tenant = current().tenant_id

        def run(session):
            today = service.tenant_context(session, tenant).today
            query = service.visit_query(tenant, args, today)
            items, cursor = page(session, query, Visit.id, args["limit"], args["cursor"])
            return {"items": service.annotate(items, today), "next_cursor": cursor}

        return _run(run, read=True)

    @blp.arguments(VisitInSchema)
    @blp.response(201, VisitOutSchema)
    def post(self, data):
        """Plan a visit by hand; due date and assignee default to the tenant's rules."""
        rt = runtime()
        return _run(lambda s: service.create_visit(s, rt.outbox, _caller(), data, rt.directory))


@blp.route("/audit-sample")
class AuditSample(MethodView):
    @blp.arguments(AuditSampleArgs, location="query", unknown=RAISE)
    @blp.response(200, AuditSampleSchema)
    def get(self, args):
        """A random share (default the tenant's audit share, 10%) of the completed, unaudited
        visits of each assignee in a period, for supervisors to spot-check."""
        require_role(*SUPERVISORS)
        return _run(lambda s: records.audit_sample(s, _caller(), args), read=True)


@blp.route("/<visit_id>")
class VisitItem(MethodView):
    @blp.response(200, VisitOutSchema)
    def get(self, visit_id):
        tenant = current().tenant_id

        def run(session):
            visit = service.get_visit(session, tenant, visit_id)
            return service.annotate([visit], service.tenant_context(session, tenant).today)[0]

        return _run(run, read=True)


@blp.route("/<visit_id>/complete")
class VisitComplete(MethodView):
    @blp.arguments(CompleteSchema)
    @blp.response(200, VisitOutSchema)
    def post(self, data, visit_id):
        """Record a planned visit, with the issues found; not planned → 409."""
        rt = runtime()
        return _run(lambda s: records.complete_visit(s, rt.outbox, _caller(), visit_id, data))


@blp.route("/<visit_id>/cancel")
class VisitCancel(MethodView):
    @blp.arguments(CancelSchema)
    @blp.response(200, VisitOutSchema)
    def post(self, data, visit_id):
        """Cancel a planned visit; not planned → 409."""
        rt = runtime()
        return _run(lambda s: service.cancel_visit(s, rt.outbox, _caller(), visit_id, data))


@blp.route("/<visit_id>/audit")
class VisitAudit(MethodView):
    @blp.arguments(AuditInSchema)
    @blp.response(200, AuditOutSchema)
    def post(self, data, visit_id):
        """Mark a completed record accurate or not (auditor, manager); once per visit."""
        require_role(*SUPERVISORS)
        rt = runtime()
        return _run(lambda s: records.audit_visit(s, rt.outbox, _caller(), visit_id, data))


@issues_blp.route("")
class Issues(MethodView):
    @issues_blp.arguments(IssueListArgs, location="query", unknown=RAISE)
    @issues_blp.response(200, IssuePageSchema)
    def get(self, args):
        """List issues; a department key sees those it leads or assists."""
        caller = _caller()

        def run(session):
            query = records.issue_query(caller, args)
            items, cursor = page(session, query, Issue.id, args["limit"], args["cursor"])
            return {"items": items, "next_cursor": cursor}

        return _run(run, read=True)


@issues_blp.route("/<issue_id>")
class IssueItem(MethodView):
    @issues_blp.response(200, IssueOutSchema)
    def get(self, issue_id):
        return _run(lambda s: records.get_issue(s, _caller(), issue_id), read=True)


@issues_blp.route("/<issue_id>/resolve")
class IssueResolve(MethodView):
    @issues_blp.arguments(ResolveSchema)
    @issues_blp.response(200, IssueOutSchema)
    def post(self, data, issue_id):
        """Resolve an open issue (its lead department or staff); twice → 409."""
        rt = runtime()
        return _run(lambda s: records.resolve_issue(s, rt.outbox, _caller(), issue_id, data))

"""HTTP routes of the visit service: validate, call one service function, render."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import RAISE

from revisit_common import routes, tabular, use_case
from revisit_common.identity import require_role
from revisit_common.runtime import runtime

from . import contact, issue_followup, records, service, transfer, worklist
from .schemas import (
    AuditInSchema,
    AuditOutSchema,
    AuditSampleArgs,
    AuditSampleSchema,
    BookSchema,
    CancelSchema,
    CompleteSchema,
    ConfirmSchema,
    IssueListArgs,
    IssueOutSchema,
    IssuePageSchema,
    ReplySchema,
    ResolveSchema,
    VisitInSchema,
    VisitListArgs,
    VisitOutSchema,
    VisitPageSchema,
)
from .visit_view import visit_response

VisitExportArgs = tabular.export_args(VisitListArgs, "VisitExportArgs")

blp = Blueprint("visits", __name__, url_prefix="/api/v1/visits", description="Visits")
issues_blp = Blueprint("issues", __name__, url_prefix="/api/v1/issues", description="Issues")
SUPERVISORS = ("auditor", "manager", "admin")


@blp.before_request
def _no_departments():
    """Department keys work on issues only (the gateway says so too)."""
    who = g.get("identity")
    if who is not None and who.role == "department":
        abort(403, message="department keys may not use visits")


@blp.route("")
class Visits(MethodView):
    @blp.arguments(routes.once(VisitListArgs), location="query", unknown=RAISE)
    @blp.response(200, VisitPageSchema)
    def get(self, args):
        """List visits (filters: status, overdue, assignee (``me``: the calling person),
        customer, reason, region, due range, replied: email visits only), oldest first or
        by due date (``sort``), with cursor paging."""
        caller = use_case.caller()
        args = worklist.for_caller(args, caller)

        def run(session):
            today = service.tenant_context(session, caller.tenant_id, caller.clock).today
            query = service.visit_query(caller.tenant_id, args, today)
            items, cursor = worklist.page(session, query, args)
            return {"items": service.annotate(items, today), "next_cursor": cursor}

        return use_case.run(run, read=True)

    @blp.arguments(routes.once(VisitInSchema))
    @blp.response(201, VisitOutSchema)
    def post(self, data):
        """Plan a visit by hand; due date and assignee default to the tenant's rules."""
        return use_case.write(service.create_visit, data, runtime().directory)


@tabular.export_route(blp, "/export", VisitExportArgs)
def visits_export(args):
    """The visits ``GET /visits`` would list with these filters (``assignee=me``, ``sort``
    too), every one, as a CSV (UTF-8 with BOM) or XLSX file."""
    caller = use_case.caller()
    args = worklist.for_caller(args, caller)
    return tabular.download(
        args["format"],
        "visits",
        transfer.HEADERS,
        lambda read: transfer.export_rows(read, caller, args),
        runtime().db,
        stamp=caller.now().date(),
    )


@blp.route("/audit-sample")
class AuditSample(MethodView):
    @blp.arguments(routes.once(AuditSampleArgs), location="query", unknown=RAISE)
    @blp.response(200, AuditSampleSchema)
    def get(self, args):
        """The completed, unaudited visits of a period up for review by supervisors: every
        key account's (grade A) and a random share (default the tenant's audit share, 10%)
        of each assignee's others."""
        require_role(*SUPERVISORS)
        return use_case.run(lambda s: records.audit_sample(s, use_case.caller(), args), read=True)


@routes.get(blp, "/<visit_id>", VisitOutSchema)
def visit_item(visit_id):
    caller = use_case.caller()

    def run(session):
        visit = service.get_visit(session, caller.tenant_id, visit_id)
        today = service.tenant_context(session, caller.tenant_id, caller.clock).today
        return service.annotate([visit], today)[0]

    return use_case.run(run, read=True)


@routes.post(blp, "/<visit_id>/complete", CompleteSchema, VisitOutSchema)
def visit_complete(data, visit_id):
    """Record a planned visit, with the issues found; not planned → 409."""
    return visit_response(use_case.write_core(records.complete_visit, visit_id, data))


@routes.post(blp, "/<visit_id>/cancel", CancelSchema, VisitOutSchema)
def visit_cancel(data, visit_id):
    """Cancel a planned visit; not planned → 409."""
    return use_case.write(service.cancel_visit, visit_id, data)


@routes.post(blp, "/<visit_id>/reply", ReplySchema, VisitOutSchema)
def visit_reply(data, visit_id):
    """Record when the customer replied to an email visit (default now); not email,
    cancelled or replied already → 409."""
    return use_case.write(contact.reply_visit, visit_id, data)


@routes.post(blp, "/<visit_id>/book", BookSchema, VisitOutSchema)
def visit_book(data, visit_id):
    """Book a planned on-site visit's appointment (again: the latest wins); not on-site or
    not planned → 409."""
    return use_case.write(contact.book_visit, visit_id, data)


@routes.post(blp, "/<visit_id>/audit", AuditInSchema, AuditOutSchema)
def visit_audit(data, visit_id):
    """Mark a completed record accurate or not (auditor, manager); once per visit."""
    require_role(*SUPERVISORS)
    return use_case.write(records.audit_visit, visit_id, data)


@issues_blp.route("")
class Issues(MethodView):
    @issues_blp.arguments(routes.once(IssueListArgs), location="query", unknown=RAISE)
    @issues_blp.response(200, IssuePageSchema)
    def get(self, args):
        """List issues; a department key sees those it leads or assists."""
        caller = use_case.caller()
        return use_case.run(lambda s: records.issue_page(s, caller, args), read=True)


@routes.get(issues_blp, "/<issue_id>", IssueOutSchema)
def issue_item(issue_id):
    """An issue, with each stage's status (pending, done, overdue) as of today."""
    return use_case.run(lambda s: records.read_issue(s, use_case.caller(), issue_id), read=True)


@routes.post(issues_blp, "/<issue_id>/resolve", ResolveSchema, IssueOutSchema)
def issue_resolve(data, issue_id):
    """Resolve an open issue (its lead department or staff); twice → 409."""
    return use_case.write(records.resolve_issue, issue_id, data)


@routes.post(issues_blp, "/<issue_id>/stages/<int:n>/complete", None, IssueOutSchema)
def issue_stage_complete(issue_id, n):
    """Mark stage ``n`` (from 1) of the issue's timetable done; twice → 409, no such
    stage → 404."""
    return use_case.write(issue_followup.complete_stage, issue_id, n)


@routes.post(issues_blp, "/<issue_id>/confirm", ConfirmSchema, IssueOutSchema)
def issue_confirm(data, issue_id):
    """After resolve, record whether the customer, told the result, is satisfied: yes →
    ``confirmed``; no → open again. Not resolved → 409."""
    return use_case.write(issue_followup.confirm_issue, issue_id, data)

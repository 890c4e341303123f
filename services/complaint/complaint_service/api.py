"""HTTP routes of the complaint service: validate, call one service function, render."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from revisit_common import routes, use_case
from revisit_common.identity import require_role
from revisit_common.paging import PageArgs, listing
from revisit_common.runtime import runtime

from . import lifecycle, service, watch
from .complaint_view import complaint_response
from .models import Complaint
from .schemas import (
    AssignSchema,
    ComplaintInSchema,
    ComplaintListArgs,
    ComplaintPageSchema,
    ComplaintSchema,
    TransitionSchema,
    WatchPageSchema,
)

blp = Blueprint("complaints", __name__, url_prefix="/api/v1/complaints", description="Complaints")

STAFF = ("admin", "manager", "agent")
SUPERVISION = ("admin", "manager")


@blp.route("")
class Complaints(MethodView):
    @blp.arguments(routes.once(ComplaintListArgs), location="query")
    @blp.response(200, ComplaintPageSchema)
    def get(self, args):
        """List complaints, filtered (overdue=true: a running limit is past due), oldest first."""
        caller = use_case.caller()

        def run(session):
            query = service.list_query(caller, args, caller.now())
            return listing(session, query, Complaint.id, args)

        return use_case.run(run, read=True)

    @blp.arguments(routes.once(ComplaintInSchema))
    @blp.response(201, ComplaintSchema)
    def post(self, data):
        """Register a complaint: numbered, its time limits set from the tenant's settings."""
        require_role(*STAFF)
        rt = runtime()
        # Core statements only (db.run, Outbox.add, the customer copy's upsert): no Session
        complaint = use_case.write_core(service.create_complaint, data, rt.directory)
        return complaint_response(complaint, rt.clock(), 201)  # as ComplaintSchema dumps it


# Before "/<complaint_id>" (Werkzeug also ranks a fixed path first): "watch" is no id.
@routes.get(blp, "/watch", WatchPageSchema, query=PageArgs)
def complaint_watch(args):
    """The supervision group's watch list: complaints reported upward (major, or touching
    several departments) and not closed, newest first, with their next deadline."""
    require_role(*SUPERVISION)
    return use_case.run(lambda s: watch.watch_list(s, use_case.caller(), args), read=True)


@routes.get(blp, "/<complaint_id>", ComplaintSchema)
def complaint_item(complaint_id):
    """A complaint with its ledger (every step: when, who, department, note)."""
    return use_case.run(
        lambda s: service.get_complaint(s, use_case.caller(), complaint_id), read=True
    )


@routes.post(blp, "/<complaint_id>/transitions", TransitionSchema, ComplaintSchema)
def complaint_transitions(data, complaint_id):
    """One lifecycle step; an action not allowed from the current status is 409."""
    require_role(*STAFF, "department")
    return use_case.write(lifecycle.transition, complaint_id, data)


@routes.post(blp, "/<complaint_id>/assign", AssignSchema, ComplaintSchema)
def complaint_assign(data, complaint_id):
    """Give the complaint to a person (a staff id, ``me``, or null for nobody); a closed
    complaint is 409. Any well-formed staff id is taken (the people are the gateway's)."""
    require_role(*STAFF, "department")
    return use_case.write(service.assign, complaint_id, data)

"""``GET /notifications`` (admin, manager): the emails written for the tenant, newest last,
with their sending state (``?status=pending|sent|failed``, ``?kind=``, paged)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from revisit_common import use_case
from revisit_common.identity import require_role
from revisit_common.paging import PageArgs, page, page_schema

from . import emails
from .email_templates import KINDS
from .models import Email

blp = Blueprint(
    "notifications",
    __name__,
    url_prefix="/api/v1/notifications",
    description="Email notifications: digests, major complaints, escalations, risk warnings",
)

STATUSES = ("pending", "sent", "failed")


class NotificationListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    kind = fields.String(validate=validate.OneOf(KINDS))


class NotificationSchema(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": list(KINDS)})
    recipient = fields.String(required=True)
    subject = fields.String(required=True)
    body = fields.String(required=True)
    locale = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    attempts = fields.Integer(required=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    source_event_id = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    sent_at = fields.DateTime(allow_none=True)


NotificationPageSchema = page_schema("NotificationPageSchema", NotificationSchema)


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationListArgs, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, args):
        """The tenant's emails (sent from events and the daily digest, never in a request),
        oldest first, with status, attempts and the last error."""
        tenant = require_role("admin", "manager").tenant_id

        def run(session):
            query = emails.list_query(tenant, args.get("status"), args.get("kind"))
            items, cursor = page(session, query, Email.id, args["limit"], args["cursor"])
            return {"items": items, "next_cursor": cursor}

        return use_case.run(run, read=True)

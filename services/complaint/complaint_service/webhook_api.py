"""HTTP routes for webhooks (admin or manager): register, list, delete, the delivery log."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint, abort

from revisit_common.identity import require_role
from revisit_common.paging import PageArgs, page
from revisit_common.runtime import runtime

from . import webhooks
from .models import Delivery, Webhook
from .schemas import (
    DeliveryListArgs,
    DeliveryPageSchema,
    WebhookInSchema,
    WebhookPageSchema,
    WebhookSchema,
)

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/v1/webhooks",
    description="Webhooks: complaint and issue events POSTed to departments, signed",
)

MANAGERS = ("admin", "manager")


def _tenant() -> str:
    return require_role(*MANAGERS).tenant_id


def _run(fn, *, read: bool = False):
    rt = runtime()
    try:
        with rt.db.read() if read else rt.db.transaction() as session:
            return fn(session)
    except webhooks.WebhookNotFound as exc:
        abort(404, message=f"{exc} not found")


@blp.route("")
class Webhooks(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, WebhookPageSchema)
    def get(self, args):
        """The active webhooks of the tenant (secrets are never shown)."""
        tenant = _tenant()

        def run(session):
            query = webhooks.list_query(tenant)
            items, cursor = page(session, query, Webhook.id, args["limit"], args["cursor"])
            return {"items": items, "next_cursor": cursor}

        return _run(run, read=True)

    @blp.arguments(WebhookInSchema)
    @blp.response(201, WebhookSchema)
    def post(self, data):
        """Register a webhook: matching events are POSTed to ``url``, signed with ``secret``
        (header ``X-Revisit-Signature: sha256=<hex HMAC-SHA256 of the body>``)."""
        identity = require_role(*MANAGERS)
        return _run(lambda s: webhooks.create_webhook(s, identity.tenant_id, identity.actor, data))


@blp.route("/<webhook_id>")
class WebhookItem(MethodView):
    @blp.response(200, WebhookSchema)
    def get(self, webhook_id):
        tenant = _tenant()
        return _run(lambda s: webhooks.get_webhook(s, tenant, webhook_id), read=True)

    @blp.response(204)
    def delete(self, webhook_id):
        """Stop deliveries to the webhook (pending ones are cancelled; the log is kept)."""
        tenant = _tenant()
        _run(lambda s: webhooks.delete_webhook(s, tenant, webhook_id))


@blp.route("/<webhook_id>/deliveries")
class WebhookDeliveries(MethodView):
    @blp.arguments(DeliveryListArgs, location="query")
    @blp.response(200, DeliveryPageSchema)
    def get(self, args, webhook_id):
        """The delivery log: each event sent to the webhook, with every attempt."""
        tenant = _tenant()

        def run(session):
            webhook = webhooks.get_webhook(session, tenant, webhook_id)
            query = webhooks.deliveries_query(webhook, args.get("status"))
            items, cursor = page(session, query, Delivery.id, args["limit"], args["cursor"])
            return {"items": items, "next_cursor": cursor}

        return _run(run, read=True)

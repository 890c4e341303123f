"""HTTP routes of the notify service, webhooks (admin or manager): register, list, delete,
the delivery log.

A URL is checked before anything is written (``address_policy``, with the operator switch
``REVISIT_WEBHOOK_ALLOW_PRIVATE``): a host that is or resolves to a non-public address →
422 on ``url``. A name that does not resolve now is accepted: every delivery resolves and
checks it again. The resolver is the system's, or ``app.config["WEBHOOK_RESOLVER"]``.
"""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from revisit_common import use_case
from revisit_common.identity import require_role
from revisit_common.paging import PageArgs, page
from revisit_common.problems import invalid
from revisit_common.runtime import runtime

from . import address_policy, webhooks
from .delivery import resolve_host
from .models import Delivery, Webhook
from .schemas import (
    DeliveryListArgs,
    DeliveryPageSchema,
    WebhookCreatedSchema,
    WebhookInSchema,
    WebhookPageSchema,
    WebhookSchema,
)

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/v1/webhooks",
    description="Webhooks: events POSTed to departments and integrations, signed",
)

MANAGERS = ("admin", "manager")


def _tenant() -> str:
    return require_role(*MANAGERS).tenant_id


def _check_url(url: str) -> None:
    """422 on ``url`` unless it may be a webhook's (before any transaction: DNS is slow)."""
    resolve = current_app.config.get("WEBHOOK_RESOLVER") or resolve_host
    try:
        address_policy.check(url, resolve, allow_private=runtime().options.webhook_allow_private)
    except address_policy.Unresolved:
        return
    except address_policy.Refused as exc:
        invalid({"url": [str(exc)]}, "the webhook URL is not allowed")


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

        return use_case.run(run, read=True)

    @blp.arguments(WebhookInSchema)
    @blp.response(201, WebhookCreatedSchema)
    def post(self, data):
        """Register a webhook: matching events are POSTed to ``url``, signed with ``secret``
        (Standard Webhooks headers ``webhook-id``, ``webhook-timestamp``,
        ``webhook-signature``, and ``X-Revisit-Signature: sha256=<hex HMAC-SHA256 of the
        body>``). Without ``secret`` one is generated and returned here, once."""
        identity = require_role(*MANAGERS)
        _check_url(data["url"])
        limit = runtime().options.webhooks_per_tenant

        def run(session):
            webhook, generated = webhooks.create_webhook(
                session, identity.tenant_id, identity.actor, data, limit=limit
            )
            shown = {name: getattr(webhook, name) for name in WebhookSchema().fields}
            return {**shown, "secret": generated} if generated else shown

        return use_case.run(run)


@blp.route("/<webhook_id>")
class WebhookItem(MethodView):
    @blp.response(200, WebhookSchema)
    def get(self, webhook_id):
        tenant = _tenant()
        return use_case.run(lambda s: webhooks.get_webhook(s, tenant, webhook_id), read=True)

    @blp.response(204)
    def delete(self, webhook_id):
        """Stop deliveries to the webhook (pending ones are cancelled; the log is kept)."""
        tenant = _tenant()
        use_case.run(lambda s: webhooks.delete_webhook(s, tenant, webhook_id))


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

        return use_case.run(run, read=True)

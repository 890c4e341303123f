"""Request and response bodies of the webhook API (marshmallow 4; unknown fields → 422)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from revisit_common.paging import PageArgs, page_schema
from revisit_common.schema_parts import (
    department_field,
    nullable,
    optional_text_field,
    several,
    text_field,
)

from .webhooks import DEPARTMENT_PATTERN, invalid_entries, masked_url, secret_problem


class WebhookInSchema(Schema):
    url = fields.URL(
        required=True,
        schemes={"http", "https"},
        require_tld=False,
        validate=validate.Length(max=2000),
        metadata={
            "description": "http or https; its host must be, and resolve to, public addresses "
            "only (loopback, private, link-local, CGNAT, multicast and reserved ones → 422)"
        },
    )
    events = fields.List(
        text_field(100),
        required=True,
        validate=validate.Length(min=1, max=20),
        metadata={
            "description": "event types of the catalogue (ComplaintRaised, CustomerRegistered) "
            "or routing-key patterns (complaint.*, customer.*, *.*.product)"
        },
    )
    secret = fields.String(
        load_only=True,
        validate=validate.Length(min=16, max=256),
        metadata={
            "description": "the signing key; when omitted one is generated (whsec_ + base64) "
            "and returned once, in this response"
        },
    )
    department = department_field(DEPARTMENT_PATTERN, allow_none=True)
    description = optional_text_field(500)

    @validates_schema
    def _known_events(self, data, **_kw):
        bad = invalid_entries(data.get("events") or [])
        if bad:
            raise ValidationError(
                [f"not an event type or a routing-key pattern of one: {entry}" for entry in bad],
                "events",
            )

    @validates_schema
    def _usable_secret(self, data, **_kw):
        problem = secret_problem(data.get("secret") or "")
        if problem:
            raise ValidationError([problem], "secret")


class WebhookSchema(Schema):
    id = fields.String(required=True)
    url = fields.Method(
        "_masked_url",
        required=True,
        metadata={"type": "string", "description": "user name and password shown as ***"},
    )
    events = fields.List(fields.String(), required=True)
    department = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    active = fields.Boolean(required=True)
    created_by = fields.String()
    created_at = fields.DateTime(required=True)
    deleted_at = fields.DateTime(allow_none=True)

    def _masked_url(self, obj) -> str:
        return masked_url(obj["url"] if isinstance(obj, dict) else obj.url)


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(
        metadata={"description": "the generated secret, shown only here (absent when given)"}
    )


WebhookPageSchema = page_schema("WebhookPageSchema", WebhookSchema)


class DeliveryListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(("pending", "delivered", "failed", "cancelled")))


class AttemptSchema(Schema):
    at = fields.DateTime()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliverySchema(Schema):
    id, event_id, event_type, routing_key, status = several(fields.String, 5)
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime(allow_none=True)
    last_status, last_error = nullable(fields.Integer, fields.String)
    created_at = fields.DateTime()
    delivered_at = fields.DateTime(allow_none=True)
    attempt_log = fields.List(fields.Nested(AttemptSchema))


DeliveryPageSchema = page_schema("DeliveryPageSchema", DeliverySchema)

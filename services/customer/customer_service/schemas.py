"""Request and response bodies of the customer API (marshmallow 4; unknown fields → 422)."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from revisit_common.paging import page_schema
from revisit_common.schema_parts import several, text_field

from .domain import CREDIT_RATINGS, CUSTOMER_TYPES

MONEY = {"places": 2, "as_string": False}
EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC)
AMOUNT_MAX = 10**15
QUANTITY_MAX = 1_000_000
ATTENDEES_MAX = 1000
# Amounts are read as JSON numbers (or numeric strings) and written as strings with two
# decimals ("1200.00"), which keeps them exact; the OpenAPI document says so.
MONEY_OUT = {
    "places": 2,
    "as_string": True,
    "metadata": {"type": "string", "format": "decimal", "examples": ["1200.00"]},
}


def _moment(**kw) -> fields.AwareDateTime:
    """A time with its offset, within years any record can have (a far-off year, such as
    0001 with +14:00, cannot even be converted to UTC)."""
    return fields.AwareDateTime(validate=validate.Range(min=EARLIEST, max=LATEST), **kw)


def _money(**kw) -> fields.Decimal:
    return fields.Decimal(
        validate=validate.Range(min=0, max=AMOUNT_MAX),
        allow_nan=False,
        # numbers in the document (apispec would write the bounds as Decimal strings)
        metadata={"minimum": 0, "maximum": AMOUNT_MAX},
        **MONEY,
        **kw,
    )


class ContactSchema(Schema):
    name = text_field(100, required=True)
    title = fields.String(validate=validate.Length(max=100), allow_none=True)
    phone = fields.String(validate=validate.Length(max=50), allow_none=True)
    email = fields.Email(validate=validate.Length(max=254), allow_none=True)
    decision_maker = fields.Boolean(load_default=False)
    birthday = fields.Date(allow_none=True)
    anniversary = fields.Date(allow_none=True)


class CustomerInSchema(Schema):
    name = text_field(200, required=True)
    type = fields.String(required=True, validate=validate.OneOf(CUSTOMER_TYPES))
    region = text_field(100, required=True)
    annual_purchase_amount = _money(required=True)
    cooperation_start = fields.Date(required=True)
    owner = fields.String(validate=validate.Length(max=100), allow_none=True)
    address = fields.String(validate=validate.Length(max=500), allow_none=True)
    legal_representative = fields.String(validate=validate.Length(max=100), allow_none=True)
    business_scope = fields.String(validate=validate.Length(max=1000), allow_none=True)
    purchase_frequency = fields.String(validate=validate.Length(max=50), allow_none=True)
    overdue_days = fields.Integer(strict=True, validate=validate.Range(min=0, max=100000))
    legal_dispute = fields.Boolean()
    credit_rating = fields.String(validate=validate.OneOf(CREDIT_RATINGS))
    contacts = fields.List(
        fields.Nested(ContactSchema), validate=validate.Length(max=50), load_default=list
    )
    external_id = fields.String(
        validate=validate.Length(min=1, max=100),
        allow_none=True,
        metadata={"description": "the customer's id in your own system (imports match on it)"},
    )

    @validates_schema
    def _start_not_future(self, data, **_kw):
        from datetime import date, timedelta

        start = data.get("cooperation_start")
        if start is not None and start > date.today() + timedelta(days=1):
            raise ValidationError("must not be in the future", "cooperation_start")


class CustomerPatchSchema(CustomerInSchema):
    """Every field optional; fields given replace the stored ones (loaded with partial)."""

    def __init__(self, **kwargs):
        super().__init__(partial=True, **kwargs)


class ContactOutSchema(ContactSchema):
    id = fields.String()


class CustomerOutSchema(Schema):
    id, name, type, region = several(fields.String, 4)
    external_id = fields.String(allow_none=True)
    owner, address = several(fields.String, 2, allow_none=True)
    legal_representative, business_scope = several(fields.String, 2, allow_none=True)
    annual_purchase_amount = fields.Decimal(**MONEY_OUT)
    purchase_frequency = fields.String(allow_none=True)
    cooperation_start = fields.Date()
    overdue_days = fields.Integer()
    legal_dispute = fields.Boolean()
    credit_rating = fields.String()
    contacts = fields.List(fields.Nested(ContactOutSchema))
    size_tier, cooperation_tier = several(fields.String, 2)
    score = fields.Float()
    grade, risk_level = several(fields.String, 2)
    risk_reasons = fields.List(fields.String())
    created_at, updated_at = several(fields.DateTime, 2)


class CustomerListArgs(Schema):
    type = fields.String(validate=validate.OneOf(CUSTOMER_TYPES))
    grade = fields.String(validate=validate.OneOf(("A", "B", "C")))
    region = fields.String(validate=validate.Length(max=100))
    risk_level = fields.String(validate=validate.OneOf(("low", "medium", "high")))
    owner = fields.String(validate=validate.Length(max=100))
    q = fields.String(validate=validate.Length(min=1, max=100))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))


CustomerPageSchema = page_schema("CustomerPageSchema", CustomerOutSchema)


class PurchaseInSchema(Schema):
    amount = _money(required=True)
    product = text_field(200, required=True)
    purchased_at = _moment(required=True)
    quantity = fields.Integer(
        strict=True, load_default=1, validate=validate.Range(min=1, max=QUANTITY_MAX)
    )


class PurchaseOutSchema(Schema):
    id = fields.String()
    customer_id = fields.String()
    amount = fields.Decimal(**MONEY_OUT)
    product = fields.String()
    quantity = fields.Integer()
    purchased_at = fields.DateTime()
    created_at = fields.DateTime()


PurchasePageSchema = page_schema("PurchasePageSchema", PurchaseOutSchema)


class RepairInSchema(Schema):
    product = text_field(200, required=True)
    description = text_field(2000, required=True)
    opened_at = _moment()
    # A repair recorded after the fact: closed at once (not before it opened).
    closed_at = _moment()
    result = fields.String(validate=validate.Length(max=2000), allow_none=True)


class RepairCloseSchema(Schema):
    result = fields.String(validate=validate.Length(max=2000), allow_none=True)
    closed_at = _moment()


class RepairOutSchema(Schema):
    id, customer_id, product, description = several(fields.String, 4)
    opened_at = fields.DateTime()
    closed_at = fields.DateTime(allow_none=True)
    result = fields.String(allow_none=True)


# The longest RFC 3339 time worth reading: 2026-11-20T15:00:00.123456+08:00 is 32.
MOMENT_CHARS = 40


class MomentOrDate(fields.Field):
    """An instant with its offset (RFC 3339), or a plain date (``YYYY-MM-DD``, which the use
    case reads as the start of that day in the tenant's time zone)."""

    def __init__(self, **kw):
        metadata = {
            "type": "string",
            "description": "RFC 3339 date-time with offset, or a date (YYYY-MM-DD)",
            "examples": ["2026-11-20T15:00:00+08:00", "2026-11-20"],
            "maxLength": MOMENT_CHARS,
        }
        super().__init__(metadata=metadata, **kw)
        self._moment = _moment()
        self._date = fields.Date(validate=validate.Range(min=EARLIEST.date(), max=LATEST.date()))

    def _deserialize(self, value, attr, data, **kw):
        if isinstance(value, str) and len(value) > MOMENT_CHARS:
            raise ValidationError(f"at most {MOMENT_CHARS} characters")
        if isinstance(value, str) and len(value) == 10:
            return self._date.deserialize(value, attr, data)
        return self._moment.deserialize(value, attr, data)


class ProjectInSchema(Schema):
    name = text_field(200, required=True)
    completed_at = MomentOrDate(required=True)


class ProjectOutSchema(Schema):
    id, customer_id, name = several(fields.String, 3)
    completed_at, created_at = several(fields.DateTime, 2)


ProjectPageSchema = page_schema("ProjectPageSchema", ProjectOutSchema)


class MarketingEventInSchema(Schema):
    name = text_field(200, required=True)
    held_on = fields.Date(required=True)
    attendees = fields.List(
        text_field(64),
        required=True,
        validate=validate.Length(min=1, max=ATTENDEES_MAX),
        metadata={"description": "ids of the tenant's customers who attended, each once"},
    )

    @validates_schema
    def _attendees_once(self, data, **_kw):
        attendees = data.get("attendees") or []
        if len(set(attendees)) != len(attendees):
            raise ValidationError("each customer may attend only once", "attendees")


class MarketingEventOutSchema(Schema):
    id, name = several(fields.String, 2)
    held_on = fields.Date()
    attendees = fields.List(fields.String())
    created_at = fields.DateTime()


MarketingEventPageSchema = page_schema("MarketingEventPageSchema", MarketingEventOutSchema)

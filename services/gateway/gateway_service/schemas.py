"""Request and response bodies of the gateway's own API (marshmallow 4).

Unknown fields are rejected (422 with per-field errors) and every string, list and object
is size-bounded. Validators raise :class:`ValidationError` (marshmallow 4 ignores a
validator that merely returns False).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from revisit_common.calendar import DEFAULT_TIMEZONE
from revisit_common.identity import ROLES
from revisit_common.paging import PageArgs, page_schema
from revisit_common.schema_parts import department_field, several, text_field

from .people import LOCALES, ME, STAFF_ID_PATTERN
from .settings_document import SECTIONS

# Departments travel in HTTP headers and in routing keys (complaint.raised.<department>):
# lower-case ASCII words only, no dots.
DEPARTMENT_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"


def _timezone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValidationError("not a known IANA time zone, e.g. Asia/Shanghai") from exc


class TenantInSchema(Schema):
    name = text_field(200, required=True)
    timezone = fields.String(
        load_default=DEFAULT_TIMEZONE, validate=[validate.Length(min=1, max=64), _timezone]
    )
    region = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))


class TenantSchema(Schema):
    id, name, timezone = several(fields.String, 3)
    region = fields.String(allow_none=True)
    created_at = fields.DateTime()


class TenantCreatedSchema(TenantSchema):
    admin_key = fields.String(metadata={"description": "the first admin key, shown only here"})


def staff_id_field(**options) -> fields.String:
    """A staff id: lower-case letters, digits, '.', '_' or '-', 1..64 (``me`` is none)."""
    return fields.String(
        validate=[
            validate.Regexp(
                STAFF_ID_PATTERN, error="lower-case letters, digits, '.', '_' or '-', up to 64"
            ),
            validate.Length(min=1, max=64),
            validate.NoneOf((ME,), error="'me' means the calling person, not a staff id"),
        ],
        **options,
    )


class ApiKeyInSchema(Schema):
    name = text_field(200, required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    department = department_field(DEPARTMENT_PATTERN, load_default=None, allow_none=True)
    staff = staff_id_field(
        load_default=None,
        allow_none=True,
        metadata={"description": "the person the key acts as (a staff id of the tenant)"},
    )

    @validates_schema
    def _department_matches_role(self, data, **_kw):
        if data.get("role") == "department" and not data.get("department"):
            raise ValidationError("required for a department key", "department")
        if data.get("role") not in (None, "department") and data.get("department"):
            raise ValidationError("only department keys have a department", "department")


class ApiKeySchema(Schema):
    id = fields.String()
    name = fields.String()
    role = fields.String()
    department = fields.String(allow_none=True)
    staff = fields.String(
        allow_none=True, metadata={"description": "the person the key acts as; null: nobody"}
    )
    key_prefix = fields.String(metadata={"description": "the key's first characters"})
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class ApiKeyCreatedSchema(ApiKeySchema):
    key = fields.String(metadata={"description": "the API key, shown only here"})


ApiKeyPageSchema = page_schema("ApiKeyPageSchema", ApiKeySchema)


# --------------------------------------------------------------------------- staff


class _StaffFields(Schema):
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=validate.Length(max=50))
    region = fields.String(allow_none=True, validate=validate.Length(min=1, max=100))
    department = department_field(DEPARTMENT_PATTERN, allow_none=True)
    manager = staff_id_field(allow_none=True, metadata={"description": "their manager's staff id"})
    locale = fields.String(
        allow_none=True,
        validate=validate.OneOf(LOCALES),
        metadata={"description": "the console's language they chose (null: the tenant's)"},
    )


class StaffInSchema(_StaffFields):
    id = staff_id_field(required=True, metadata={"description": "e.g. wang.fang"})
    name = text_field(200, required=True)
    role = fields.String(
        load_default="agent",
        validate=validate.OneOf(ROLES),
        metadata={"description": "what they may do in the console (as an API key's role)"},
    )


class StaffPatchSchema(_StaffFields):
    name = text_field(200)
    role = fields.String(validate=validate.OneOf(ROLES))
    active = fields.Boolean(metadata={"description": "false: the person left"})


class StaffListArgs(PageArgs):
    active = fields.Boolean()
    department = department_field(DEPARTMENT_PATTERN)
    manager = staff_id_field()
    region = fields.String(validate=validate.Length(min=1, max=100))


class StaffSchema(Schema):
    id, name = several(fields.String, 2)
    email, phone, region, department, manager = several(fields.String, 5, allow_none=True)
    active = fields.Boolean()
    role = fields.String(metadata={"description": "what they may do in the console"})
    locale = fields.String(allow_none=True)
    created_at, updated_at = several(fields.DateTime, 2)


class StaffPasswordSchema(Schema):
    password = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "10 to 200 characters, not the staff id"},
    )
    current_password = fields.String(
        validate=validate.Length(max=1000),
        metadata={"description": "required when people set their own and have one"},
    )


StaffPageSchema = page_schema("StaffPageSchema", StaffSchema)


# --------------------------------------------------------------------------- my agenda


def _listed(what: str) -> fields.List:
    return fields.List(fields.Dict(), metadata={"description": what})


class AgendaSchema(Schema):
    staff = fields.String(metadata={"description": "the calling person's staff id"})
    date = fields.Date(metadata={"description": "today in the tenant's time zone"})
    visits_due_today = _listed("planned visits assigned to me, due today (as GET /visits)")
    visits_overdue = _listed("planned visits assigned to me, past due (as GET /visits)")
    complaints_due_soon = _listed(
        "running complaints assigned to me with a limit due within 24 hours or already past,"
        " earliest next deadline first (as GET /complaints)"
    )
    issues_open = _listed(
        "open issues assigned to me or with a stage of mine not done (as GET /issues)"
    )


# --------------------------------------------------------------------------- settings

MAX_DEPTH = 4
MAX_ITEMS = 1000
MAX_STRING = 200


def _bounded_json(value, depth: int = 0) -> None:
    """Bound a free-form section: nesting, list/object sizes and string lengths."""
    if depth > MAX_DEPTH:
        raise ValidationError(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict | list):
        if len(value) > MAX_ITEMS:
            raise ValidationError(f"more than {MAX_ITEMS} entries")
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and len(key) > MAX_STRING:
                raise ValidationError(f"a key is longer than {MAX_STRING} characters")
            _bounded_json(item, depth + 1)
    elif isinstance(value, str) and len(value) > MAX_STRING:
        raise ValidationError(f"a value is longer than {MAX_STRING} characters")


def bounded_json_schema(depth: int) -> dict:
    """What :func:`_bounded_json` accepts at ``depth``, as JSON Schema: any value, strings
    and lists and objects bounded, nested at most :data:`MAX_DEPTH` levels."""
    schema: dict = {"maxLength": MAX_STRING, "maxItems": MAX_ITEMS, "maxProperties": MAX_ITEMS}
    if depth >= MAX_DEPTH:
        schema.update(maxItems=0, maxProperties=0)
    else:
        schema["items"] = schema["additionalProperties"] = bounded_json_schema(depth + 1)
    return schema


def _section_field() -> fields.Dict:
    return fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=100)),
        values=fields.Raw(allow_none=True, metadata=bounded_json_schema(1)),
        allow_none=True,
        validate=_bounded_json,
        metadata={
            "description": "keys to change; null returns a key (or the section) to its default",
            "maxProperties": MAX_ITEMS,
        },
    )


# One field per registered section, so an unknown section is an unknown field (422).
SettingsPatchSchema = Schema.from_dict(
    {name: _section_field() for name in SECTIONS}, name="SettingsPatchSchema"
)


class SettingsSchema(Schema):
    version = fields.Integer(metadata={"description": "1 at registration, +1 per change"})
    updated_at = fields.DateTime()
    timezone = fields.String()
    settings = fields.Dict(
        metadata={"description": "the effective document: every section, defaults filled in"}
    )


# --------------------------------------------------------------------------- audit log


# A far-off year (0001 with +14:00) cannot even be converted to UTC: bound the filters.
MOMENTS = validate.Range(min=datetime(1970, 1, 1, tzinfo=UTC), max=datetime(2200, 1, 1, tzinfo=UTC))


class AuditLogArgs(PageArgs):
    from_ = fields.AwareDateTime(
        data_key="from",
        attribute="from",
        validate=MOMENTS,
        metadata={"description": "entries at or after"},
    )
    to = fields.AwareDateTime(validate=MOMENTS, metadata={"description": "entries at or before"})
    actor = fields.String(
        validate=validate.Length(min=1, max=64),
        metadata={
            "description": "an API key's id, the staff id of the person a key acts as,"
            " or 'platform'"
        },
    )
    method = fields.String(validate=validate.OneOf(("DELETE", "PATCH", "POST", "PUT")))

    @validates_schema
    def _range(self, data, **_kw):
        if data.get("from") and data.get("to") and data["from"] > data["to"]:
            raise ValidationError("must not be before from", "to")


class AuditEntrySchema(Schema):
    id = fields.String()
    at = fields.DateTime()
    actor = fields.String(
        metadata={
            "description": "the API key's id, the staff id of the person it acts as, or 'platform'"
        }
    )
    role = fields.String()
    method = fields.String()
    path = fields.String()
    status = fields.Integer()
    request_id = fields.String(allow_none=True)


AuditPageSchema = page_schema("AuditPageSchema", AuditEntrySchema)

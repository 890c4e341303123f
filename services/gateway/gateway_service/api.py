"""HTTP routes the gateway serves itself: tenants, API keys, staff, settings, the audit log
(and my agenda: agenda.py).

Authentication and the role table are applied before these run (``auth.py``); a route
validates its input, calls one function of ``service.py`` in a transaction
(``revisit_common.use_case.run``), and renders.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from revisit_common import use_case
from revisit_common.identity import current
from revisit_common.paging import PageArgs
from revisit_common.runtime import runtime

from . import agenda, audit, auth, credentials, service, settings_owners
from .schemas import (
    ApiKeyCreatedSchema,
    ApiKeyInSchema,
    ApiKeyPageSchema,
    AuditLogArgs,
    AuditPageSchema,
    SettingsPatchSchema,
    SettingsSchema,
    StaffInSchema,
    StaffListArgs,
    StaffPageSchema,
    StaffPasswordSchema,
    StaffPatchSchema,
    StaffSchema,
    TenantCreatedSchema,
    TenantInSchema,
    TenantSchema,
)

tenants_blp = Blueprint(
    "tenants", __name__, url_prefix="/api/v1/tenants", description="Tenants (platform)"
)
keys_blp = Blueprint("api_keys", __name__, url_prefix="/api/v1/api-keys", description="API keys")
settings_blp = Blueprint(
    "settings", __name__, url_prefix="/api/v1/settings", description="Tenant settings"
)
audit_blp = Blueprint(
    "audit_log",
    __name__,
    url_prefix="/api/v1/audit-log",
    description="Audit log of writes (tenant admins)",
)
staff_blp = Blueprint(
    "staff",
    __name__,
    url_prefix="/api/v1/staff",
    description="The tenant's people (admins and managers change them)",
)
BLUEPRINTS = (tenants_blp, keys_blp, staff_blp, settings_blp, audit_blp, agenda.blp)


def _columns(row) -> dict:
    """A mapped row as a dict of its column values (for responses with an extra field)."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


# --------------------------------------------------------------------------- tenants


@tenants_blp.route("")
class Tenants(MethodView):
    @tenants_blp.arguments(TenantInSchema)
    @tenants_blp.response(201, TenantCreatedSchema)
    @tenants_blp.doc(
        description="Needs the platform operator's token (REVISIT_ADMIN_TOKEN) as the bearer."
    )
    def post(self, data):
        """Register a tenant with its first admin key and default settings."""
        auth.require_platform_token()
        rt = runtime()

        def run(session):
            tenant, key = service.register_tenant(
                session,
                rt.outbox,
                check=settings_owners.current(),
                request_id=g.get("request_id"),
                **data,
            )
            return {**_columns(tenant), "admin_key": key}

        return use_case.run(run)


@tenants_blp.route("/current")
class CurrentTenant(MethodView):
    @tenants_blp.response(200, TenantSchema)
    def get(self):
        """The tenant of the calling key."""
        tenant_id = current().tenant_id
        return use_case.run(lambda s: service.get_tenant(s, tenant_id))


# --------------------------------------------------------------------------- API keys


@keys_blp.route("")
class ApiKeys(MethodView):
    @keys_blp.arguments(ApiKeyInSchema)
    @keys_blp.response(201, ApiKeyCreatedSchema)
    def post(self, data):
        """Create a key; the key itself is in this response only."""
        tenant_id = current().tenant_id

        def run(session):
            row, key = service.create_key(session, tenant_id, **data)
            return {**_columns(row), "key": key}

        return use_case.run(run)

    @keys_blp.arguments(PageArgs, location="query")
    @keys_blp.response(200, ApiKeyPageSchema)
    def get(self, args):
        """The tenant's keys (revoked ones too), oldest first; never the keys themselves."""
        tenant_id = current().tenant_id

        def run(session):
            items, cursor = service.list_keys(session, tenant_id, args["limit"], args["cursor"])
            return {"items": items, "next_cursor": cursor}

        return use_case.run(run)


@keys_blp.route("/<key_id>")
class ApiKeyItem(MethodView):
    @keys_blp.response(204)
    def delete(self, key_id):
        """Revoke a key: requests with it get 401 from now on."""
        tenant_id = current().tenant_id
        use_case.run(lambda s: service.revoke_key(s, tenant_id, key_id))


# --------------------------------------------------------------------------- staff


@staff_blp.route("")
class StaffList(MethodView):
    @staff_blp.arguments(StaffInSchema)
    @staff_blp.response(201, StaffSchema)
    def post(self, data):
        """Add a person; a staff id already taken → 409, an unknown manager or a loop of
        managers → 422. Publishes StaffChanged."""
        tenant_id = current().tenant_id
        rt = runtime()
        return use_case.run(
            lambda s: service.create_staff(
                s,
                rt.outbox,
                tenant_id,
                data,
                at=rt.clock(),
                request_id=g.get("request_id"),
                caller_role=current().role,
            )
        )

    @staff_blp.arguments(StaffListArgs, location="query", unknown=RAISE)
    @staff_blp.response(200, StaffPageSchema)
    def get(self, args):
        """The tenant's people (those who left too, unless ``active``), by staff id."""
        tenant_id = current().tenant_id

        def run(session):
            items, cursor = service.list_staff(session, tenant_id, args)
            return {"items": items, "next_cursor": cursor}

        return use_case.run(run, read=True)


@staff_blp.route("/<staff_id>")
class StaffItem(MethodView):
    @staff_blp.response(200, StaffSchema)
    def get(self, staff_id):
        """A person of the tenant."""
        tenant_id = current().tenant_id
        return use_case.run(lambda s: service.get_staff(s, tenant_id, staff_id), read=True)

    @staff_blp.arguments(StaffPatchSchema)
    @staff_blp.response(200, StaffSchema)
    def patch(self, data, staff_id):
        """Change some of a person's fields; ``{"active": false}`` when they leave (keys that
        act as them get 401 from then on). Publishes StaffChanged."""
        tenant_id = current().tenant_id
        rt = runtime()
        return use_case.run(
            lambda s: service.change_staff(
                s,
                rt.outbox,
                tenant_id,
                staff_id,
                data,
                at=rt.clock(),
                request_id=g.get("request_id"),
                caller_role=current().role,
            )
        )


@staff_blp.route("/<staff_id>/password", methods=["POST"])
@staff_blp.arguments(StaffPasswordSchema)
@staff_blp.response(204)
def set_staff_password(data, staff_id):
    """Set a person's console password (10 to 200 characters, hashed with scrypt): the
    tenant's admin, or the person, who also gives ``current_password`` when they have one
    (403 for anyone else, 422 when it does not match). Ends the person's console sessions."""
    identity = current()
    rt = runtime()
    use_case.run(
        lambda s: credentials.set_password(
            s,
            identity,
            staff_id,
            data["password"],
            data.get("current_password"),
            at=rt.clock(),
            cost=rt.options.password_cost,
        )
    )
    return None


@settings_blp.route("")
class Settings(MethodView):
    @settings_blp.response(200, SettingsSchema)
    def get(self):
        """The effective settings document (defaults filled in) and its version."""
        tenant_id = current().tenant_id
        owners = settings_owners.current()
        return use_case.run(lambda s: service.read_settings(s, tenant_id, owners))

    @settings_blp.arguments(SettingsPatchSchema)
    @settings_blp.response(200, SettingsSchema)
    def patch(self, data):
        """Change some settings; other sections and keys keep their values."""
        tenant_id = current().tenant_id
        rt = runtime()
        owners = settings_owners.current()
        return use_case.run(
            lambda s: service.change_settings(
                s, rt.outbox, tenant_id, data, owners, request_id=g.get("request_id")
            )
        )


# --------------------------------------------------------------------------- audit log


@audit_blp.route("")
class AuditLog(MethodView):
    @audit_blp.arguments(AuditLogArgs, location="query", unknown=RAISE)
    @audit_blp.response(200, AuditPageSchema)
    def get(self, args):
        """Every write of the tenant through the API (who, when, what, status, request id),
        oldest first; never bodies or keys."""
        tenant_id = current().tenant_id

        def run(session):
            items, cursor = audit.list_entries(
                session,
                tenant_id,
                start=args.get("from"),
                end=args.get("to"),
                actor=args.get("actor"),
                method=args.get("method"),
                limit=args["limit"],
                cursor=args["cursor"],
            )
            return {"items": items, "next_cursor": cursor}

        return use_case.run(run)

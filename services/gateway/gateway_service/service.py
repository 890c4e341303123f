"""The gateway's use cases: one function each, run inside the caller's transaction.

Each takes a SQLAlchemy session (and the outbox when it publishes), so a state change and
the events it causes commit together. Errors are revisit_common's :class:`NotFound` and
:class:`Conflict` (and settings_document's SettingsError); the web app turns them into
problems.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common.db import utcnow
from revisit_common.errors import Conflict, Forbidden, Invalid, NotFound
from revisit_common.events import StaffChanged, TenantRegistered, TenantSettingsChanged
from revisit_common.messaging.outbox import Outbox
from revisit_common.paging import page

from . import domain, people, settings_document
from .models import ApiKey, Staff, Tenant, TenantSettings
from .settings_document import SectionCheck


class SettingsView(NamedTuple):
    """A tenant's effective settings document as the gateway serves it."""

    version: int
    updated_at: datetime
    timezone: str
    settings: dict[str, Any]


# --------------------------------------------------------------------------- tenants


def register_tenant(
    session: Session,
    outbox: Outbox,
    *,
    name: str,
    timezone: str,
    region: str | None,
    check: SectionCheck,
    request_id: str | None = None,
) -> tuple[Tenant, str]:
    """Create a tenant, its first admin key and default settings; publish TenantRegistered.

    The owners of the settings sections give the default document (``check``) before
    anything is written. Returns the tenant and the admin key (the only time it exists in
    clear).
    """
    overrides = settings_document.initial_overrides(timezone)
    document = settings_document.effective_settings(overrides, check)
    tenant = Tenant(name=name, timezone=timezone, region=region, created_at=utcnow())
    session.add(tenant)
    session.flush()
    _, key = _add_key(session, tenant.id, name="admin", role="admin", department=None)
    session.add(
        TenantSettings(tenant_id=tenant.id, version=1, document=overrides, effective=document)
    )
    session.flush()
    outbox.add(
        session,
        TenantRegistered(
            tenant_id=tenant.id,
            name=tenant.name,
            timezone=settings_document.settings_timezone(document),
            region=region,
            settings=document,
            settings_version=1,
        ),
        tenant_id=tenant.id,
        correlation_id=request_id,
    )
    return tenant, key


def get_tenant(session: Session, tenant_id: str) -> Tenant:
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFound("tenant")
    return tenant


# --------------------------------------------------------------------------- API keys


def _add_key(
    session: Session,
    tenant_id: str,
    *,
    name: str,
    role: str,
    department: str | None,
    staff: str | None = None,
) -> tuple[ApiKey, str]:
    key = domain.generate_key()
    row = ApiKey(
        tenant_id=tenant_id,
        name=name,
        role=role,
        department=department,
        staff=staff,
        key_hash=domain.hash_key(key),
        key_prefix=domain.display_prefix(key),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row, key


def create_key(
    session: Session,
    tenant_id: str,
    *,
    name: str,
    role: str,
    department: str | None,
    staff: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key for the tenant, acting as the person ``staff`` when given (an active person
    of the tenant, else Invalid); returns the row and the key (shown once)."""
    if staff is not None:
        person = session.get(Staff, (tenant_id, staff))
        if person is None or not person.active:
            raise Invalid({"staff": ["no such active person in the tenant (POST /staff)"]})
    return _add_key(session, tenant_id, name=name, role=role, department=department, staff=staff)


def list_keys(session: Session, tenant_id: str, limit: int, cursor: str | None):
    query = sa.select(ApiKey).where(ApiKey.tenant_id == tenant_id)
    return page(session, query, ApiKey.id, limit, cursor)


def revoke_key(session: Session, tenant_id: str, key_id: str) -> ApiKey:
    """Revoke a key at once (idempotent). The tenant's last active admin key stays."""
    row = session.execute(
        sa.select(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.tenant_id == tenant_id)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("api key")
    if row.revoked_at is not None:
        return row
    if row.role == "admin":
        others = session.execute(
            sa.select(sa.func.count())
            .select_from(ApiKey)
            .where(
                ApiKey.tenant_id == tenant_id,
                ApiKey.role == "admin",
                ApiKey.revoked_at.is_(None),
                ApiKey.id != row.id,
            )
        ).scalar_one()
        if others == 0:
            raise Conflict("this is the tenant's last admin key; create another admin key first")
    row.revoked_at = utcnow()
    return row


def authenticate(session: Session, key: str) -> ApiKey | None:
    """The active key matching ``key``, or None (unknown, revoked or malformed)."""
    if not key or len(key) > domain.MAX_KEY_LENGTH:
        return None
    row = session.execute(
        sa.select(ApiKey).where(ApiKey.key_hash == domain.hash_key(key))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return None
    if not domain.key_matches(key, row.key_hash):
        return None
    return row


# --------------------------------------------------------------------------- settings


def _effective(row: TenantSettings, check: SectionCheck) -> dict[str, Any]:
    """The row's effective document: as stored, or composed by the owners (older rows)."""
    return settings_document.effective_settings(row.document or {}, check, row.effective)


def _view(row: TenantSettings, document: dict[str, Any]) -> SettingsView:
    timezone = settings_document.settings_timezone(document)
    return SettingsView(row.version, row.updated_at, timezone, document)


def read_settings(session: Session, tenant_id: str, check: SectionCheck) -> SettingsView:
    row = session.get(TenantSettings, tenant_id)
    if row is None:
        raise NotFound("settings")
    return _view(row, _effective(row, check))


def change_settings(
    session: Session,
    outbox: Outbox,
    tenant_id: str,
    patch: dict[str, Any],
    check: SectionCheck,
    request_id: str | None = None,
) -> SettingsView:
    """Apply a partial change, each section checked by its owner (``check``); when the
    document changes, bump the version and publish TenantSettingsChanged with the whole
    effective document. Raises SettingsError; an owner that cannot be asked raises
    ``Unavailable`` and nothing is written."""
    row = session.execute(
        sa.select(TenantSettings).where(TenantSettings.tenant_id == tenant_id).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("settings")
    stored = row.document or {}
    before = _effective(row, check)
    patched = settings_document.apply_patch(stored, patch, check)
    if patched.overrides == stored:
        return _view(row, before)
    document = settings_document.effective_settings(
        patched.overrides, check, {**before, **patched.effective}
    )
    row.document = patched.overrides
    row.effective = document
    if document == before:
        # only which values are pinned changed (e.g. a default set explicitly): the
        # document everyone sees is the same, so no new version and no event
        return _view(row, document)
    row.version += 1
    row.updated_at = utcnow()
    timezone = settings_document.settings_timezone(document)
    tenant = get_tenant(session, tenant_id)
    tenant.timezone = timezone
    session.flush()
    outbox.add(
        session,
        TenantSettingsChanged(
            tenant_id=tenant_id,
            timezone=timezone,
            settings=document,
            settings_version=row.version,
        ),
        tenant_id=tenant_id,
        correlation_id=request_id,
    )
    return SettingsView(row.version, row.updated_at, timezone, document)


# --------------------------------------------------------------------------- staff

STAFF_FIELDS = (
    "name",
    "email",
    "phone",
    "region",
    "department",
    "manager",
    "active",
    "role",
    "locale",
)


def _check_role(caller_role: str, role: str, previous: str | None, department: str | None):
    """people.may_set_role, and a department for the department role."""
    if role != previous and not people.may_set_role(caller_role, role, previous):
        raise Forbidden("only an admin makes someone an admin or changes an admin's role")
    if role == "department" and not department:
        raise Invalid({"department": ["required for the department role"]})


def _lock_tenant(session: Session, tenant_id: str) -> None:
    """Serialise changes to the tenant's people (ids and the manager tree) on PostgreSQL;
    SQLite's write transactions are serial already."""
    session.execute(sa.select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())


def _managers(session: Session, tenant_id: str) -> dict[str, str | None]:
    rows = session.execute(
        sa.select(Staff.id, Staff.manager).where(Staff.tenant_id == tenant_id)
    ).all()
    return {staff_id: manager for staff_id, manager in rows}


def _check_manager(session: Session, tenant_id: str, staff_id: str, manager: str | None) -> None:
    """A manager must be a person of the tenant, and not close a loop (people.manager_cycle)."""
    if manager is None:
        return
    managers = _managers(session, tenant_id)
    if manager not in managers and manager != staff_id:
        raise Invalid({"manager": ["no such person in the tenant"]})
    if people.manager_cycle(staff_id, manager, managers):
        raise Invalid({"manager": ["would make a loop of managers"]})


def _staff_changed(session: Session, outbox: Outbox, person: Staff, request_id: str | None):
    outbox.add(
        session,
        StaffChanged(
            staff_id=person.id,
            name=person.name,
            email=person.email,
            phone=person.phone,
            region=person.region,
            department=person.department,
            manager=person.manager,
            active=person.active,
            changed_at=person.updated_at.isoformat(),
        ),
        tenant_id=person.tenant_id,
        correlation_id=request_id,
    )


def create_staff(
    session: Session,
    outbox: Outbox,
    tenant_id: str,
    data: dict[str, Any],
    *,
    at: datetime,
    request_id: str | None = None,
    caller_role: str = "admin",
) -> Staff:
    """Add a person (``data``: id, name and the optional fields); their id taken → Conflict,
    an unknown manager or a loop of managers → Invalid, an admin made by a non-admin →
    Forbidden. Publishes StaffChanged."""
    data = {"role": "agent", **data}
    _check_role(caller_role, data["role"], None, data.get("department"))
    _lock_tenant(session, tenant_id)
    staff_id = data["id"]
    if session.get(Staff, (tenant_id, staff_id)) is not None:
        raise Conflict(f"the staff id {staff_id!r} is taken in this tenant")
    _check_manager(session, tenant_id, staff_id, data.get("manager"))
    person = Staff(
        tenant_id=tenant_id,
        id=staff_id,
        active=True,
        created_at=at,
        updated_at=at,
        **{key: data.get(key) for key in STAFF_FIELDS if key != "active"},
    )
    session.add(person)
    session.flush()
    _staff_changed(session, outbox, person, request_id)
    return person


def get_staff(
    session: Session, tenant_id: str, staff_id: str, *, for_update: bool = False
) -> Staff:
    """A person of the tenant (NotFound for an id that is not one, of any shape)."""
    person = (
        session.get(Staff, (tenant_id, staff_id), with_for_update=for_update or None)
        if people.is_staff_id(staff_id)
        else None
    )
    if person is None:
        raise NotFound("staff")
    return person


def list_staff(session: Session, tenant_id: str, args: dict[str, Any]):
    """The tenant's people in id order, filtered by ``active``, ``department``, ``manager``."""
    query = sa.select(Staff).where(Staff.tenant_id == tenant_id)
    for key in ("active", "department", "manager", "region"):
        if args.get(key) is not None:
            query = query.where(getattr(Staff, key) == args[key])
    return page(session, query, Staff.id, args["limit"], args["cursor"])


def change_staff(
    session: Session,
    outbox: Outbox,
    tenant_id: str,
    staff_id: str,
    patch: dict[str, Any],
    *,
    at: datetime,
    request_id: str | None = None,
    caller_role: str = "admin",
) -> Staff:
    """Change some of a person's fields (``active`` false: they left; a role as
    :func:`create_staff` allows); publishes StaffChanged when anything changed."""
    if "manager" in patch:
        _lock_tenant(session, tenant_id)
    person = get_staff(session, tenant_id, staff_id, for_update=True)
    changes = {key: value for key, value in patch.items() if getattr(person, key) != value}
    if not changes:
        return person
    if "role" in changes or "department" in changes:
        department = changes.get("department", person.department)
        _check_role(caller_role, changes.get("role", person.role), person.role, department)
    if "manager" in changes:
        _check_manager(session, tenant_id, person.id, changes["manager"])
    for key, value in changes.items():
        setattr(person, key, value)
    person.updated_at = at
    session.flush()
    _staff_changed(session, outbox, person, request_id)
    return person

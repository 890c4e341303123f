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
from revisit_common.errors import Conflict, NotFound
from revisit_common.events import TenantRegistered, TenantSettingsChanged
from revisit_common.messaging.outbox import Outbox
from revisit_common.paging import page

from . import domain, settings_document
from .models import ApiKey, Tenant, TenantSettings
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
    session: Session, tenant_id: str, *, name: str, role: str, department: str | None
) -> tuple[ApiKey, str]:
    key = domain.generate_key()
    row = ApiKey(
        tenant_id=tenant_id,
        name=name,
        role=role,
        department=department,
        key_hash=domain.hash_key(key),
        key_prefix=domain.display_prefix(key),
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row, key


def create_key(
    session: Session, tenant_id: str, *, name: str, role: str, department: str | None
) -> tuple[ApiKey, str]:
    """A new key for the tenant; returns the row and the key (shown once)."""
    return _add_key(session, tenant_id, name=name, role=role, department=department)


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

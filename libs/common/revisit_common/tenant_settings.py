"""Each service's own copy of its tenants' settings, fed by the gateway's events.

The gateway owns the settings document (``GET/PATCH /api/v1/settings``) and publishes
TenantRegistered / TenantSettingsChanged with the whole document and a version; every
service that needs a policy number keeps the newest version here. A tenant with no copy
yet gets the defaults, which are DOMAIN.md's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .envelope import Envelope

DEFAULT_TIMEZONE = "Asia/Shanghai"

_meta = sa.MetaData()
settings_table = sa.Table(
    "tenant_settings",
    _meta,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("version", sa.Integer),
    sa.Column("timezone", sa.String(64)),
    sa.Column("document", sa.JSON),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)


@dataclass(frozen=True)
class TenantSettings:
    tenant_id: str
    version: int = 0
    timezone: str = DEFAULT_TIMEZONE
    document: dict = field(default_factory=dict)

    def section(self, name: str) -> dict:
        value = self.document.get(name)
        return dict(value) if isinstance(value, dict) else {}


def load(session: Session, tenant_id: str) -> TenantSettings:
    row = session.execute(
        sa.select(settings_table).where(settings_table.c.tenant_id == tenant_id)
    ).first()
    if row is None:
        return TenantSettings(tenant_id)
    return TenantSettings(tenant_id, row.version, row.timezone, dict(row.document or {}))


def store(session: Session, tenant_id: str, version: int, timezone: str, document: dict) -> bool:
    """Keep ``document`` if it is newer than the copy held; True when it replaced it."""
    current = load(session, tenant_id)
    if current.version >= version:
        return False  # an older or repeated version arriving late changes nothing
    values = {
        "version": version,
        "timezone": timezone,
        "document": document,
        "updated_at": datetime.now(UTC),
    }
    if current.version == 0:
        session.execute(settings_table.insert().values(tenant_id=tenant_id, **values))
    else:
        session.execute(
            settings_table.update().where(settings_table.c.tenant_id == tenant_id).values(**values)
        )
    return True


def apply_settings_event(session: Session, envelope: Envelope) -> bool:
    """Handler body for TenantRegistered and TenantSettingsChanged."""
    data = envelope.data
    return store(
        session,
        envelope.tenantid,
        int(data["settings_version"]),
        str(data.get("timezone") or DEFAULT_TIMEZONE),
        dict(data.get("settings") or {}),
    )

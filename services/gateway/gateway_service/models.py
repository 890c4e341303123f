"""The gateway's tables: tenants, their API keys (hashed), their people (staff), their
settings document, and the audit log of writes.

The schema itself is made by the Alembic migrations in ``migrations/versions``; these
classes map the same tables for queries.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from revisit_common.columns import DEPARTMENT, REGION, tenant_index
from revisit_common.db import UtcDateTime, utcnow
from revisit_common.ids import new_id

STAFF_ID = sa.String(64)


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(200))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Shanghai")
    region: Mapped[str | None] = mapped_column(REGION)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (tenant_index("api_keys"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("tenants.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(20))
    department: Mapped[str | None] = mapped_column(DEPARTMENT)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The staff id of the person the key acts as (None: a key of nobody).
    staff: Mapped[str | None] = mapped_column(STAFF_ID)


class Staff(Base):
    """A person of the tenant (CONTRACT §4.3), named by a staff id of the tenant's choosing
    (``wang.fang``, unique in the tenant); ``active`` false once they left."""

    __tablename__ = "staff"

    tenant_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("tenants.id"), primary_key=True
    )
    id: Mapped[str] = mapped_column(STAFF_ID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(50))
    region: Mapped[str | None] = mapped_column(REGION)
    department: Mapped[str | None] = mapped_column(DEPARTMENT)
    manager: Mapped[str | None] = mapped_column(STAFF_ID)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    # What they may do in the console (the role table, as for an API key's role).
    role: Mapped[str] = mapped_column(sa.String(20), default="agent")
    # The console's language they chose (None: the tenant's).
    locale: Mapped[str | None] = mapped_column(sa.String(16))


class StaffCredential(Base):
    """A person's console password (scrypt, passwords.py) and their failed sign-ins since
    the last success; ``locked_until`` set after too many."""

    __tablename__ = "staff_credentials"
    __table_args__ = (
        sa.ForeignKeyConstraint(["tenant_id", "staff_id"], ["staff.tenant_id", "staff.id"]),
    )

    tenant_id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    staff_id: Mapped[str] = mapped_column(STAFF_ID, primary_key=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(300))
    failed_sign_ins: Mapped[int] = mapped_column(sa.Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ConsoleSession(Base):
    """A signed-in console session: ``id`` is the SHA-256 of the secret in the person's
    cookie (the secret itself is kept nowhere), ``csrf_token`` the token its forms carry."""

    __tablename__ = "console_sessions"
    __table_args__ = (sa.Index("ix_console_sessions_person", "tenant_id", "staff_id"),)

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(36))
    staff_id: Mapped[str] = mapped_column(STAFF_ID)
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TenantSettings(Base):
    """A tenant's settings overrides (``document``) and the effective document the owning
    services composed from them (``effective``; NULL for rows older than it, composed on
    read); ``version`` counts changes (1 at registration)."""

    __tablename__ = "settings"

    tenant_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("tenants.id"), primary_key=True
    )
    version: Mapped[int] = mapped_column(sa.Integer)
    document: Mapped[dict] = mapped_column(sa.JSON)
    effective: Mapped[dict | None] = mapped_column(sa.JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditEntry(Base):
    """One write through the gateway: who (the key's id, or the staff id of the person it
    acts as; and its role), when, what (method, path),
    the answer's status and the request id. Never a body, a query string or a key."""

    __tablename__ = "audit_log"
    __table_args__ = (tenant_index("audit_log"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(sa.String(36))
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(sa.String(64))
    role: Mapped[str] = mapped_column(sa.String(20))
    method: Mapped[str] = mapped_column(sa.String(10))
    path: Mapped[str] = mapped_column(sa.String(500))
    status: Mapped[int] = mapped_column(sa.Integer)
    request_id: Mapped[str | None] = mapped_column(sa.String(128))

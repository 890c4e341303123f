"""Console sessions: who is signed in, kept in the gateway's database.

A session is a row of ``console_sessions`` named by the SHA-256 of a 256-bit secret; the
secret travels only in the person's cookie, signed (itsdangerous, with a key derived from
the platform token: :func:`cookie_key`), HttpOnly and SameSite. Each request of a signed-in
person reads the row with the person, their tenant and its settings in one statement
(:func:`find`): a person who left, a session past its end or one ended by sign-out (or by a
password change) signs nobody in, at once. Each session has its own CSRF token, which every
form carries back.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer

from revisit_common.db import Database
from revisit_common.identity import Identity

from ..models import ConsoleSession, Staff, Tenant, TenantSettings

COOKIE = "revisit_console"
DEFAULT_LOCALE = "zh-CN"

_SESSIONS = ConsoleSession.__table__
_STAFF = Staff.__table__
_TENANTS = Tenant.__table__
_SETTINGS = TenantSettings.__table__
FIND = (
    sa.select(
        _SESSIONS.c.tenant_id,
        _SESSIONS.c.staff_id,
        _SESSIONS.c.csrf_token,
        _SESSIONS.c.expires_at,
        _STAFF.c.name,
        _STAFF.c.role,
        _STAFF.c.department,
        _STAFF.c.locale,
        _TENANTS.c.name,
        _TENANTS.c.timezone,
        _SETTINGS.c.version,
        _SETTINGS.c.effective,
        _SETTINGS.c.document,
    )
    .select_from(
        _SESSIONS.join(
            _STAFF,
            sa.and_(
                _STAFF.c.tenant_id == _SESSIONS.c.tenant_id, _STAFF.c.id == _SESSIONS.c.staff_id
            ),
        )
        .join(_TENANTS, _TENANTS.c.id == _SESSIONS.c.tenant_id)
        .outerjoin(_SETTINGS, _SETTINGS.c.tenant_id == _SESSIONS.c.tenant_id)
    )
    .where(_SESSIONS.c.id == sa.bindparam("id"), _STAFF.c.active.is_(True))
)


@dataclass(frozen=True)
class SignedIn:
    """The person of a console session, and what the pages need of their tenant."""

    tenant_id: str
    staff_id: str
    name: str
    role: str
    department: str | None
    csrf_token: str
    locale: str  # the person's choice, else the tenant's
    tenant_name: str
    timezone: str
    settings_version: int | None

    def identity(self) -> Identity:
        """Who the console's API calls are made as: the person, with their role."""
        return Identity(
            tenant_id=self.tenant_id,
            role=self.role,
            actor=f"console:{self.staff_id}",
            department=self.department,
            settings_version=self.settings_version,
            staff=self.staff_id,
        )


def cookie_key(platform_token: str | None, internal_token: str | None) -> bytes:
    """The key that signs console cookies, derived from the platform token (every gateway
    process of a deployment has it; a new token ends every session)."""
    base = (platform_token or internal_token or "").encode("utf-8")
    if not base:
        raise RuntimeError("the console needs REVISIT_ADMIN_TOKEN to sign its cookies")
    return hmac.new(base, b"revisit console cookies", hashlib.sha256).digest()


class Cookies:
    """Signing and reading the session cookie's value."""

    def __init__(self, key: bytes):
        self._serializer = URLSafeSerializer(key, salt="revisit-console-session")

    def sign(self, secret: str) -> str:
        return self._serializer.dumps(secret)

    def secret_of(self, value: str | None) -> str | None:
        """The session secret a cookie value carries (None: absent, forged or altered)."""
        if not value or len(value) > 200:
            return None
        try:
            secret = self._serializer.loads(value)
        except BadSignature:
            return None
        return secret if isinstance(secret, str) else None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def tenant_locale(effective: Any, document: Any) -> str:
    """The tenant's language: its notifications locale (settings), zh-CN by default."""
    for source in (effective, document):
        if isinstance(source, dict):
            section = source.get("notifications")
            if isinstance(section, dict) and isinstance(section.get("locale"), str):
                return section["locale"]
    return DEFAULT_LOCALE


def find(db: Database, secret: str | None, now: datetime) -> SignedIn | None:
    """The person signed in by the session ``secret`` at ``now`` (None: no such session,
    ended, or the person left)."""
    if not secret:
        return None
    row = next(iter(db.fetch(FIND, {"id": _digest(secret)})), None)
    if row is None:
        return None
    (tenant_id, staff_id, csrf, expires_at, name, role, department, locale) = row[:8]
    tenant_name, timezone, version, effective, document = row[8:]
    if expires_at <= now:
        return None
    return SignedIn(
        tenant_id=tenant_id,
        staff_id=staff_id,
        name=name,
        role=role,
        department=department,
        csrf_token=csrf,
        locale=locale or tenant_locale(effective, document),
        tenant_name=tenant_name,
        timezone=timezone,
        settings_version=version,
    )


def open_session(session, tenant_id: str, staff_id: str, now: datetime, hours: int) -> str:
    """A new session for the person (their sessions past their end are removed); its
    secret, for the cookie."""
    session.execute(
        sa.delete(ConsoleSession).where(
            ConsoleSession.tenant_id == tenant_id,
            ConsoleSession.staff_id == staff_id,
            ConsoleSession.expires_at <= now,
        )
    )
    secret = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            id=_digest(secret),
            tenant_id=tenant_id,
            staff_id=staff_id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return secret


def close_session(session, secret: str) -> None:
    """End the session ``secret`` (sign-out)."""
    session.execute(sa.delete(ConsoleSession).where(ConsoleSession.id == _digest(secret)))


def choose_locale(session, tenant_id: str, staff_id: str, locale: str) -> None:
    """The person's own choice of the console's language."""
    session.execute(
        sa.update(Staff)
        .where(Staff.tenant_id == tenant_id, Staff.id == staff_id)
        .values(locale=locale)
    )

"""Who is calling: the tenant, role and department the gateway vouches for.

Services trust these headers only when the request also carries the internal token shared
with the gateway (``REVISIT_INTERNAL_TOKEN``); the gateway strips them from client requests.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from flask import g, request
from flask_smorest import abort

TOKEN_HEADER = "X-Revisit-Internal-Token"
TENANT_HEADER = "X-Revisit-Tenant"
ROLE_HEADER = "X-Revisit-Role"
DEPARTMENT_HEADER = "X-Revisit-Department"
ACTOR_HEADER = "X-Revisit-Actor"
# The staff id of the person the API key acts as (CONTRACT §4.3), absent for a key of nobody.
STAFF_HEADER = "X-Revisit-Staff"
# The tenant's current settings version at the gateway (settings_catch_up.py).
SETTINGS_VERSION_HEADER = "X-Revisit-Settings-Version"
IDENTITY_HEADERS = (
    TOKEN_HEADER,
    TENANT_HEADER,
    ROLE_HEADER,
    DEPARTMENT_HEADER,
    ACTOR_HEADER,
    STAFF_HEADER,
)

ROLES = ("admin", "manager", "agent", "auditor", "viewer", "department")


@dataclass(frozen=True)
class Identity:
    tenant_id: str
    role: str
    actor: str
    department: str | None = None
    settings_version: int | None = None
    staff: str | None = None  # the person the key acts as

    def headers(self, internal_token: str) -> dict[str, str]:
        headers = {
            TOKEN_HEADER: internal_token,
            TENANT_HEADER: self.tenant_id,
            ROLE_HEADER: self.role,
            ACTOR_HEADER: self.actor,
        }
        if self.department:
            headers[DEPARTMENT_HEADER] = self.department
        if self.staff:
            headers[STAFF_HEADER] = self.staff
        if self.settings_version is not None:
            headers[SETTINGS_VERSION_HEADER] = str(self.settings_version)
        return headers


def _environ_key(header: str) -> str:
    """Where WSGI keeps a request header: ``X-Revisit-Tenant`` → ``HTTP_X_REVISIT_TENANT``."""
    return "HTTP_" + header.upper().replace("-", "_")


# Read straight from the WSGI environ (what request.headers.get does, without its lookups
# per call: these run on every request of every service).
_TOKEN, _TENANT, _ROLE, _DEPARTMENT, _ACTOR, _STAFF, _SETTINGS_VERSION = map(
    _environ_key, (*IDENTITY_HEADERS, SETTINGS_VERSION_HEADER)
)


def gateway_token_ok(internal_token: str | None) -> bool:
    """Whether the request carries the internal token shared with the gateway."""
    return _token_ok(request.environ, internal_token)


def _token_ok(environ: dict, internal_token: str | None) -> bool:
    sent = environ.get(_TOKEN, "")
    if not internal_token or not sent:
        return False
    return hmac.compare_digest(sent.encode(), internal_token.encode())


def load_identity(internal_token: str | None) -> Identity | None:
    """Read the identity of a request that came through the gateway (None otherwise)."""
    return identity_of(request.environ, internal_token)


def identity_of(environ: dict, internal_token: str | None) -> Identity | None:
    """:func:`load_identity` of the request whose WSGI environ is ``environ``."""
    if not _token_ok(environ, internal_token):
        return None
    sent = (
        environ.get(_TENANT, ""),
        environ.get(_ROLE, ""),
        environ.get(_ACTOR, ""),
        environ.get(_DEPARTMENT),
        environ.get(_SETTINGS_VERSION, ""),
        environ.get(_STAFF),
    )
    known = _seen.get(sent)
    if known is None:
        known = _identity(*sent)
        if len(_seen) >= _SEEN_MAX:
            _seen.clear()
        _seen[sent] = known
    return known or None


# The identities made from the headers last sent (the same few callers send them again
# and again): building a frozen dataclass costs more than the rest of the reading. An
# Identity is immutable, so one serves every request that sends the same headers; a
# refusal is kept as False. Bounded: emptied when full.
_seen: dict[tuple, Identity | bool] = {}
_SEEN_MAX = 4096


def _identity(tenant, role, actor, department, version, staff) -> Identity | bool:
    if not tenant or role not in ROLES:
        return False
    return Identity(
        tenant_id=tenant,
        role=role,
        actor=actor or role,
        department=department or None,
        settings_version=_version(version),
        staff=staff or None,
    )


def _version(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else None


def current() -> Identity:
    identity = g.get("identity")
    if identity is None:
        abort(401, message="not authenticated")
    return identity


def require_role(*roles: str) -> Identity:
    identity = current()
    if identity.role not in roles:
        abort(403, message=f"role {identity.role!r} may not do this")
    return identity

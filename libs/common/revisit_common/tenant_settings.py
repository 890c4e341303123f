"""Each service's own copy of its tenants' settings, fed by the gateway's events.

The gateway owns the settings document (``GET/PATCH /api/v1/settings``) and publishes
TenantRegistered / TenantSettingsChanged with the whole document and a version; every
service that needs a policy number keeps the newest version here. A tenant with no copy
yet gets the defaults, which are DOMAIN.md's.

A request through the gateway says the tenant's current settings version
(``Identity.settings_version``): when the copy last read by this process (per database) is
that version, :func:`load` returns it without a query. Without the header, or at another
version, the copy is read once per transaction (:mod:`.transaction_memo`): the consumer's
batch of events of one tenant reads it once, not once per event; and when the stored
version is the one last read, only the version is read (the copy held, and what was built
from it, serve again).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from . import db, transaction_memo
from .calendar import DEFAULT_TIMEZONE
from .messaging.envelope import Envelope

T = TypeVar("T")

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
    # What was built from this copy (:meth:`derived`), kept as long as the copy is.
    _derived: dict = field(default_factory=dict, compare=False, repr=False)

    def section(self, name: str) -> dict:
        value = self.document.get(name)
        return dict(value) if isinstance(value, dict) else {}

    def derived(self, name: str, build: Callable[[TenantSettings], T]) -> T:
        """``build(self)``, once per copy: a service's policy read from these settings (an
        immutable value) is parsed again only when :func:`load` reads a new copy."""
        if name not in self._derived:
            self._derived[name] = build(self)
        return self._derived[name]


# Per connection pool (one per database; a read-only engine shares its parent's): tenant ->
# the copy this process read last.
_read: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_read_lock = threading.Lock()
_MEMO = "tenant_settings"  # transaction_memo: tenant -> the copy read in this transaction
_MINE = settings_table.c.tenant_id == sa.bindparam("tenant_id")
_COPY = sa.select(
    settings_table.c.version, settings_table.c.timezone, settings_table.c.document
).where(_MINE)
_VERSION = sa.select(settings_table.c.version).where(_MINE)


def load(session: Session, tenant_id: str) -> TenantSettings:
    read = _read_copies(session)
    held = read.get(tenant_id)
    if held is not None and held.version == _vouched_version(tenant_id):
        return held
    memo = transaction_memo.memo(session, _MEMO)
    settings = memo.get(tenant_id)
    if settings is None:
        settings = memo[tenant_id] = _read_copy(session, tenant_id, held)
    return settings


def _read_copy(session: Session, tenant_id: str, held: TenantSettings | None) -> TenantSettings:
    """The stored copy; ``held`` (what was built from it kept) when it is still that
    version: a version is never stored twice, so its document is the one held."""
    mine = {"tenant_id": tenant_id}
    if held is not None:
        stored = db.run(session, _VERSION, mine)
        if stored and stored[0][0] == held.version:
            return held
    rows = db.run(session, _COPY, mine)
    if not rows:
        return TenantSettings(tenant_id)
    version, timezone, document = rows[0]
    settings = TenantSettings(tenant_id, version, timezone, dict(document or {}))
    _read_copies(session)[tenant_id] = settings
    return settings


def _read_copies(session: Session) -> dict[str, TenantSettings]:
    pool = session.get_bind().engine.pool
    copies = _read.get(pool)
    if copies is None:  # (the pool's first: made under the lock, so only once)
        with _read_lock:
            copies = _read.setdefault(pool, {})
    return copies


def _vouched_version(tenant_id: str) -> int | None:
    """The tenant's settings version the gateway sent with this request, if any."""
    identity = g.get("identity") if has_request_context() else None
    if identity is None or identity.tenant_id != tenant_id:
        return None
    return identity.settings_version


def store(session: Session, tenant_id: str, version: int, timezone: str, document: dict) -> bool:
    """Keep ``document`` if it is newer than the copy held; True when it replaced it.

    One upsert, so two writers of the same tenant's copy at once (the settings event and a
    request catching up with the gateway) cannot collide: an older or repeated version
    arriving late changes nothing."""
    values = {
        "tenant_id": tenant_id,
        "version": version,
        "timezone": timezone,
        "document": document,
        "updated_at": datetime.now(UTC),
    }
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(settings_table)
    statement = insert.values(**values).on_conflict_do_update(
        index_elements=[settings_table.c.tenant_id],
        set_={name: insert.excluded[name] for name in values if name != "tenant_id"},
        where=settings_table.c.version < insert.excluded.version,
    )
    result = session.execute(statement, execution_options={"preserve_rowcount": True})
    _read_copies(session).pop(tenant_id, None)
    transaction_memo.forget(session, _MEMO, tenant_id)
    return result.rowcount == 1


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


def keep_copy(session: Session, envelope: Envelope, ctx: object) -> None:
    """The handler of TenantRegistered and TenantSettingsChanged for a service that only
    keeps the copy (new work reads it; nothing already done changes)."""
    apply_settings_event(session, envelope)

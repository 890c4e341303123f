"""The gateway's store in its tests: the gateway runtime (SQLite or a PostgreSQL schema)
and a tenant registered with its admin key."""

from __future__ import annotations

from pathlib import Path

from gateway_service import service
from gateway_service.bootstrap import SPEC
from gateway_service.models import Staff
from gateway_service.settings_owners import SettingsOwners
from revisit_common.messaging.outbox import Outbox
from revisit_common.runtime import ServiceRuntime

from . import pg_templates, sqlite_templates
from .settings import make_settings
from .settings_owners import owner_transports

TOKENS = {"admin_token": "platform", "internal_token": "internal"}


def sqlite_runtime(data_dir: Path) -> ServiceRuntime:
    """The gateway's runtime on SQLite files in ``data_dir``; the caller closes it."""
    settings = make_settings(data_dir=data_dir, **TOKENS)
    sqlite_templates.seed(settings, [SPEC])  # a copy of the migrated database
    return ServiceRuntime(SPEC, settings)


def postgres_runtime(postgres_url: str, postgres_schemas: str) -> ServiceRuntime:
    """The gateway's runtime on a schema of the test session; the caller closes it."""
    settings = make_settings(database_url=postgres_url, db_schema_prefix=postgres_schemas, **TOKENS)
    pg_templates.seed(settings, [SPEC])  # a replay of the recorded migration
    return ServiceRuntime(SPEC, settings)


def register_tenant(runtime: ServiceRuntime) -> tuple[str, str]:
    """A new tenant "Acme" (UTC): its id and its admin key."""
    with runtime.db.transaction() as session:
        tenant, key = service.register_tenant(
            session,
            Outbox("local", "gateway"),
            name="Acme",
            timezone="UTC",
            region=None,
            check=SettingsOwners(owner_transports("internal"), "internal"),
        )
        return tenant.id, key


def staff_key(runtime: ServiceRuntime, tenant_id: str, department: str | None) -> tuple[str, str]:
    """A person of the tenant, wang.fang, and an agent's key acting as them: the key's id and
    the key."""
    with runtime.db.transaction() as session:
        session.add(Staff(tenant_id=tenant_id, id="wang.fang", name="Wang Fang", active=True))
        session.flush()
        row, key = service.create_key(
            session, tenant_id, name="w", role="agent", department=department, staff="wang.fang"
        )
        return row.id, key

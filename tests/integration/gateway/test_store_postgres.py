"""The gateway's per-request queries on a real PostgreSQL (``gateway_service/store.py``):
revocation seen at once, entries visible at once, a broken connection costing no request,
an unreachable database raised as SQLAlchemy's OperationalError (a 503)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from gateway_service import service
from gateway_service.models import AuditEntry
from gateway_service.store import Store
from tests.support.gateway_store import postgres_runtime, register_tenant, staff_key


@pytest.fixture
def runtime(postgres_url, postgres_schemas):
    runtime = postgres_runtime(postgres_url, postgres_schemas)
    yield runtime
    runtime.close()


def _entry(tenant_id: str, **extra) -> dict:
    return {
        "tenant_id": tenant_id,
        "at": datetime.now(UTC),
        "actor": "k1",
        "role": "admin",
        "method": "POST",
        "path": "/api/v1/customers",
        "status": 201,
        "request_id": "r1",
        **extra,
    }


def test_keys_are_found_and_revocation_is_seen_at_once(runtime):
    store = Store(runtime.db)
    tenant_id, _ = register_tenant(runtime)
    with runtime.db.transaction() as session:
        _, key = service.create_key(session, tenant_id, name="v", role="viewer", department=None)
    found = store.find_key(key)
    assert found is not None and found.tenant_id == tenant_id and found.role == "viewer"
    assert store.find_key(key + "x") is None
    assert store.find_key("") is None and store.find_key("k" * 1000) is None
    with runtime.db.transaction() as session:
        service.revoke_key(session, tenant_id, found.actor)
    assert store.find_key(key) is None
    store.close()


def test_entries_are_committed_at_once_without_waiting_for_the_flush(runtime):
    store = Store(runtime.db)
    tenant_id, _ = register_tenant(runtime)
    store.add_entry(_entry(tenant_id))
    with runtime.db.read() as session:
        rows = session.scalars(sa.select(AuditEntry)).all()
    assert [(r.tenant_id, r.status, r.request_id) for r in rows] == [(tenant_id, 201, "r1")]
    assert rows[0].at.tzinfo is not None
    conn = store._pg._local.conn
    assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "off"
    store.close()
    durable = Store(runtime.db, synchronous_commit="on")
    durable.add_entry(_entry(tenant_id))
    assert durable._pg._local.conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"
    durable.close()


def test_a_bad_synchronous_commit_setting_stops_the_start(runtime):
    with pytest.raises(ValueError, match="REVISIT_AUDIT_SYNCHRONOUS_COMMIT"):
        Store(runtime.db, synchronous_commit="sometimes")


def test_a_connection_closed_by_the_server_costs_no_request(runtime):
    store = Store(runtime.db)
    tenant_id, key = register_tenant(runtime)
    assert store.find_key(key) is not None
    pid = store._pg._local.conn.info.backend_pid
    with runtime.db.engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    assert store.find_key(key) is not None  # on a fresh connection
    assert store._pg._local.conn.info.backend_pid != pid
    store.add_entry(_entry(tenant_id))
    store.close()


def test_an_unreachable_database_is_an_operational_error(runtime, monkeypatch):
    store = Store(runtime.db)
    url = sa.make_url(store._pg.conninfo).set(port=1)
    monkeypatch.setattr(store._pg, "conninfo", url.render_as_string(hide_password=False))
    with pytest.raises(OperationalError):
        store.find_key("rvk_anything")
    with pytest.raises(OperationalError):
        store.add_entry(_entry("t1"))


def test_the_lookup_gives_typed_values_and_refuses_a_person_who_left(runtime):
    from gateway_service.models import Staff

    store = Store(runtime.db)
    tenant_id, admin_key = register_tenant(runtime)
    _, key = staff_key(runtime, tenant_id, None)
    for _ in range(2):  # the same answer when the connection is reused
        found = store.find_key(key)
        assert found is not None and found.staff == "wang.fang" and found.role == "agent"
        assert found.settings_version == 1 and isinstance(found.settings_version, int)
        admin = store.find_key(admin_key)
        assert admin is not None and admin.staff is None and admin.department is None
    with runtime.db.transaction() as session:
        session.execute(sa.update(Staff).where(Staff.id == "wang.fang").values(active=False))
    assert store.find_key(key) is None  # at once
    assert store.find_key(admin_key) is not None
    store.close()


def test_a_failing_statement_is_a_database_error_not_unreachable(runtime):
    from sqlalchemy.exc import DBAPIError

    from gateway_service.models import TenantSettings

    store = Store(runtime.db)
    _, key = register_tenant(runtime)
    table = TenantSettings.__table__.name  # in this test's own schema
    with runtime.db.engine.begin() as conn:
        conn.execute(sa.text(f'DROP TABLE "{table}" CASCADE'))
    with pytest.raises(DBAPIError) as raised:
        store.find_key(key)  # the table is gone: an error of the statement
    assert not isinstance(raised.value, OperationalError)
    assert table in str(raised.value)
    store.close()

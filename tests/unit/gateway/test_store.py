"""The gateway's per-request queries on SQLite (standalone mode, ``gateway_service/store.py``):
the lookup gives typed values, sees revocations and departures at once and never waits for
a writer; an entry is stored with the values given, committed at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from gateway_service import service
from gateway_service.models import AuditEntry, Staff
from gateway_service.store import Store
from revisit_common.identity import Identity
from tests.support.gateway_store import register_tenant, sqlite_runtime, staff_key

EAST = timezone(timedelta(hours=8))


@pytest.fixture
def runtime(tmp_path):
    runtime = sqlite_runtime(tmp_path)
    yield runtime
    runtime.close()


def test_the_lookup_gives_typed_values_and_sees_changes_at_once(runtime):
    store = Store(runtime.db)
    tenant_id, admin_key = register_tenant(runtime)
    key_id, key = staff_key(runtime, tenant_id, "east")
    with runtime.db.transaction() as session:
        viewer, viewer_key = service.create_key(
            session, tenant_id, name="v", role="viewer", department=None
        )
        viewer_id = viewer.id
    for _ in range(2):  # the same answer from the statement compiled once
        found = store.find_key(key)
        assert found == Identity(
            tenant_id=tenant_id,
            role="agent",
            actor=key_id,
            department="east",
            settings_version=1,
            staff="wang.fang",
        )
        assert type(found.settings_version) is int
        admin = store.find_key(admin_key)
        assert (admin.role, admin.staff, admin.department) == ("admin", None, None)
    assert store.find_key(key + "x") is None
    assert store.find_key("") is None and store.find_key("k" * 1000) is None
    with runtime.db.transaction() as session:
        session.execute(sa.update(Staff).where(Staff.id == "wang.fang").values(active=False))
    assert store.find_key(key) is None  # the person left: at once
    assert store.find_key(viewer_key).actor == viewer_id
    with runtime.db.transaction() as session:
        service.revoke_key(session, tenant_id, viewer_id)
    assert store.find_key(viewer_key) is None  # revoked: at once
    assert store.find_key(admin_key).actor == admin.actor
    store.close()


def test_the_lookup_never_waits_for_a_writer(runtime):
    store = Store(runtime.db)
    tenant_id, key = register_tenant(runtime)
    found: list = []
    with runtime.db.transaction() as session:  # holds the file's writer queue
        session.execute(sa.update(Staff).values(active=False))
        looker = threading.Thread(target=lambda: found.append(store.find_key(key)))
        looker.start()
        looker.join(timeout=10)
        assert not looker.is_alive()
    assert [identity.tenant_id for identity in found] == [tenant_id]
    store.close()


def test_an_entry_is_stored_with_the_values_given(runtime):
    store = Store(runtime.db)
    tenant_id, _ = register_tenant(runtime)
    at = datetime(2026, 11, 20, 9, 30, 0, 123456, tzinfo=EAST)
    entry = {
        "tenant_id": tenant_id,
        "at": at,
        "actor": "k1",
        "role": "admin",
        "method": "POST",
        "path": "/api/v1/customers/é",
        "status": 201,
        "request_id": "r1",
    }
    store.add_entry(entry)
    store.add_entry({**entry, "id": "given-id", "status": 409})
    with runtime.db.read() as session:
        rows = session.scalars(sa.select(AuditEntry).order_by(AuditEntry.status)).all()
    assert [(r.tenant_id, r.actor, r.role, r.method, r.path, r.status) for r in rows] == [
        (tenant_id, "k1", "admin", "POST", "/api/v1/customers/é", 201),
        (tenant_id, "k1", "admin", "POST", "/api/v1/customers/é", 409),
    ]
    assert [r.at for r in rows] == [at, at] and rows[0].at.tzinfo == UTC
    assert len(rows[0].id) == 36 and rows[1].id == "given-id"
    with pytest.raises(sa.exc.IntegrityError):  # an id stored once only
        store.add_entry({**entry, "id": "given-id"})
    store.add_entry({**entry, "id": "after-the-error"})  # the writer queue was let go
    store.close()

"""REVISIT_KEY_CACHE on a real PostgreSQL (``gateway_service/key_cache.py``): a kept
identity spares the lookup's query; every change to keys, people or settings, made by
this process or by another connection (another gateway process), drops it; while the
listener is not connected nothing is kept."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway_service import domain, service
from gateway_service.key_cache import CHANNEL, KeyCache
from gateway_service.store import Store
from revisit_common.identity import Identity
from tests.support.gateway_store import postgres_runtime, register_tenant
from tests.support.polling import wait_until


@pytest.fixture
def runtime(postgres_url, postgres_schemas):
    runtime = postgres_runtime(postgres_url, postgres_schemas)
    yield runtime
    runtime.close()


@pytest.fixture
def store(runtime):
    store = Store(runtime.db, key_cache=True)
    wait_until(lambda: store.keys.generation() is not None, message="listener connected")
    yield store
    store.close()


class Queries:
    """Counts the statements ``store`` sends (its own per-thread connections)."""

    def __init__(self, store: Store, monkeypatch):
        self.count = 0
        run = store._pg.run

        def counted(*args, **kwargs):
            self.count += 1
            return run(*args, **kwargs)

        monkeypatch.setattr(store._pg, "run", counted)


def _kept(store: Store, key: str):
    """Look ``key`` up until its identity is kept (a change heard while a lookup runs, such
    as the key's own creation, lets it keep nothing): the kept identity."""
    digest = domain.hash_key(key)
    return wait_until(
        lambda: store.find_key(key) and store.keys.get(digest), message="identity kept"
    )


def _execute(runtime, sql: str, **params) -> None:
    """A change made by another connection, as another gateway process makes it."""
    with runtime.db.engine.begin() as conn:
        conn.execute(sa.text(sql), params)


def test_a_kept_identity_spares_the_query(runtime, store, monkeypatch):
    tenant_id, key = register_tenant(runtime)
    first = _kept(store, key)
    assert first.tenant_id == tenant_id and first.role == "admin"
    queries = Queries(store, monkeypatch)
    assert store.find_key(key) == first
    assert store.find_key(key) == first
    assert queries.count == 0
    assert store.find_key(key + "x") is None  # unknown keys are never kept
    assert store.find_key(key + "x") is None
    assert queries.count == 2


def test_a_revocation_by_another_process_drops_the_kept_identity(runtime, store):
    tenant_id, admin = register_tenant(runtime)
    with runtime.db.transaction() as session:
        viewer, key = service.create_key(
            session, tenant_id, name="v", role="viewer", department=None
        )
        viewer_id = viewer.id
    assert _kept(store, key).actor == viewer_id
    with runtime.db.transaction() as session:
        service.revoke_key(session, tenant_id, viewer_id)
    wait_until(lambda: store.find_key(key) is None, timeout=5, message="revocation heard")
    assert store.find_key(admin) is not None


def test_a_change_in_this_process_is_seen_at_once(runtime, store):
    tenant_id, admin = register_tenant(runtime)
    assert _kept(store, admin).role == "admin"
    _execute(runtime, "UPDATE api_keys SET role = 'viewer' WHERE tenant_id = :t", t=tenant_id)
    store.keys_changed()  # what the change's request does (auth.forget_changed_keys)
    assert store.find_key(admin).role == "viewer"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("UPDATE settings SET version = version + 1 WHERE tenant_id = :t", 2),
        ("UPDATE api_keys SET department = 'east' WHERE tenant_id = :t", "east"),
        ("DELETE FROM api_keys WHERE tenant_id = :t", None),
    ],
)
def test_every_table_the_lookup_reads_notifies(runtime, store, change, expected):
    tenant_id, admin = register_tenant(runtime)
    before = _kept(store, admin)
    assert before.settings_version == 1 and before.department is None

    def seen():
        found = store.find_key(admin)
        if expected is None:
            return found is None
        return expected in (found.settings_version, found.department)

    _execute(runtime, change, t=tenant_id)
    wait_until(seen, timeout=5, message="change heard")


def test_a_person_who_left_is_heard_of(runtime, store):
    tenant_id, _ = register_tenant(runtime)
    _execute(
        runtime,
        "INSERT INTO staff (tenant_id, id, name, active, created_at, updated_at) "
        "VALUES (:t, 'wang.fang', 'Wang Fang', true, now(), now())",
        t=tenant_id,
    )
    with runtime.db.transaction() as session:
        _, key = service.create_key(
            session, tenant_id, name="p", role="agent", department=None, staff="wang.fang"
        )
    assert _kept(store, key).staff == "wang.fang"
    _execute(runtime, "UPDATE staff SET active = false WHERE tenant_id = :t", t=tenant_id)
    wait_until(lambda: store.find_key(key) is None, timeout=5, message="departure heard")


def test_the_triggers_notify_with_the_schema(runtime):
    with runtime.db.engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        names = conn.execute(
            sa.text(
                "SELECT event_object_table FROM information_schema.triggers "
                "WHERE trigger_schema = :s AND action_statement LIKE '%gateway_keys_changed%'"
            ),
            {"s": schema},
        ).scalars()
        assert set(names) == {"api_keys", "staff", "settings"}
        body = conn.execute(
            sa.text("SELECT prosrc FROM pg_proc WHERE proname = 'gateway_keys_changed'")
        ).scalar()
    assert f"pg_notify('{CHANNEL}', TG_TABLE_SCHEMA)" in body


def test_nothing_is_kept_while_the_listener_is_not_connected():
    identity = Identity(tenant_id="t", role="admin", actor="k")
    cache = KeyCache("postgresql://nobody@127.0.0.1:1/none", "s")  # nothing listens there
    try:
        assert cache.generation() is None
        cache.put("digest", identity, cache.generation())
        cache.put("digest", identity, 0)
        assert cache.get("digest") is None
    finally:
        cache.close()


def test_a_lookup_under_way_during_a_change_keeps_nothing(runtime, store):
    _, admin = register_tenant(runtime)
    identity = store.find_key(admin)
    cache = KeyCache(store._pg.conninfo, "other")
    try:
        wait_until(lambda: cache.generation() is not None, message="listener connected")
        began = cache.generation()
        cache.forget()  # a change heard while the lookup ran
        cache.put("digest", identity, began)
        assert cache.get("digest") is None
        cache.put("digest", identity, cache.generation())
        assert cache.get("digest") == identity
    finally:
        cache.close()

"""API keys (and survey tokens) are stored only as SHA-256 hashes and compared in constant
time; keys appear in one response only, the one that creates them."""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa

from tests.support.client import ADMIN, Api

from .catalog import create_all


def _dump(db) -> str:
    """Every value of every table of a service's database (SQLite or PostgreSQL), as text."""
    tables = sa.inspect(db.engine).get_table_names(schema=db.schema)
    with db.engine.connect() as conn:
        return repr({t: conn.execute(sa.text(f'SELECT * FROM "{t}"')).all() for t in tables})


def test_keys_and_tokens_are_stored_only_as_sha256(system):
    platform = Api(system)
    admin = platform.new_tenant()
    keys = [admin.key] + [admin.new_key(role) for role in ("manager", "agent", "viewer")]
    ids = create_all(admin)
    gateway = _dump(system.runtimes["gateway"].db)
    for key in keys:
        assert key not in gateway
        assert hashlib.sha256(key.encode()).hexdigest() in gateway
        assert key[:12] in gateway  # the display prefix, and no more
        assert key[:16] not in gateway
    everything = "".join(_dump(runtime.db) for runtime in system.runtimes.values())
    for secret in [*keys, ids["token"], ADMIN]:
        assert secret not in everything
    assert hashlib.sha256(ids["token"].encode()).hexdigest() in everything


def test_keys_are_shown_once(api):
    created = api.post("/api-keys", {"name": "ci", "role": "agent"})
    key = created.json["key"]
    assert created.json["key_prefix"] == key[:12]
    for path in ("/api-keys", "/tenants/current", "/settings", "/audit-log"):
        r = api.get(path)
        assert r.status_code == 200
        assert key not in r.get_data(as_text=True) and api.key not in r.get_data(as_text=True)


def test_keys_are_compared_in_constant_time(api, monkeypatch):
    """Every credential check goes through hmac.compare_digest: the API key against its
    stored hash, the platform token, and the gateway's internal token at the services."""
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert api.get("/customers").status_code == 200
    key_hash = hashlib.sha256(api.key.encode()).hexdigest()
    assert (key_hash, key_hash) in calls  # the key, after the lookup by its hash
    assert any(isinstance(a, bytes) for a, _ in calls)  # the internal token at the service
    calls.clear()
    assert api.as_key(ADMIN).post("/tenants", {"name": "Other"}).status_code == 201
    assert (ADMIN.encode(), ADMIN.encode()) in calls
    calls.clear()
    assert api.as_key("wrong-platform-token").post("/tenants", {"name": "x"}).status_code == 401
    assert calls  # refused by compare_digest, not by ==


def test_near_miss_keys_are_refused(api):
    key = api.key
    for wrong in (key[:-1], key + "x", key.upper(), key[:-1] + ("A" if key[-1] != "A" else "B")):
        assert api.as_key(wrong).get("/customers").status_code == 401
    assert api.as_key("x" * 10_000).get("/customers").status_code == 401  # no hashing of huge

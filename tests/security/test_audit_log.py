"""The audit log: every write through the gateway, who/when/what/status/request id, for the
tenant's admins, never bodies or keys, and never in the way of a request."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import sqlalchemy as sa

from gateway_service.models import AuditEntry
from tests.support.client import ADMIN, Api
from tests.support.system import CUSTOMER

FIELDS = {"id", "at", "actor", "role", "method", "path", "status", "request_id"}


def _key_id(api: Api, role: str) -> str:
    return next(k["id"] for k in api.get("/api-keys").json["items"] if k["role"] == role)


def _entries(api: Api, query: str = "") -> list[dict]:
    r = api.get(f"/audit-log?limit=500{query}")
    assert r.status_code == 200, r.json
    return r.json["items"]


def test_writes_are_recorded_with_who_when_what(api):
    admin_id = _key_id(api, "admin")
    viewer_key = api.new_key("viewer")
    viewer = api.as_key(viewer_key)
    viewer_id = _key_id(api, "viewer")
    started = datetime.now(UTC)
    cid = api.post("/customers", CUSTOMER, headers={"X-Request-ID": "req-create-1"}).json["id"]
    api.patch(f"/customers/{cid}", {"owner": "zhang.min"})
    api.get(f"/customers/{cid}")  # a read: not recorded
    api.post("/customers", {**CUSTOMER, "type": "pirate"})  # refused by validation
    viewer.post("/customers", CUSTOMER)  # refused by the role table
    api.patch("/settings", {"visits": {}})
    api.delete(f"/api-keys/{viewer_id}")
    entries = _entries(api)
    assert all(set(e) == FIELDS for e in entries)
    seen = [(e["actor"], e["role"], e["method"], e["path"], e["status"]) for e in entries]
    assert seen == [
        ("platform", "platform", "POST", "/api/v1/tenants", 201),
        (admin_id, "admin", "POST", "/api/v1/api-keys", 201),
        (admin_id, "admin", "POST", "/api/v1/customers", 201),
        (admin_id, "admin", "PATCH", f"/api/v1/customers/{cid}", 200),
        (admin_id, "admin", "POST", "/api/v1/customers", 422),
        (viewer_id, "viewer", "POST", "/api/v1/customers", 403),
        (admin_id, "admin", "PATCH", "/api/v1/settings", 200),
        (admin_id, "admin", "DELETE", f"/api/v1/api-keys/{viewer_id}", 204),
    ]
    assert entries[2]["request_id"] == "req-create-1"
    assert all(e["request_id"] for e in entries)
    for entry in entries[2:]:
        at = datetime.fromisoformat(entry["at"])
        assert started - timedelta(seconds=1) <= at <= datetime.now(UTC)
    # a revoked key's attempt is a 401: nobody to hold to it, not recorded
    assert viewer.post("/customers", CUSTOMER).status_code == 401
    assert len(_entries(api)) == len(entries)


def test_filters_and_paging(api):
    admin_id = _key_id(api, "admin")
    for n in range(5):
        api.post("/customers", {**CUSTOMER, "name": f"Customer {n}"})
    api.patch("/settings", {"visits": {}})
    every = _entries(api)
    assert len(every) == 7  # registration, 5 customers, settings
    posts = _entries(api, "&method=POST")
    assert {e["method"] for e in posts} == {"POST"} and len(posts) == 6
    assert {e["actor"] for e in _entries(api, f"&actor={admin_id}")} == {admin_id}
    assert [e["actor"] for e in _entries(api, "&actor=platform")] == ["platform"]
    middle = every[3]["at"]
    after = _entries(api, "&from=" + quote(middle))
    assert [e["id"] for e in after] == [e["id"] for e in every[3:]]
    before = _entries(api, "&to=" + quote(middle))
    assert [e["id"] for e in before] == [e["id"] for e in every[:4]]
    paged, cursor = [], None
    while True:
        query = f"/audit-log?limit=3{'&cursor=' + cursor if cursor else ''}"
        page = api.get(query).json
        paged += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [e["id"] for e in paged] == [e["id"] for e in every]


def test_bad_queries_are_422(api):
    for query in (
        "?method=GET",
        "?from=yesterday",
        "?from=2026-01-01T00:00:00",  # no offset
        "?from=2026-02-01T00:00:00%2B00:00&to=2026-01-01T00:00:00%2B00:00",
        "?limit=0",
        "?limit=501",
        "?cursor=%%%",
        "?actor=" + "x" * 65,
        "?unknown=1",
    ):
        r = api.get("/audit-log" + query)
        assert r.status_code == 422, (query, r.status_code)
        assert r.content_type == "application/problem+json"


def test_writes_to_the_audit_log_itself_are_refused(api):
    for method in ("post", "patch", "delete"):
        r = getattr(api, method)("/audit-log")
        assert r.status_code == 405, (method, r.status_code)  # the log has no write route


def test_nothing_secret_is_stored(system):
    platform = Api(system)
    api = platform.new_tenant()
    agent_key = api.new_key("agent")
    marker = "Customer-Name-That-Must-Not-Be-Stored"
    api.as_key(agent_key).post("/customers", {**CUSTOMER, "name": marker})
    api.post(
        "/webhooks",
        {"url": "http://127.0.0.1:9/h", "events": ["ComplaintRaised"], "secret": "s" * 32},
    )
    with system.runtimes["gateway"].db.read() as session:
        rows = session.scalars(sa.select(AuditEntry)).all()
    stored = repr([{c.key: getattr(r, c.key) for c in r.__table__.columns} for r in rows])
    assert len(rows) == 4
    for secret in (api.key, agent_key, ADMIN, marker, "s" * 32):
        assert secret not in stored


def test_a_failure_to_record_does_not_fail_the_request(system, caplog):
    api = Api(system).new_tenant()
    with system.runtimes["gateway"].db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE audit_log"))
    with caplog.at_level(logging.ERROR, logger="gateway_service.audit"):
        r = api.post("/customers", CUSTOMER)
    assert r.status_code == 201
    assert "audit entry not recorded" in caplog.text

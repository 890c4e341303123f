"""Tenant isolation, generated from the live OpenAPI document (issue #6).

For every operation whose path has an id, tenant B's admin calls it with the ids of tenant
A's real resources and a valid body: the answer must be 404, never anything that would tell
B the resource exists (200, 403, 409, 422...), and A's resources must be unchanged after.
A path parameter this module cannot fill fails the test, so a new route cannot skip it.
"""

from __future__ import annotations

from itertools import product

import pytest

from tests.support.client import Api

from .catalog import PARAM, body_for, call, create_all, fill, operations

# Paths with a parameter that is not a tenant's resource id, and why they are not checked.
EXEMPT = {
    "/api/v1/survey-responses/{token}": (
        "the single-use token in the link is the credential (no API key, no tenant): whoever "
        "holds it may answer, by design (CONTRACT.md); tokens are 128+ random bits"
    ),
}


@pytest.fixture(scope="module")
def tenants(module_system):
    """Tenants A and B (admins), one resource of each kind for each, and the document."""
    platform = Api(module_system)
    a = platform.new_tenant("Tenant A")
    ids = create_all(a)
    b = platform.new_tenant("Tenant B")
    b_ids = create_all(b)
    spec = platform.get("/openapi.json").json
    return a, b, ids, spec, b_ids


def _id_operations(spec):
    return [(m, p, op) for m, p, op in operations(spec) if PARAM.search(p)]


def _snapshot(api: Api, spec, ids) -> dict:
    """What A reads back from every GET with an id (to check B changed nothing)."""
    seen = {}
    for method, path, _op in _id_operations(spec):
        if method == "GET" and path not in EXEMPT:
            r = api.get(fill(path, ids)[len("/api/v1") :])
            assert r.status_code == 200, (path, r.status_code, r.json)
            seen[path] = _stable(r.json)
    keys = api.get("/api-keys?limit=500").json["items"]
    seen["api-keys"] = [k for k in keys if k["id"] == ids["key_id"]]
    return seen


# Path parameters that are a position within a resource, not a resource of a tenant: they are
# the same for every tenant, so only the resource ids beside them are mixed.
POSITIONS = {"n": "a stage's number within its issue"}


def _mixes(path, ids, b_ids):
    """A's ids in every path parameter, and for paths with several, every mix of A's with
    B's own (B's customer with A's repair must be 404 too), B's alone excepted."""
    names = [name for name in PARAM.findall(path) if name not in POSITIONS]
    positions = {name: ids[name] for name in PARAM.findall(path) if name in POSITIONS}
    for owners in product((ids, b_ids), repeat=len(names)):
        if any(owner is ids for owner in owners):
            mixed = {name: owner[name] for name, owner in zip(names, owners, strict=True)}
            yield {**mixed, **positions}


# Fields that move with the clock alone (overdue, escalated), and those of a webhook delivery
# that its worker moves (attempting the discard port, retrying after back-off) while B calls:
# on a busy machine the first attempt may come after the first snapshot.
MOVING = {
    "overdue",
    "escalated",
    "attempts",
    "attempt_log",
    "next_attempt_at",
    "last_status",
    "last_error",
}


def _stable(doc):
    """A document without the fields that move on their own (MOVING)."""
    if isinstance(doc, dict):
        return {k: _stable(v) for k, v in doc.items() if k not in MOVING}
    if isinstance(doc, list):
        return [_stable(v) for v in doc]
    return doc


def test_every_id_parameter_is_covered(tenants):
    _a, _b, ids, spec, _ = tenants
    operations_with_ids = _id_operations(spec)
    assert len(operations_with_ids) >= 20  # the document really was read
    for _method, path, _op in operations_with_ids:
        if path in EXEMPT:
            continue
        missing = [name for name in PARAM.findall(path) if name not in ids]
        assert not missing, f"{path}: no resource for {missing}; add it to catalog.create_all"


def test_another_tenants_resources_are_404(tenants):
    a, b, ids, spec, b_ids = tenants
    before = _snapshot(a, spec, ids)
    wrong = []
    checked = 0
    for method, path, operation in _id_operations(spec):
        if path in EXEMPT:
            continue
        for mixed in _mixes(path, ids, b_ids):
            r = call(b, method, fill(path, mixed), body_for(method, path, operation, b_ids))
            checked += 1
            if r.status_code != 404 or r.content_type != "application/problem+json":
                wrong.append((method, path, mixed, r.status_code, r.get_json(silent=True)))
    assert not wrong, "tenant B learnt of tenant A's resources:\n" + "\n".join(map(str, wrong))
    assert checked >= 20
    assert _snapshot(a, spec, ids) == before  # and nothing of A's changed


def test_another_tenants_lists_are_empty(tenants):
    """B's lists (the GETs without an id that page items) show none of A's resources."""
    _a, b, ids, spec, _ = tenants
    mine = {value for name, value in ids.items() if name not in POSITIONS}
    listed = 0
    for method, path, _op in operations(spec):
        if method != "GET" or PARAM.search(path):
            continue
        r = call(b, method, path)
        assert r.status_code < 500, (path, r.status_code)
        body = r.get_json(silent=True)
        if r.status_code == 200 and isinstance(body, dict) and "items" in body:
            listed += 1
            leaked = [item for item in body["items"] if mine & set(map(str, item.values()))]
            assert not leaked, (path, leaked)
    assert listed >= 8


def test_ids_in_query_filters_find_nothing(tenants):
    a, b, ids, _spec, _ = tenants
    for path in (
        f"/visits?customer_id={ids['customer_id']}",
        f"/issues?customer_id={ids['customer_id']}",
        f"/complaints?customer_id={ids['customer_id']}",
    ):  # a filter on another tenant's id matches nothing of B's
        r = b.get(path)
        assert r.status_code == 200, (path, r.status_code)
        assert r.json["items"] == [], path
        assert a.get(path).status_code == 200
    # another tenant's survey in the path is unknown to B (CONTRACT §4.1 References)
    path = f"/surveys/{ids['survey_id']}/invitations?customer_id={ids['customer_id']}"
    assert b.get(path).status_code == 404
    assert a.get(path).status_code == 200


def test_the_audit_log_is_the_tenants_own(tenants):
    a, b, _ids, _spec, _ = tenants
    a_keys = {k["id"] for k in a.get("/api-keys?limit=500").json["items"]}
    b_entries = b.get("/audit-log?limit=500").json["items"]
    assert b_entries  # B's own registration and its (refused) writes
    assert not {e["actor"] for e in b_entries} & a_keys
    a_entries = a.get("/audit-log?limit=500").json["items"]
    assert {e["actor"] for e in a_entries} <= a_keys | {"platform"}

"""Hostile input the generated fuzzing rarely hits, sent to every operation of the live
OpenAPI document: JSON nested thousands deep, numbers out of every range (1e400, NaN),
times in year 1 or 9999 with extreme offsets, odd bodies and content types, and odd path
ids. None may give a server error; every refusal is problem+json."""

from __future__ import annotations

import json

import pytest

from tests.support.client import ADMIN, Api

from .catalog import PARAM, body_for, call, create_all, fill, has_body, operations

SENTINEL = "__hostile__"
# raw JSON text put in place of one field of a valid body
FIELD_VALUES = [
    "1e400",
    "-1e400",
    "NaN",
    "Infinity",
    "18446744073709551616",
    "-0",
    "0.1e-400",
    '""',
    '"\\u0000"',
    '"\\ud800"',
    json.dumps("x" * 100_000),
    "[]",
    "{}",
    "null",
    "true",
    '"0001-01-01T00:00:00+14:00"',
    '"9999-12-31T23:59:59-14:00"',
    '"0000-00-00"',
    '"9999-12-31"',
    '"0001-01-01"',
    "[" * 3000 + "]" * 3000,
]
WHOLE_BODIES = [
    ("application/json", "[" * 100_000 + "]" * 100_000),
    ("application/json", '{"a":' * 50_000 + "1" + "}" * 50_000),
    ("application/json", "null"),
    ("application/json", "[]"),
    ("application/json", '"text"'),
    ("application/json", "{"),
    ("application/json", b'{"name": "\xff\xfe"}'),
    ("text/plain", '{"name": "x"}'),
    ("application/x-www-form-urlencoded", "name=x"),
    (None, ""),
]
QUERY_VALUES = [
    "",
    "%00",
    "x" * 5000,
    "-1",
    "99999999999999999999",
    "1e400",
    "NaN",
    "0001-01-01T00:00:00%2B14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01",
    "9999-12-31",
    "%25",
    "%C0%AE",
]
PATH_IDS = [
    "x" * 2000,
    "%00",
    "%3Fa=b",
    "%23frag",
    "%2F..%2F..",
    "%F0%9F%98%80",
    "%C0%AE",
    " ",
    "null",
]


@pytest.fixture(scope="module")
def world(module_system):
    admin = Api(module_system).new_tenant("Hostile")
    ids = create_all(admin)
    spec = admin.get("/openapi.json").json
    return admin, ids, spec


def _caller(admin: Api, method: str, path: str) -> Api:
    return admin.as_key(ADMIN) if (method, path) == ("POST", "/api/v1/tenants") else admin


def _check(r, what) -> None:
    assert r.status_code < 500, (what, r.status_code, r.get_data(as_text=True)[:300])
    if r.status_code >= 400:
        assert r.content_type == "application/problem+json", (what, r.status_code)


def _send(api: Api, method: str, path: str, data, content_type):
    headers = api._headers()
    if content_type:
        headers["Content-Type"] = content_type
    return api.http.open(path, method=method, headers=headers, data=data)


def test_hostile_field_values(world):
    admin, ids, spec = world
    sent = 0
    for method, path, operation in operations(spec):
        body = body_for(method, path, operation, ids)
        if not isinstance(body, dict):
            continue
        api, target = _caller(admin, method, path), fill(path, ids)
        for field in body:
            for raw in FIELD_VALUES:
                text = json.dumps({**body, field: SENTINEL}).replace(f'"{SENTINEL}"', raw)
                r = _send(api, method, target, text, "application/json")
                _check(r, (method, path, field, raw[:40]))
                sent += 1
    assert sent > 300


def _taking_bodies(world):
    """``(method, path, api, target)`` of every operation that takes a body: the client to
    call it with and its path with the world's ids."""
    admin, ids, spec = world
    for method, path, operation in operations(spec):
        if has_body(operation):
            yield method, path, _caller(admin, method, path), fill(path, ids)


def test_hostile_bodies(world):
    for method, path, api, target in _taking_bodies(world):
        for content_type, data in WHOLE_BODIES:
            r = _send(api, method, target, data, content_type)
            _check(r, (method, path, content_type, data[:20]))


def test_deep_json_is_refused_before_any_parser_recurses(world, caplog):
    deep = [data for _, data in WHOLE_BODIES[:2]] + ['{"name": ' + FIELD_VALUES[-1] + "}"]
    sent = 0
    for method, path, api, target in _taking_bodies(world):
        for data in deep:
            r = _send(api, method, target, data, "application/json")
            assert r.status_code == 400, (method, path, r.status_code)
            assert "levels deep" in r.get_json()["detail"], (method, path)
            sent += 1
    assert sent > 30
    assert not [rec for rec in caplog.records if "RecursionError" in rec.getMessage()]


def test_hostile_query_values(world):
    admin, ids, spec = world
    sent = 0
    for method, path, operation in operations(spec):
        names = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
        api, target = _caller(admin, method, path), fill(path, ids)
        for name in names:
            for value in QUERY_VALUES:
                r = call(
                    api, method, f"{target}?{name}={value}", body_for(method, path, operation, ids)
                )
                _check(r, (method, path, name, value[:40]))
                sent += 1
    assert sent > 300


def test_hostile_path_ids(world):
    admin, ids, spec = world
    for method, path, operation in operations(spec):
        for name in PARAM.findall(path):
            for odd in PATH_IDS:
                target = fill(path, {**ids, name: odd})
                r = call(admin, method, target, body_for(method, path, operation, ids))
                _check(r, (method, path, name, odd[:20]))
                # U+0000 is refused at the edge (400); any other odd id names nothing (404)
                expected = 400 if odd == "%00" else 404
                assert r.status_code == expected, (method, target[:80], r.status_code)


def test_nul_is_refused_at_the_edge_in_path_query_and_json(world):
    """PostgreSQL cannot store U+0000: refused before any route (on SQLite alike)."""
    admin, ids, _spec = world
    cid = ids["customer_id"]
    r = admin.get("/customers/a%00b")
    assert (r.status_code, r.content_type) == (400, "application/problem+json")
    assert "NUL" in r.json["detail"]
    r = admin.get("/complaints?status=open%00")
    assert (r.status_code, r.content_type) == (422, "application/problem+json")
    assert list(r.json["errors"]) == ["status"]
    complaint = {
        "customer_id": cid,
        "channel": "phone",
        "severity": "general",
        "category": "delivery",
        "department": "quality",
        "description": "late\u0000",
        "complainant": {"name\u0000": "x"},
    }
    r = admin.post("/complaints", complaint)
    assert (r.status_code, r.content_type) == (422, "application/problem+json")
    assert sorted(r.json["errors"]) == ["complainant.name\u0000", "description"]
    r = admin.as_key(ADMIN).post("/tenants", {"name": "\u0000"})  # the gateway's own route
    assert (r.status_code, list(r.json["errors"])) == (422, ["name"])
    assert admin.get(f"/customers/{cid}").status_code == 200  # the edge passes the rest

"""Forwarded writes with a JSON body served the short way (``gateway_service/fastpath.py``),
as forwarded reads are: the same answer byte for byte as the Flask path, the same audit
entry, each write counted once by the rate limiter, the same metrics; every write the
short way does not take for certain (another body, hostile input, a refused key...) is
answered by the Flask path. On SQLite and on PostgreSQL (the key lookup and the audit entry
run on each)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from flask import request, request_started
from prometheus_client import REGISTRY
from werkzeug.test import Client

from gateway_service.bootstrap import InProcessTransport
from gateway_service.fastpath import ForwardedReads
from gateway_service.models import AuditEntry
from gateway_service.proxy import PROXY_RULE, ServiceTimeout, ServiceUnavailable
from tests.support.gateway import Raising, auth, counted_lookups, customer_service_app, echo_app

BODY = json.dumps({"name": "Huadong"}).encode()
JSON = "application/json"


@pytest.fixture
def gw(make_gateway, database):
    return make_gateway(
        {
            "customer": InProcessTransport(customer_service_app()),
            "complaint": InProcessTransport(echo_app("complaint")),
            "survey": InProcessTransport(echo_app("survey")),
            "notify": Raising(ServiceUnavailable("refused")),
            "kpi": Raising(ServiceTimeout("slow")),
            "visit": Raising(RuntimeError("a bug")),
        },
        **database,
    )


class Seen:
    """The requests that went through the gateway app's Flask request machinery."""

    def __init__(self, app):
        self.app = app
        self.paths: list[str] = []

    def __call__(self, sender, **extra):
        self.paths.append(request.path)

    def __enter__(self):
        request_started.connect(self, self.app)
        return self.paths

    def __exit__(self, *exc):
        request_started.disconnect(self, self.app)


def answer(wsgi, method: str, path: str, headers: dict, **kw):
    """(status line, [(name, value)...] in order, body) of one request through ``wsgi``."""
    resp = Client(wsgi).open(path, method=method, headers=headers, **kw)
    try:
        return resp.status, list(resp.headers.items()), resp.get_data()
    finally:
        resp.close()


def entries(gw) -> list[dict]:
    """The audit entries, oldest first, without what differs between two writes."""
    columns = ("tenant_id", "actor", "role", "method", "path", "status", "request_id")
    with gw.runtime.db.read() as session:
        rows = session.scalars(sa.select(AuditEntry).order_by(AuditEntry.at, AuditEntry.id))
        return [{name: getattr(row, name) for name in columns} for row in rows]


def short_and_flask(gw, method: str, path: str, headers: dict, **kw):
    """The answers and audit entries of the same request sent the short way and through the
    Flask path, and how many of the two went through Flask."""
    short = gw.app.wsgi_app
    assert isinstance(short, ForwardedReads)
    before = len(entries(gw))
    with Seen(gw.app) as seen:
        fast = answer(short, method, path, headers, **kw)
        middle = len(entries(gw))
        flask = answer(short.fallback, method, path, headers, **kw)
    after = entries(gw)
    return (fast, after[before:middle]), (flask, after[middle:]), len(seen)


SAME_ANSWERS = [
    ("POST", "/api/v1/customers"),  # a smorest route of the service: 201
    ("POST", "/api/v1/customers/42/purchases"),
    ("PATCH", "/api/v1/customers/42"),
    ("PUT", "/api/v1/complaints/7"),
    ("DELETE", "/api/v1/complaints/7"),
    ("POST", "/api/v1/customers/limited"),  # the service's own 429: not audited
    ("POST", "/api/v1/customers/empty"),  # 204
    ("POST", "/api/v1/notifications"),  # 503, the service unreachable
    ("POST", "/api/v1/kpis/x"),  # 504, the service too slow
    ("POST", "/api/v1/visits/7/complete"),  # 500, a bug
]


@pytest.mark.parametrize(("method", "path"), SAME_ANSWERS)
def test_forwarded_writes_get_the_flask_paths_answer_and_audit_entry(gw, method, path):
    admin = gw.create_tenant()["admin_key"]
    headers = auth(
        admin,
        **{
            "X-Request-ID": "req-1",
            "Idempotency-Key": "k-1",
            "User-Agent": "tests/1",
            "X-Revisit-Role": "viewer",  # a client's identity header is never passed
        },
    )
    fast, flask, through_flask = short_and_flask(
        gw, method, path, headers, data=BODY, content_type=JSON
    )
    assert through_flask == 1  # the Flask path's own call only
    assert fast == flask
    (status, sent, body), recorded = fast
    assert ("X-Request-ID", "req-1") in sent
    code = int(status.split(" ", 1)[0])
    if code == 429:
        assert recorded == []
    else:
        assert recorded == [
            {
                "tenant_id": recorded[0]["tenant_id"],
                "actor": recorded[0]["actor"],
                "role": "admin",
                "method": method,
                "path": path,
                "status": code,
                "request_id": "req-1",
            }
        ]
    if path == "/api/v1/customers/42/purchases":
        echo = json.loads(body)
        assert echo["body"] == BODY.decode()
        assert echo["headers"]["idempotency-key"] == "k-1"
        assert echo["headers"]["x-revisit-role"] == "admin"


def test_a_write_the_short_way_takes_never_reaches_flask(gw):
    admin = gw.create_tenant()["admin_key"]
    with Seen(gw.app) as seen:
        status, sent, body = answer(
            gw.app.wsgi_app,
            "POST",
            "/api/v1/customers",
            auth(admin, **{"X-Request-ID": "req-2"}),
            data=BODY,
            content_type=JSON,
        )
    assert (status, seen) == ("201 CREATED", [])
    assert dict(sent)["X-Request-ID"] == "req-2"
    assert json.loads(body)["created"] == {"name": "Huadong"}


LEFT_TO_FLASK = [
    # (method, path, request keywords, the Flask path's status)
    ("POST", "/api/v1/customers", {"data": b"name=x", "content_type": "text/plain"}, 422),
    ("POST", "/api/v1/customers", {"data": b"", "content_type": JSON}, 422),
    ("POST", "/api/v1/customers/", {"data": BODY, "content_type": JSON}, 404),
    ("POST", "/api/v1/customers//1", {"data": BODY, "content_type": JSON}, 308),
    ("POST", "/api/v1/customers/../api-keys", {"data": BODY, "content_type": JSON}, 404),
    ("POST", "/api/v1/nothing-here", {"data": BODY, "content_type": JSON}, 404),
    ("POST", "/api/v1/api-keys", {"data": BODY, "content_type": JSON}, 422),
    ("POST", "/api/v1/survey-responses/tok-1", {"data": BODY, "content_type": JSON}, 200),
    ("POST", "/api/v1/customers/1", {"data": BODY, "query_string": "q=%00"}, 422),
    ("POST", "/api/v1/customers/1", {"data": b'{"a": "\\u0000"}', "content_type": JSON}, 422),
    ("POST", "/api/v1/customers/1", {"data": b'{"a": "\\ud800"}', "content_type": JSON}, 400),
    ("POST", "/api/v1/customers/1", {"data": b"[" * 70 + b"]" * 70, "content_type": JSON}, 400),
    ("POST", "/api/v1/customers/1", {"data": b"x" * (2 * 1024 * 1024)}, 413),
]


@pytest.mark.parametrize(("method", "path", "extra", "status"), LEFT_TO_FLASK)
def test_every_other_write_is_left_to_flask_whole(gw, method, path, extra, status):
    admin = gw.create_tenant()["admin_key"]
    extra = {"content_type": JSON, **extra}
    with Seen(gw.app) as seen:
        got, _, body = answer(gw.app.wsgi_app, method, path, auth(admin), **extra)
    assert (int(got.split(" ", 1)[0]), len(seen)) == (status, 1), body
    if status == 200:  # forwarded by the Flask path: the body the short way read went along
        assert json.loads(body)["body"] == extra["data"].decode()


def test_refused_writes_are_answered_by_flask_after_one_lookup(gw, monkeypatch):
    admin = gw.create_tenant()["admin_key"]
    viewer = gw.create_key(admin, "viewer")["key"]
    store = gw.app.extensions["gateway_store"]
    lookups = counted_lookups(monkeypatch, store)
    before = len(entries(gw))
    for key, status in ((viewer, "403 FORBIDDEN"), ("rvk_unknown", "401 UNAUTHORIZED")):
        lookups.clear()
        with Seen(gw.app) as seen:
            got, _, _ = answer(
                gw.app.wsgi_app,
                "POST",
                "/api/v1/customers",
                auth(key),
                data=BODY,
                content_type=JSON,
            )
        assert (got, lookups, len(seen)) == (status, [key], 1)
    recorded = entries(gw)[before:]
    # the 403 is held against the viewer's key, the unknown key is nobody's
    assert [(e["role"], e["status"]) for e in recorded] == [("viewer", 403)]


def test_each_write_is_counted_once_and_a_refused_one_is_not_audited(make_gateway, database):
    gw = make_gateway(
        {"customer": InProcessTransport(customer_service_app())},
        environment={"REVISIT_RATE_LIMIT": "4/minute"},
        **database,
    )
    admin = gw.create_tenant()["admin_key"]  # (registration counts for the platform token)
    statuses = [
        answer(
            gw.app.wsgi_app, "POST", "/api/v1/customers", auth(admin), data=BODY, content_type=JSON
        )[0]
        for _ in range(5)
    ]
    assert statuses == ["201 CREATED"] * 4 + ["429 TOO MANY REQUESTS"]
    fast, flask, _ = short_and_flask(
        gw,
        "POST",
        "/api/v1/customers",
        auth(admin, **{"X-Request-ID": "r"}),
        data=BODY,
        content_type=JSON,
    )
    assert fast[0][0] == flask[0][0] == "429 TOO MANY REQUESTS"
    assert fast[0][2] == flask[0][2]
    assert fast[1] == flask[1] == []


def _samples(status: str) -> tuple[float, float]:
    labels = {"service": "gateway", "method": "POST", "route": PROXY_RULE}
    served = REGISTRY.get_sample_value("revisit_http_requests_total", {**labels, "status": status})
    timed = REGISTRY.get_sample_value("revisit_http_request_duration_seconds_count", labels)
    return served or 0.0, timed or 0.0


def test_the_request_metrics_of_a_write_are_the_flask_paths(gw):
    admin = gw.create_tenant()["admin_key"]
    before = _samples("201") + _samples("503")
    short_and_flask(gw, "POST", "/api/v1/customers", auth(admin), data=BODY, content_type=JSON)
    short_and_flask(gw, "POST", "/api/v1/notifications", auth(admin), data=BODY, content_type=JSON)
    after = _samples("201") + _samples("503")
    # 201: two served and four timed (every POST); 503: two served
    assert [round(b - a) for a, b in zip(before, after, strict=True)] == [2, 4, 2, 4]

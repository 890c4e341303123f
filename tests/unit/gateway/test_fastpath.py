"""Forwarded reads served without Flask's request machinery (``gateway_service/fastpath.py``):
the same answer byte for byte as the Flask path (status line, every header in order, body),
the same request forwarded, each request counted once by the rate limiter, the same
metrics, and every other request left to the Flask app. On SQLite and on PostgreSQL (the
key lookup runs on each)."""

from __future__ import annotations

import contextlib
import json
import re

import pytest
from flask import Flask, Response, request, request_started
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError
from werkzeug.test import EnvironBuilder, run_wsgi_app

from gateway_service.bootstrap import InProcessTransport
from gateway_service.fastpath import ForwardedReads
from gateway_service.proxy import PROXY_RULE, ServiceTimeout, ServiceUnavailable
from tests.support.gateway import Raising, auth, counted_lookups, customer_service_app, echo_app

PROBLEM = "application/problem+json"


def odd_headers_app() -> Flask:
    """A backend whose answers carry what the gateway passes, drops, renames or rewrites."""
    app = Flask("odd")

    @app.route("/api/v1/complaints/<path:rest>")
    def odd(rest):
        if rest == "headers":
            return Response(
                b'{"a": 1}',
                status=200,
                headers=[
                    ("content-type", "application/json"),
                    ("etag", '"v7"'),
                    ("Link", "<a>; rel=next"),
                    ("Link", "<b>; rel=last"),
                    ("Cache-Control", "no-store"),
                    ("Set-Cookie", "s=1"),
                    ("X-Request-ID", "from-the-service"),
                    ("Content-Disposition", 'attachment; filename="x.csv"'),
                    ("Last-Modified", "Sun, 06 Dec 2026 10:00:00 GMT"),
                    ("Idempotent-Replayed", "true"),
                ],
            )
        if rest == "moved":
            return Response(b"", status=302, headers={"Location": "/api/v1/complaints/é"})
        if rest == "not-modified":
            return Response(b"", status=304, headers={"ETag": '"v7"'})
        if rest == "unknown-status":
            return Response(b"odd", status=599)
        if rest == "none":
            return Response(b"", status=200, headers={"Content-Type": "text/plain"})
        return Response(json.dumps({"query": request.query_string.decode()}), status=404)

    return app


@pytest.fixture
def make(make_gateway, database):
    def build(transports=None, **settings):
        transports = transports or {
            "customer": InProcessTransport(customer_service_app()),
            "complaint": InProcessTransport(odd_headers_app()),
            "survey": InProcessTransport(echo_app("survey")),
            "notify": Raising(ServiceUnavailable("refused")),
            "kpi": Raising(ServiceTimeout("slow")),
            "visit": Raising(RuntimeError("a bug")),
        }
        return make_gateway(transports, **database, **settings)

    return build


@contextlib.contextmanager
def flask_requests(app: Flask):
    """The requests that went through ``app``'s Flask request machinery meanwhile."""
    seen: list[str] = []

    def started(sender, **extra):
        seen.append(request.path)

    request_started.connect(started, app)
    try:
        yield seen
    finally:
        request_started.disconnect(started, app)


def call(wsgi, method: str, path: str, headers: dict, query: str = "", **kw):
    """(status line, [(name, value)...] in order, body) of one request through ``wsgi``."""
    environ = EnvironBuilder(
        method=method, path=path, query_string=query, headers=headers, **kw
    ).get_environ()
    app_iter, status, sent = run_wsgi_app(wsgi, environ, buffered=True)
    try:
        body = b"".join(app_iter)
    finally:
        getattr(app_iter, "close", lambda: None)()
    return status, list(sent.items()), body


def both(gw, method: str, path: str, headers: dict, query: str = "", **kw):
    """The answer of the short way and of the Flask path to the same request, and how many
    of the two went through Flask."""
    short = gw.app.wsgi_app
    assert isinstance(short, ForwardedReads)
    with flask_requests(gw.app) as seen:
        fast = call(short, method, path, headers, query, **kw)
        flask = call(short.fallback, method, path, headers, query, **kw)
    return fast, flask, len(seen)


SAME_ANSWERS = [
    ("/api/v1/customers/42", ""),
    ("/api/v1/customers/42", "a=1&b=%20x&c=%C3%A9&d=%2F&e"),
    ("/api/v1/customers/limited", ""),  # the service's own 429, passed on
    ("/api/v1/customers", "limit=2"),  # a smorest route of the service
    ("/api/v1/complaints/headers", ""),
    ("/api/v1/complaints/moved", ""),  # a Location werkzeug rewrites
    ("/api/v1/complaints/not-modified", ""),
    ("/api/v1/complaints/unknown-status", ""),
    ("/api/v1/complaints/none", ""),
    ("/api/v1/complaints/missing", "x=1"),
    ("/api/v1/notifications", ""),  # 503, the service unreachable
    ("/api/v1/kpis", "from=2026-01-01"),  # 504, the service too slow
    ("/api/v1/visits/7", ""),  # 500, a bug
]


@pytest.mark.parametrize(("path", "query"), SAME_ANSWERS)
def test_forwarded_reads_get_the_flask_paths_answer_byte_for_byte(make, path, query):
    gw = make()
    admin = gw.create_tenant()["admin_key"]
    headers = auth(
        admin,
        **{
            "X-Request-ID": "req-1",
            "Accept": "application/json",
            "User-Agent": "tests/1",
            "Accept-Language": "zh-CN",
            "If-None-Match": '"v6"',
            "X-Revisit-Role": "admin",  # a client's identity header is never passed
            "Cookie": "c=1",
        },
    )
    fast, flask, through_flask = both(gw, "GET", path, headers, query)
    assert through_flask == 1  # the Flask path's own call only
    assert fast == flask
    status, sent, body = fast
    assert re.fullmatch(r"\d{3} [A-Z -]+", status)
    assert ("X-Request-ID", "req-1") in sent
    if path == "/api/v1/customers/42":
        echo = json.loads(body)
        assert echo["headers"]["x-revisit-role"] == "admin"
        assert echo["headers"]["x-request-id"] == "req-1"
        assert echo["headers"]["accept-language"] == "zh-CN"
        assert "cookie" not in echo["headers"]


def test_the_answers_on_the_wire_are_as_before(make):
    """The pieces the comparison above rests on, spelt out once."""
    gw = make()
    admin = gw.create_tenant()["admin_key"]
    headers = auth(admin, **{"X-Request-ID": "req-2"})
    status, sent, body = call(gw.app.wsgi_app, "GET", "/api/v1/complaints/headers", headers)
    assert status == "200 OK"
    assert sent == [
        ("Content-Length", "8"),
        ("Content-Type", "application/json"),
        ("X-Request-ID", "req-2"),
        ("ETag", '"v7"'),
        ("Last-Modified", "Sun, 06 Dec 2026 10:00:00 GMT"),
        ("Cache-Control", "no-store"),
        ("Content-Disposition", 'attachment; filename="x.csv"'),
        ("Link", "<a>; rel=next"),
        ("Idempotent-Replayed", "true"),
    ]
    assert body == b'{"a": 1}'
    status, sent, body = call(gw.app.wsgi_app, "GET", "/api/v1/notifications", headers)
    assert status == "503 SERVICE UNAVAILABLE"
    assert dict(sent)["Retry-After"] == "2"
    assert dict(sent)["Content-Type"] == PROBLEM
    assert json.loads(body)["detail"] == "the notify service is unavailable, try again shortly"


def test_a_request_id_is_made_when_none_or_a_bad_one_is_sent(make):
    gw = make()
    admin = gw.create_tenant()["admin_key"]
    for sent_id in (None, "bad id with spaces"):
        headers = auth(admin, **({"X-Request-ID": sent_id} if sent_id else {}))
        with flask_requests(gw.app) as seen:
            _, sent, body = call(gw.app.wsgi_app, "GET", "/api/v1/customers/1", headers)
        assert seen == []
        made = dict(sent)["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)
        assert json.loads(body)["headers"]["x-request-id"] == made


LEFT_TO_FLASK = [
    ("POST", "/api/v1/customers", {}),
    ("HEAD", "/api/v1/customers/1", {}),
    ("DELETE", "/api/v1/customers/1", {}),
    ("GET", "/api/v1/customers/1/", {}),
    ("GET", "/api/v1/customers//1", {}),
    ("GET", "/api/v1/customers/./1", {}),
    ("GET", "/api/v1/customers/../api-keys", {}),
    ("GET", "/api/v1/customers/é", {}),
    ("GET", "/api/v1/customers/export", {}),  # streamed
    ("GET", "/api/v1/survey-responses/tok-1", {}),  # public
    ("GET", "/api/v1/api-keys", {}),  # the gateway's own
    ("GET", "/api/v1/nothing-here/1", {}),
    ("GET", "/healthz", {}),
    ("GET", "/api/v1/customers/1", {"query_string": "q=%00"}),
    ("GET", "/api/v1/customers/1", {"data": b"{}", "content_type": "application/json"}),
]


@pytest.mark.parametrize(("method", "path", "extra"), LEFT_TO_FLASK)
def test_every_other_request_is_left_to_flask(make, method, path, extra):
    gw = make()
    admin = gw.create_tenant()["admin_key"]
    extra = dict(extra)
    query = extra.pop("query_string", "")
    with flask_requests(gw.app) as seen:
        call(gw.app.wsgi_app, method, path, auth(admin), query, **extra)
    assert len(seen) == 1, (method, path)


def test_refused_keys_are_left_to_flask_and_answered_there(make):
    gw = make()
    admin = gw.create_tenant()["admin_key"]
    viewer = gw.create_key(admin, "viewer")
    for headers, status in (
        ({}, "401 UNAUTHORIZED"),
        (auth("rvk_unknown"), "401 UNAUTHORIZED"),
        ({"Authorization": "Basic eDp5"}, "401 UNAUTHORIZED"),
        (auth(viewer["key"]), "200 OK"),
    ):
        with flask_requests(gw.app) as seen:
            got, _, _ = call(gw.app.wsgi_app, "GET", "/api/v1/customers/1", headers)
        assert got == status
        assert len(seen) == (0 if status == "200 OK" else 1)
    revoked = gw.client.delete(f"/api/v1/api-keys/{viewer['id']}", headers=auth(admin))
    assert revoked.status_code == 204
    with flask_requests(gw.app) as seen:
        got, _, body = call(gw.app.wsgi_app, "GET", "/api/v1/customers/1", auth(viewer["key"]))
    assert (got, len(seen)) == ("401 UNAUTHORIZED", 1)
    assert json.loads(body)["detail"] == "invalid or revoked API key"
    dept = gw.create_key(admin, "department", "product")["key"]
    with flask_requests(gw.app) as seen:
        got, _, _ = call(gw.app.wsgi_app, "GET", "/api/v1/customers/1", auth(dept))
    assert (got, len(seen)) == ("403 FORBIDDEN", 1)


def test_each_read_is_counted_once_by_the_rate_limiter(make):
    gw = make(environment={"REVISIT_RATE_LIMIT": "4/minute"})
    admin = gw.create_tenant()["admin_key"]  # (registration counts for the platform token)
    statuses = [
        call(gw.app.wsgi_app, "GET", "/api/v1/customers/1", auth(admin))[0] for _ in range(5)
    ]
    assert statuses == ["200 OK"] * 4 + ["429 TOO MANY REQUESTS"]
    fast, flask, _ = both(gw, "GET", "/api/v1/customers/1", auth(admin, **{"X-Request-ID": "r"}))
    assert fast[0] == flask[0] == "429 TOO MANY REQUESTS"
    assert fast[2] == flask[2]
    assert [name for name, _ in fast[1]] == [name for name, _ in flask[1]]
    assert 1 <= int(dict(fast[1])["Retry-After"]) <= 60


def _served(status: str) -> float:
    labels = {"service": "gateway", "method": "GET", "route": PROXY_RULE, "status": status}
    return REGISTRY.get_sample_value("revisit_http_requests_total", labels) or 0.0


def _timed() -> float:
    labels = {"service": "gateway", "method": "GET", "route": PROXY_RULE}
    return REGISTRY.get_sample_value("revisit_http_request_duration_seconds_count", labels) or 0


def test_the_request_metrics_are_the_flask_paths(make):
    gw = make()
    admin = gw.create_tenant()["admin_key"]
    before = (_served("200"), _served("503"), _timed())
    fast, flask, _ = both(gw, "GET", "/api/v1/customers/1", auth(admin))
    both(gw, "GET", "/api/v1/notifications", auth(admin))
    assert (_served("200"), _served("503"), _timed()) == (
        before[0] + 2,
        before[1] + 2,
        before[2] + 4,
    )


def test_a_refusal_or_a_failed_lookup_is_answered_by_flask_after_one_lookup(make, monkeypatch):
    gw = make()
    admin = gw.create_tenant()["admin_key"]
    dept = gw.create_key(admin, "department", "product")["key"]
    store = gw.app.extensions["gateway_store"]
    lookups = counted_lookups(monkeypatch, store)
    for key, status in ((dept, "403 FORBIDDEN"), ("rvk_unknown", "401 UNAUTHORIZED")):
        assert call(gw.app.wsgi_app, "GET", "/api/v1/customers/1", auth(key))[0] == status
        assert lookups == [key]
        lookups.clear()

    def unreachable(key):
        lookups.append(key)
        raise OperationalError("SELECT", None, Exception("connection refused"))

    monkeypatch.setattr(store, "find_key", unreachable)
    status, sent, body = call(gw.app.wsgi_app, "GET", "/api/v1/customers/1", auth(admin))
    assert (status, lookups) == ("503 SERVICE UNAVAILABLE", [admin])
    assert dict(sent)["Retry-After"] == "2"
    assert json.loads(body)["detail"] == "database unavailable, try again shortly"


def test_the_short_way_repeats_every_hook_of_the_gateway_app(make):
    """The short way runs the Flask path's request hooks by hand (fastpath.py's docstring
    lists them): a hook added to the gateway app would be skipped for forwarded reads, so
    adding one fails here until fastpath.py repeats it and this list names it."""
    app = make().app

    def names(funcs: dict) -> dict:
        return {key: [f.__module__ + "." + f.__qualname__ for f in fs] for key, fs in funcs.items()}

    hooks = {
        "before": names(app.before_request_funcs),
        "after": names(app.after_request_funcs),
        "teardown": names(app.teardown_request_funcs),
        "url_value_preprocessors": names(app.url_value_preprocessors),
    }
    assert hooks == {
        "before": {
            None: [
                "revisit_common.webapp.create_app.<locals>._start",
                "gateway_service.auth.install.<locals>.gateway_request",
            ],
            # the console's own pages only (never a forwarded request)
            "console": ["gateway_service.console.guard.load_person"],
        },
        # record_write audits writes: the short way audits its own (audit.record, the same entry)
        "after": {
            None: [
                "revisit_common.webapp.create_app.<locals>._finish",
                "gateway_service.audit.record_write",
            ],
            "console": ["gateway_service.console.guard.security_headers"],
        },
        "teardown": {},
        "url_value_preprocessors": {},
    }

"""Standalone mode's in-process call of a service (``proxy.InProcessTransport``): the WSGI
environ made directly (``direct_environ``) is the one werkzeug's EnvironBuilder makes
(``built_environ``), and a request the direct way does not make for certain is left to the
builder."""

from __future__ import annotations

import pytest

from gateway_service.proxy import (
    ForwardRequest,
    InProcessTransport,
    built_environ,
    direct_environ,
)

IDENTITY = {
    "X-Request-ID": "req-1",
    "X-Revisit-Internal-Token": "internal",
    "X-Revisit-Tenant": "t-1",
    "X-Revisit-Role": "admin",
    "X-Revisit-Actor": "k-1",
}
MADE_DIRECTLY = [
    ForwardRequest("GET", "/api/v1/customers/42", b"", {"Accept": "*/*", **IDENTITY}),
    ForwardRequest("GET", "/api/v1/customers", b"limit=2&cursor=a%20b&q=%C3%A9", IDENTITY),
    ForwardRequest("GET", "/api/v1/customers", "q=é&x=ü".encode("latin-1"), IDENTITY),
    ForwardRequest("GET", "/api/v1/kpis/a:b@c!$&'()*+,;=-._~", b"", IDENTITY),
    ForwardRequest(
        "POST",
        "/api/v1/customers/42/purchases",
        b"",
        {"Content-Type": "application/json", "Idempotency-Key": "k 1", **IDENTITY},
        b'{"amount": 1}',
    ),
    ForwardRequest("PATCH", "/api/v1/customers/42", b"", {"User-Agent": "ü/1"}, b"raw"),
    ForwardRequest("DELETE", "/api/v1/customers/42", b"", {"content-type": "text/csv"}, b"a"),
    ForwardRequest("DELETE", "/api/v1/customers/42", b"", {}),
]
LEFT_TO_THE_BUILDER = [
    ForwardRequest("GET", "/api/v1/customers/é", b"", IDENTITY),
    ForwardRequest("GET", "/api/v1/customers/a b", b"", IDENTITY),
    ForwardRequest("GET", "/api/v1/customers/a%2Fb", b"", IDENTITY),
    ForwardRequest("GET", "/api/v1/customers/a?b#c", b"", IDENTITY),
    ForwardRequest("GET", "//api/v1/customers", b"", IDENTITY),
    ForwardRequest("GET", "/api/v1/customers", b"", {"Accept": "a", "accept": "b"}),
    ForwardRequest("GET", "/api/v1/customers", b"", {"Host": "elsewhere"}),
    ForwardRequest("GET", "/api/v1/customers", b"", {"Content-Length": "3"}),
    ForwardRequest("POST", "/api/v1/customers", b"", {"Content-Type": "multipart/form-data"}),
    ForwardRequest(
        "POST", "/api/v1/customers", b"", {"Content-Type": "application/x-www-form-urlencoded"}
    ),
]


def comparable(environ: dict) -> dict:
    """The environ with its body read (two streams of the same bytes are not equal); of a
    form encoded by the builder, without the body and its random boundary."""
    if environ.get("CONTENT_TYPE", "").startswith("multipart/"):
        made = ("wsgi.input", "CONTENT_TYPE", "CONTENT_LENGTH")
        return {key: value for key, value in environ.items() if key not in made}
    return {**environ, "wsgi.input": environ["wsgi.input"].read()}


@pytest.mark.parametrize("req", MADE_DIRECTLY)
def test_the_environ_made_directly_is_the_builders(req):
    made = direct_environ(req, "127.0.0.1")
    assert made is not None
    assert comparable(made) == comparable(built_environ(req, "127.0.0.1"))


@pytest.mark.parametrize("req", LEFT_TO_THE_BUILDER)
def test_a_request_the_builder_treats_in_a_way_of_its_own_is_left_to_it(req):
    assert direct_environ(req, "127.0.0.1") is None
    seen = []

    def service(environ, start_response):
        seen.append(comparable(environ))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    answer = InProcessTransport(service).send(req)
    assert (answer.status, answer.body) == (200, b"ok")
    assert seen == [comparable(built_environ(req, "127.0.0.1"))]


def test_header_values_the_builder_refuses_are_refused_alike():
    req = ForwardRequest("GET", "/api/v1/customers", b"", {"Accept": "a\r\nX-Evil: 1"})
    assert direct_environ(req, "127.0.0.1") is None
    with pytest.raises(ValueError, match="newline"):
        built_environ(req, "127.0.0.1")


def test_the_service_answer_is_relayed_as_sent():
    def service(environ, start_response):
        start_response("201 CREATED", [("Content-Type", "application/json"), ("Link", "<a>")])
        return iter([b'{"id": ', b'"x"}'])

    req = ForwardRequest("POST", "/api/v1/customers", b"", IDENTITY, b"{}")
    answer = InProcessTransport(service).send(req)
    assert answer.status == 201
    assert answer.headers == [("Content-Type", "application/json"), ("Link", "<a>")]
    assert answer.body == b'{"id": "x"}'

"""What a forwarded request carries as its body: nothing when the client sent none (no
Content-Length, no Transfer-Encoding: RFC 9112 6.3), the body whole otherwise."""

from __future__ import annotations

import io

from tests.support.gateway import auth


def test_a_request_without_a_body_is_forwarded_without_one(gateway, admin):
    for method in ("GET", "DELETE"):
        resp = gateway.client.open("/api/v1/customers/c-1", method=method, headers=auth(admin))
        assert resp.status_code == 200, resp.get_json()
        echo = resp.get_json()
        assert (echo["method"], echo["body"]) == (method, "")
        assert "transfer-encoding" not in echo["headers"]
        assert echo["headers"].get("content-length") in (None, "0")


def test_an_empty_and_a_chunked_body_are_forwarded_as_sent(gateway, admin):
    resp = gateway.client.post("/api/v1/customers/c-1/purchases", data=b"", headers=auth(admin))
    assert resp.status_code == 200
    assert resp.get_json()["body"] == ""
    resp = gateway.client.patch(
        "/api/v1/customers/c-1",
        input_stream=io.BytesIO(b'{"name": "chunked"}'),
        content_type="application/json",
        headers=auth(admin, **{"Transfer-Encoding": "chunked"}),
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert resp.status_code == 200
    assert resp.get_json()["body"] == '{"name": "chunked"}'

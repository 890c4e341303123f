"""The whole standalone system in this process (gateway + services + workers)."""

from __future__ import annotations

import time

import requests

from revisit_common.config import Settings
from revisit_runner.standalone import Standalone, build, prepare_settings

ADMIN = "platform-token-for-tests"
CUSTOMER = {
    "name": "Huadong Trading",
    "type": "dealer",
    "region": "east",
    "annual_purchase_amount": 500000,
    "cooperation_start": "2019-03-01",
}


class HttpResponse:
    """A requests response shaped like Flask's test response (``.json`` is a property)."""

    def __init__(self, response: requests.Response):
        self.raw = response
        self.status_code = response.status_code
        self.headers = response.headers
        self.content_type = response.headers.get("Content-Type", "")

    @property
    def json(self):
        try:
            return self.raw.json()
        except ValueError:
            return None

    def get_data(self, as_text: bool = False):
        return self.raw.text if as_text else self.raw.content


class HttpClient:
    """A real HTTP client with the few methods of Flask's test client the tests use."""

    def __init__(self, base: str):
        self.base = base
        self.session = requests.Session()

    def open(
        self, method, path, json=None, headers=None, data=None, content_type=None, query_string=None
    ):
        headers = dict(headers or {})
        if content_type:
            headers["Content-Type"] = content_type
        response = self.session.request(
            method,
            self.base + path,
            json=json,
            data=data,
            headers=headers,
            params=query_string,
            timeout=30,
        )
        return HttpResponse(response)

    def get(self, path, **kw):
        return self.open("GET", path, **kw)

    def post(self, path, **kw):
        return self.open("POST", path, **kw)

    def patch(self, path, **kw):
        return self.open("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.open("DELETE", path, **kw)


class Api:
    """The gateway's HTTP API as a client with a key sees it: through Flask's test client
    for an in-process system, or over real HTTP for a :class:`HttpClient`."""

    def __init__(self, source: Standalone | HttpClient, key: str | None = None):
        self.http = source.app.test_client() if hasattr(source, "app") else source
        self.key = key

    def _headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        return {**headers, **(extra or {})}

    def get(self, path, headers=None):
        return self.http.get("/api/v1" + path, headers=self._headers(headers))

    def post(self, path, json=None, headers=None, **kw):
        return self.http.post("/api/v1" + path, json=json, headers=self._headers(headers), **kw)

    def patch(self, path, json=None, headers=None):
        return self.http.patch("/api/v1" + path, json=json, headers=self._headers(headers))

    def delete(self, path, headers=None):
        return self.http.delete("/api/v1" + path, headers=self._headers(headers))

    def as_key(self, key: str) -> Api:
        other = Api.__new__(Api)
        other.http, other.key = self.http, key
        return other

    def new_tenant(self, name: str = "Acme") -> Api:
        r = self.as_key(ADMIN).post("/tenants", {"name": name})
        assert r.status_code == 201, r.json
        return self.as_key(r.json["admin_key"])

    def new_key(self, role: str, department: str | None = None) -> str:
        body = {"name": f"{role} key", "role": role}
        if department:
            body["department"] = department
        r = self.post("/api-keys", body)
        assert r.status_code == 201, r.json
        return r.json["key"]


def start_system(settings: Settings) -> Standalone:
    system = build(prepare_settings(settings))
    system.start()
    return system


def eventually(check, timeout: float = 5.0, interval: float = 0.02):
    """Poll ``check`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")

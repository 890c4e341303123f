"""The HTTP clients the tests talk through, at every layer.

- :class:`Client`: one service's API as the gateway calls it (the internal token and the
  identity headers of one caller), over Flask's test client.
- :class:`Api`: the gateway's public API as the holder of one key sees it, in process
  (Flask's test client) or over real HTTP (:class:`HttpClient`).
- :class:`HttpClient`: real HTTP with the few methods of Flask's test client the tests use,
  so the same test code runs against a process of its own.
"""

from __future__ import annotations

import requests

TOKEN = "internal-test-token"
TENANT = "tenant-a"
ADMIN = "platform-token-for-tests"


class Client:
    """A service's HTTP API as the gateway calls it, for one tenant, role and actor."""

    def __init__(
        self,
        app,
        tenant: str = TENANT,
        role: str = "admin",
        *,
        actor: str | None = None,
        department: str | None = None,
        token: str = TOKEN,
    ):
        self.http = app.test_client()
        self.tenant = tenant
        self.role = role
        self.actor = actor or f"{role}-key"
        self.department = department
        self.token = token

    def headers(self, **extra) -> dict[str, str]:
        headers = {
            "X-Revisit-Internal-Token": self.token,
            "X-Revisit-Tenant": self.tenant,
            "X-Revisit-Role": self.role,
            "X-Revisit-Actor": self.actor,
        }
        if self.department:
            headers["X-Revisit-Department"] = self.department
        return {**headers, **extra}

    def open(self, method: str, path: str, json=None, headers=None, **kw):
        return self.http.open(
            path, method=method, json=json, headers=self.headers(**(headers or {})), **kw
        )

    def get(self, path, **kw):
        return self.open("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.open("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.open("PATCH", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.open("DELETE", path, **kw)


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
    for an in-process system (anything with an ``app``), or over real HTTP for a
    :class:`HttpClient`."""

    def __init__(self, source, key: str | None = None):
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

"""The console as a browser sees it, over a Flask test client: cookies kept, and a form sent
with the hidden fields the last page shown holds for it (its CSRF token, its key), as a
browser sends what the page holds."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.support.client import Api

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


class _Forms(HTMLParser):
    """The POST forms of a page: (action, hidden fields), in order."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self._open: dict[str, str] | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            self._open = {}
            if (values.get("method") or "get").lower() == "post":
                self.forms.append((values.get("action") or "", self._open))
        elif tag == "input" and self._open is not None and values.get("type") == "hidden":
            self._open.setdefault(values.get("name") or "", values.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def hidden_fields(html: str, action: str) -> dict[str, str] | None:
    """The hidden fields of the page's first POST form to ``action`` (None: none)."""
    parser = _Forms()
    parser.feed(html)
    return next((dict(fields) for at, fields in parser.forms if at == action), None)


class Console:
    """``language``: the browser's Accept-Language (the pages before sign-in follow it)."""

    def __init__(self, app, language: str = "en"):
        self.http = app.test_client()
        self.http.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        self.page = ""  # the last page shown (HTML)

    def get(self, path: str, **kw):
        response = self.http.get(path, **kw)
        self.page = response.get_data(as_text=True)
        return response

    def post(self, path: str, data: dict | None = None, *, csrf: str | None = None, **kw):
        """POST ``data`` as the last page's form for ``path`` sends it: with that form's
        hidden fields (its CSRF token, its key); a path no form of the page posts to (a
        forged request) with the session's token from the page's header. ``csrf``: send
        that token instead."""
        fields = hidden_fields(self.page, path)
        if csrf is not None:
            fields = {**(fields or {}), "csrf_token": csrf}
        elif fields is None:
            fields = {"csrf_token": csrf_of(self.page)}
        response = self.http.post(path, data={**fields, **(data or {})}, **kw)
        self.page = response.get_data(as_text=True)
        return response

    def sign_in(self, tenant: str, staff_id: str, password: str = PASSWORD):
        """The sign-in form filled and sent; the answer (303 to /console/ when it worked)."""
        self.get(f"/console/sign-in?tenant={tenant}")
        return self.post(
            "/console/sign-in", {"tenant": tenant, "staff_id": staff_id, "password": password}
        )


def add_person(admin: Api, staff_id: str, role: str = "agent", password: str = PASSWORD, **extra):
    """A person of ``admin``'s tenant with ``role`` and a console password."""
    body = {"id": staff_id, "name": staff_id.replace(".", " ").title(), "role": role, **extra}
    created = admin.post("/staff", body)
    assert created.status_code == 201, created.json
    answer = admin.post(f"/staff/{staff_id}/password", {"password": password})
    assert answer.status_code == 204, answer.json
    return created.json

"""The console as a browser sees it, over a Flask test client: cookies kept, and each form's
CSRF token read from the last page shown (as a browser posts what the page holds)."""

from __future__ import annotations

import re

from tests.support.client import Api

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


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
        """POST a form with the last page's CSRF token (``csrf`` to send another)."""
        token = csrf_of(self.page) if csrf is None else csrf
        response = self.http.post(path, data={"csrf_token": token, **(data or {})}, **kw)
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

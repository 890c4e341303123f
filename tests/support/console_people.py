"""People of the console for the real-browser tests: a tenant of a running server with staff
who have roles and passwords (made through the HTTP API, as an administrator would), and a
browser page signed in as one of them."""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests

from tests.support.browser import expect
from tests.support.standalone import ADMIN, CUSTOMER, bearer

PASSWORD = "correct horse battery"
SIGN_IN = re.compile(r"^(Sign in|登录)$")
SIGN_OUT = re.compile(r"^(Sign out|退出)$")


@dataclass(frozen=True)
class Person:
    tenant: str
    staff_id: str
    name: str
    role: str
    password: str = PASSWORD


@dataclass(frozen=True)
class Tenant:
    id: str
    key: str  # the tenant administrator's API key
    base: str  # the server's base URL

    def api(self, method: str, path: str, json=None, status: int = 200) -> requests.Response:
        """``method /api/v1<path>`` with the administrator's key; fails unless it answers
        with ``status``."""
        r = requests.request(
            method, self.base + "/api/v1" + path, json=json, headers=bearer(self.key), timeout=10
        )
        assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r

    def person(self, staff_id: str, name: str, role: str, password: str = PASSWORD) -> Person:
        """A staff member with ``role`` and a console password."""
        self.api("POST", "/staff", {"id": staff_id, "name": name, "role": role}, status=201)
        self.api("POST", f"/staff/{staff_id}/password", {"password": password}, status=204)
        return Person(self.id, staff_id, name, role, password)

    def records(self) -> dict[str, str]:
        """Ids of a customer (华东贸易), a planned on-site visit to it (due 2020-01-06) and a
        received major complaint of it."""
        customer = self.api("POST", "/customers", {**CUSTOMER, "name": "华东贸易"}, status=201)
        customer_id = customer.json()["id"]
        visit = {
            "customer_id": customer_id,
            "reason": "care",
            "method": "on_site",
            "due_date": "2020-01-06",
        }
        complaint = {
            "customer_id": customer_id,
            "channel": "email",
            "severity": "major",
            "category": "service_quality",
            "department": "customer_service",
            "description": "Nobody called back",
        }
        return {
            "customer": customer_id,
            "visit": self.api("POST", "/visits", visit, status=201).json()["id"],
            "complaint": self.api("POST", "/complaints", complaint, status=201).json()["id"],
        }


def new_tenant(base: str, name: str = "Acme") -> Tenant:
    """A new tenant of the server at ``base`` (whose platform token is ADMIN)."""
    r = requests.post(
        base + "/api/v1/tenants", json={"name": name}, headers=bearer(ADMIN), timeout=10
    )
    assert r.status_code == 201, r.text
    body = r.json()
    return Tenant(body["id"], body["admin_key"], base)


def send_sign_in(page, base: str, tenant: str, staff_id: str, password: str):
    """The sign-in form filled in and sent with the keyboard alone (Tab between the fields,
    Enter to send); returns the answer to the form."""
    page.goto(f"{base}/console/sign-in")
    page.locator("#tenant").focus()
    page.keyboard.type(tenant)
    page.keyboard.press("Tab")
    page.keyboard.type(staff_id)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    with page.expect_navigation() as navigation:
        page.keyboard.press("Enter")
    return navigation.value


def sign_in(page, base: str, person: Person) -> None:
    """Sign ``person`` in; the browser is then on their agenda."""
    answer = send_sign_in(page, base, person.tenant, person.staff_id, person.password)
    assert answer.status == 200, answer.status
    assert page.url == base + "/console/", page.url


SIGN_OUT_IN = {"en": "Sign out", "zh-CN": "退出"}


def choose_language(page, locale: str) -> None:
    """Choose the console's language (``en`` or ``zh-CN``) with the form in the header; the
    page is shown again in it."""
    form = page.locator("form:has(#locale-choice)")
    form.locator("#locale-choice").select_option(locale)
    form.get_by_role("button").click()
    expect(page.get_by_role("button", name=SIGN_OUT)).to_have_text(SIGN_OUT_IN[locale])

"""Every page of the console, as a manager sees it (the role offered the most forms), with a
customer, a planned visit and a received complaint on them: each is shot and checked for
accessibility on a desktop, and shot and checked to fit the width of a phone."""

from __future__ import annotations

import pytest

from tests.support.accessibility import assert_accessible
from tests.support.browser import assert_fits_width, expect, shoot
from tests.support.console_people import choose_language, sign_in


@pytest.fixture
def pages(tenant) -> dict[str, tuple[str, int]]:
    """Page name → (path, the status it answers with)."""
    ids = tenant.records()
    return {
        "agenda": ("/console/", 200),
        "visits": ("/console/visits", 200),
        "visit": (f"/console/visits/{ids['visit']}", 200),
        "complaints": ("/console/complaints", 200),
        "complaint": (f"/console/complaints/{ids['complaint']}", 200),
        "customers": ("/console/customers", 200),
        "customer": (f"/console/customers/{ids['customer']}", 200),
        "kpis": ("/console/kpis", 200),
        "audit": ("/console/audit", 200),
        "transfer": ("/console/transfer", 200),
        "not-found": ("/console/no-such-page", 404),
    }


def test_every_page_on_a_desktop(server, tenant, pages, page):
    manager = tenant.person("li.jing", "李静", "manager")
    sign_in(page, server.base, manager)
    choose_language(page, "en")
    for name, (path, status) in pages.items():
        answer = page.goto(server.base + path)
        assert answer.status == status, (path, answer.status)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        shoot(page, f"manager-{name}")
        assert_accessible(page)


def test_every_page_fits_a_phone(server, tenant, pages, phone):
    manager = tenant.person("li.jing", "李静", "manager")
    sign_in(phone, server.base, manager)
    for name, (path, status) in pages.items():
        answer = phone.goto(server.base + path)
        assert answer.status == status, (path, answer.status)
        expect(phone.get_by_role("heading", level=1)).to_be_visible()
        shoot(phone, f"phone-{name}")
        assert_fits_width(phone)

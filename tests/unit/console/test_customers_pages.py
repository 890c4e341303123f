"""The console's customer pages (issue #16): the list and its filters, a customer with its
grade and risk and their reasons, contacts and history, and the forms that register a
customer and record a purchase; all through the API as the signed-in person."""

from __future__ import annotations

import re
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from gateway_service.console.pages import customers as customer_pages
from tests.support.console import add_person
from tests.unit.console.conftest import new_tenant

pytestmark = pytest.mark.usefixtures("system")

EAST = {
    "name": "上海精密机械",
    "type": "dealer",
    "region": "East",
    "annual_purchase_amount": 2_000_000,
    "cooperation_start": "2019-01-01",
}
WEST = {
    "name": "Chengdu Tools",
    "type": "end_user",
    "region": "West",
    "annual_purchase_amount": 50_000,
    "cooperation_start": "2025-06-01",
    "overdue_days": 40,
}
NORTH = {
    "name": "Harbin Parts",
    "type": "agent",
    "region": "North",
    "annual_purchase_amount": 300_000,
    "cooperation_start": "2022-01-01",
    "overdue_days": 120,
    "credit_rating": "fair",
}


def register(tenant, body) -> dict:
    created = tenant.admin.post("/customers", body)
    assert created.status_code == 201, created.json
    return created.json


def signed_in(tenant, role="agent", staff_id="wang.fang"):
    """A console signed in as a new person with ``role`` who reads English."""
    add_person(tenant.admin, staff_id, role=role, locale="en")
    console = tenant.console()
    assert console.sign_in(tenant.id, staff_id).status_code == 303
    return console


def names_listed(html: str) -> list[str]:
    """The customers' names in the results table, in order."""
    return re.findall(r'<th scope="row"><a href="/console/customers/[^"]+">([^<]+)</a>', html)


def customer_count(tenant) -> int:
    answer = tenant.admin.get("/customers?limit=500")
    assert answer.status_code == 200
    return len(answer.json["items"])


def test_the_list_shows_every_customer_and_each_filter_narrows_it(tenant):
    east, west, north = register(tenant, EAST), register(tenant, WEST), register(tenant, NORTH)
    assert (east["grade"], west["grade"], north["grade"]) == ("B", "C", "C")
    assert (east["risk_level"], west["risk_level"], north["risk_level"]) == (
        "low",
        "medium",
        "high",
    )
    console = signed_in(tenant)
    assert console.get("/console/customers").status_code == 200
    assert names_listed(console.page) == ["上海精密机械", "Chengdu Tools", "Harbin Parts"]
    assert "Dealer" in console.page and "End user" in console.page
    cases = {
        "type=agent": ["Harbin Parts"],
        "grade=B": ["上海精密机械"],
        "region=West": ["Chengdu Tools"],
        "risk_level=high": ["Harbin Parts"],
        "q=%E7%B2%BE%E5%AF%86": ["上海精密机械"],  # 精密
        "grade=C&region=West": ["Chengdu Tools"],
        "region=South": [],
    }
    for query, expected in cases.items():
        answer = console.get(f"/console/customers?{query}")
        assert answer.status_code == 200, query
        assert names_listed(console.page) == expected, query
    assert "No customers match these filters." in console.page
    # the chosen filters stay chosen, and the export link carries them
    console.get("/console/customers?risk_level=high&region=North")
    assert '<option value="high" selected>' in console.page
    assert 'value="North"' in console.page
    assert re.search(r'href="/console/export/customers\.csv\?[^"]*region=North', console.page)


def test_the_filter_form_updates_the_table_with_htmx_and_works_without(tenant):
    register(tenant, EAST)
    console = signed_in(tenant)
    console.get("/console/customers")
    form = re.search(r'<form method="get" action="/console/customers"[^>]*>', console.page)
    assert form, "the filter form is a plain GET form"
    for attribute in (
        'hx-get="/console/customers"',
        'hx-target="#customer-results"',
        'hx-select="#customer-results"',
        'hx-push-url="true"',
    ):
        assert attribute in form.group(0)
    answer = console.get("/console/customers?type=dealer", headers={"HX-Request": "true"})
    assert answer.status_code == 200 and 'id="customer-results"' in console.page


def test_a_bad_filter_shows_the_apis_field_error(tenant):
    console = signed_in(tenant)
    assert console.get("/console/customers?grade=Z").status_code == 422
    assert 'id="filter-grade-error"' in console.page and names_listed(console.page) == []


def test_pages_follow_the_apis_cursor(tenant, monkeypatch):
    monkeypatch.setattr(customer_pages, "PAGE_SIZE", 2)
    for name in ("One", "Two", "Three"):
        register(tenant, {**WEST, "name": name})
    console = signed_in(tenant)
    console.get("/console/customers?region=West")
    assert names_listed(console.page) == ["One", "Two"]
    following = re.search(r'href="(/console/customers\?cursor=[^"]+)">Next page', console.page)
    assert following and "region=West" in following.group(1)
    console.get(following.group(1).replace("&amp;", "&"))
    assert names_listed(console.page) == ["Three"]
    assert "Next page" not in console.page and "First page" in console.page


def test_the_customer_shows_grade_and_risk_with_reasons_contacts_and_history(tenant):
    contact = {
        "name": "李娜",
        "title": "采购经理",
        "phone": "138 0000 1234",
        "email": "li.na@example.com",
        "decision_maker": True,
        "birthday": "1985-06-15",
    }
    customer = register(tenant, {**NORTH, "contacts": [contact]})
    visit = tenant.admin.post(
        "/visits",
        {
            "customer_id": customer["id"],
            "reason": "risk_watch",
            "method": "phone",
            "due_date": "2026-03-06",
        },
    )
    assert visit.status_code == 201, visit.json
    complaint = tenant.admin.post(
        "/complaints",
        {
            "customer_id": customer["id"],
            "channel": "phone",
            "severity": "general",
            "category": "product_quality",
            "department": "quality",
            "description": "The bearings are noisy",
        },
    )
    assert complaint.status_code == 201, complaint.json
    purchase = tenant.admin.post(
        f"/customers/{customer['id']}/purchases",
        {"amount": 1200, "product": "Bearing kit", "purchased_at": "2026-02-20T10:00:00+08:00"},
    )
    assert purchase.status_code == 201, purchase.json

    console = signed_in(tenant, role="admin", staff_id="zhao.lei")
    assert console.get(f"/console/customers/{customer['id']}").status_code == 200
    page = console.page
    customer = tenant.admin.get(f"/customers/{customer['id']}").json  # regraded on purchase
    assert "<h1>Harbin Parts" in page
    # grade with what it comes from (an admin reads the thresholds and weights)
    assert f"<strong>{customer['grade']}</strong>" in page
    assert f"score {customer['score']}: A from 80, B from 60, else C" in page
    assert "purchase amount 35.0%" in page
    # risk with the API's reasons, as sentences
    assert "<strong>High</strong>" in page
    assert "<li>Payments overdue for 90 days or more.</li>" in page
    assert "<li>Credit rating: Fair.</li>" in page
    # the contact
    assert "李娜" in page and "采购经理" in page
    assert 'href="tel:13800001234"' in page and 'href="mailto:li.na@example.com"' in page
    assert "Jun 15, 1985" in page
    # history: the visit, the complaint, the purchase
    assert "Risk watch" in page and "Mar 6, 2026" in page
    assert complaint.json["number"] in page
    assert "Bearing kit" in page and "1200.00" in page


def test_an_agent_sees_the_grades_derivation_without_the_settings(tenant):
    customer = register(tenant, EAST)
    console = signed_in(tenant)
    assert console.get(f"/console/customers/{customer['id']}").status_code == 200
    assert f"score {customer['score']} of 100" in console.page
    assert "No risk indicator has crossed a threshold." in console.page
    assert "A from 80" not in console.page


def test_the_page_is_in_chinese_for_a_chinese_speaker(tenant):
    customer = register(tenant, NORTH)
    add_person(tenant.admin, "wang.fang", role="agent", locale="zh-CN")
    console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    console.get(f"/console/customers/{customer['id']}")
    assert "逾期付款 90 天及以上。" in console.page and "信用评级：一般。" in console.page


def test_a_new_customer_is_registered_and_shown(tenant):
    add_person(tenant.admin, "zhao.lei")
    console = signed_in(tenant)
    console.get("/console/customers")
    assert '<option value="zhao.lei">' in console.page  # owners suggested
    answer = console.post(
        "/console/customers",
        {
            "name": "杭州新材料",
            "type": "dealer",
            "region": "East",
            "annual_purchase_amount": "150000",
            "cooperation_start": "2024-05-01",
            "owner": "zhao.lei",
            "address": "杭州市西湖区",
            "contact_name": "陈刚",
            "contact_phone": "13900000000",
            "contact_email": "chen@example.com",
            "contact_decision_maker": "on",
            "contact_birthday": "1990-01-02",
        },
    )
    assert answer.status_code == 303
    customer_id = answer.headers["Location"].rsplit("/", 1)[1]
    stored = tenant.admin.get(f"/customers/{customer_id}").json
    assert (stored["name"], stored["owner"], stored["size_tier"]) == (
        "杭州新材料",
        "zhao.lei",
        "medium",
    )
    assert stored["annual_purchase_amount"] == "150000.00"
    [person] = stored["contacts"]
    assert (person["name"], person["email"], person["decision_maker"], person["birthday"]) == (
        "陈刚",
        "chen@example.com",
        True,
        "1990-01-02",
    )
    assert console.get(answer.headers["Location"]).status_code == 200
    assert "杭州新材料" in console.page and "陈刚" in console.page


def test_a_form_sent_twice_registers_one_customer(tenant):
    console = signed_in(tenant)
    console.get("/console/customers")
    key = re.search(r'name="idempotency_key" value="([^"]+)"', console.page).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', console.page).group(1)
    form = {
        "idempotency_key": key,
        "name": "Wuxi Valves",
        "type": "dealer",
        "region": "East",
        "annual_purchase_amount": "80000",
        "cooperation_start": "2023-01-01",
    }
    first = console.post("/console/customers", form, csrf=csrf)
    second = console.post("/console/customers", form, csrf=csrf)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert customer_count(tenant) == 1


def test_a_refused_new_customer_keeps_the_values_and_shows_the_errors(tenant):
    console = signed_in(tenant)
    console.get("/console/customers")
    answer = console.post(
        "/console/customers",
        {
            "name": "Wuxi Valves",
            "type": "dealer",
            "region": "",
            "annual_purchase_amount": "80000",
            "cooperation_start": "2023-01-01",
            "contact_name": "Sun Li",
            "contact_email": "not an address",
        },
    )
    assert answer.status_code == 422
    page = console.page
    assert 'value="Wuxi Valves"' in page and 'value="Sun Li"' in page
    assert 'value="not an address"' in page
    assert re.search(r'id="f-region"[^>]*aria-invalid="true"', page)
    assert 'id="region-error">Missing data for required field.' in page
    assert 'id="contact_email-error">Not a valid email address.' in page
    assert "<details" in page and " open>" in page
    assert customer_count(tenant) == 0


def test_a_purchase_is_recorded_in_the_tenants_time_zone(tenant):
    customer = register(tenant, WEST)
    console = signed_in(tenant)
    console.get(f"/console/customers/{customer['id']}")
    answer = console.post(
        f"/console/customers/{customer['id']}/purchases",
        {
            "product": "Drill set",
            "amount": "1200",
            "quantity": "3",
            "purchased_at": "2026-03-01T10:00",
        },
    )
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/console/customers/{customer['id']}#purchases"
    [purchase] = tenant.admin.get(f"/customers/{customer['id']}/purchases").json["items"]
    assert (purchase["product"], purchase["amount"], purchase["quantity"]) == (
        "Drill set",
        "1200.00",
        3,
    )
    bought = datetime.fromisoformat(purchase["purchased_at"])
    assert bought == datetime(2026, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    console.get(answer.headers["Location"])
    assert "Drill set" in console.page


def test_a_refused_purchase_shows_the_field_errors(tenant):
    customer = register(tenant, WEST)
    console = signed_in(tenant)
    console.get(f"/console/customers/{customer['id']}")
    answer = console.post(
        f"/console/customers/{customer['id']}/purchases",
        {"product": "", "amount": "12", "quantity": "1", "purchased_at": "2026-03-01T10:00"},
    )
    assert answer.status_code == 422
    assert 'id="product-error">Missing data for required field.' in console.page
    assert 'value="12"' in console.page
    assert tenant.admin.get(f"/customers/{customer['id']}/purchases").json["items"] == []


def test_a_viewer_sees_no_forms_and_a_forged_post_is_refused(tenant):
    customer = register(tenant, WEST)
    agent = signed_in(tenant, staff_id="zhao.lei")
    agent.get(f"/console/customers/{customer['id']}")
    purchase_form = f'method="post" action="/console/customers/{customer["id"]}/purchases"'
    assert purchase_form in agent.page  # an agent sees the purchase form
    viewer = signed_in(tenant, role="viewer")
    assert viewer.get("/console/customers").status_code == 200
    assert 'method="post" action="/console/customers"' not in viewer.page
    assert "Register the customer" not in viewer.page
    assert viewer.get(f"/console/customers/{customer['id']}").status_code == 200
    assert purchase_form not in viewer.page and "Record the purchase" not in viewer.page
    forged = viewer.post(
        "/console/customers",
        {
            "name": "Forged",
            "type": "dealer",
            "region": "East",
            "annual_purchase_amount": "1",
            "cooperation_start": "2024-01-01",
        },
    )
    assert forged.status_code == 403 and "Your role may not do this." in viewer.page
    viewer.get(f"/console/customers/{customer['id']}")
    forged = viewer.post(
        f"/console/customers/{customer['id']}/purchases",
        {"product": "Forged", "amount": "1", "purchased_at": "2026-03-01T10:00"},
    )
    assert forged.status_code == 403
    assert customer_count(tenant) == 1
    assert tenant.admin.get(f"/customers/{customer['id']}/purchases").json["items"] == []


def test_another_tenants_customer_is_not_found(system, tenant):
    other = new_tenant(system)
    theirs = register(other, EAST)
    console = signed_in(tenant)
    assert console.get(f"/console/customers/{theirs['id']}").status_code == 404
    assert "Not found, or not your organisation&#39;s." in console.page
    console.get("/console/customers")
    forged = console.post(
        f"/console/customers/{theirs['id']}/purchases",
        {"product": "X", "amount": "1", "purchased_at": "2026-03-01T10:00"},
    )
    assert forged.status_code == 404
    assert other.admin.get(f"/customers/{theirs['id']}/purchases").json["items"] == []
    assert console.get("/console/customers/no%3Fsuch").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(tenant):
    console = tenant.console()
    assert console.get("/console/customers").status_code == 303
    assert console.get("/console/customers/anything").status_code == 303


class Structure(HTMLParser):
    """What a page's accessibility rests on: ids, labels, inputs, headings."""

    def __init__(self):
        super().__init__()
        self.ids: list[str] = []
        self.labelled: set[str] = set()
        self.inputs: list[str] = []
        self.h1 = 0
        self.inline = []  # style= attributes and on* handlers (the CSP forbids them)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "label" and attributes.get("for"):
            self.labelled.add(attributes["for"])
        if tag in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            self.inputs.append(attributes.get("id", "(no id)"))
        self.h1 += tag == "h1"
        self.inline += [name for name in attributes if name == "style" or name.startswith("on")]


def test_the_pages_have_one_h1_unique_ids_and_a_label_for_every_input(tenant):
    customer = register(tenant, {**NORTH, "contacts": [{"name": "李娜", "phone": "1"}]})
    console = signed_in(tenant, role="admin")
    for path in ("/console/customers", f"/console/customers/{customer['id']}"):
        assert console.get(path).status_code == 200
        structure = Structure()
        structure.feed(console.page)
        assert structure.h1 == 1, path
        assert len(structure.ids) == len(set(structure.ids)), path
        assert [i for i in structure.inputs if i not in structure.labelled] == [], path
        assert structure.inline == [] and "<script>" not in console.page, path

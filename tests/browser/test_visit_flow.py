"""Issue #16, done-when 5, in a real browser: an agent signs in, completes an overdue visit
with an issue through the visit page's form, and sees their agenda change; a manager, signed
in at the same time, sees the KPI page reflect it. Every page is shot and checked for
accessibility.

The visit is due on a fixed date long past (2020-01-06), so it is overdue whatever day the
test runs, and the KPI page is asked for January 2020 (visits are counted by due date).
"""

from __future__ import annotations

from tests.support.accessibility import assert_accessible
from tests.support.browser import expect, shoot
from tests.support.console_people import choose_language, sign_in
from tests.support.polling import wait_until
from tests.support.standalone import CUSTOMER

DUE = "2020-01-06"
PERIOD = ("2020-01-01", "2020-01-31")
CUSTOMER_NAME = "华东贸易"
ISSUE = "Packaging arrived torn on two pallets"
# seconds: the contract's bound is 2 s in standalone mode on a quiet machine; the suite must
# pass on a busy one too
KPI_WAIT = 15.0


def completion_row(page) -> list[str]:
    """The "Visit completion" row of the KPI page's rates: value, counted, out of."""
    row = page.locator("section[aria-labelledby=rates] tbody tr").filter(
        has=page.get_by_role("rowheader", name="Visit completion", exact=True)
    )
    return [cell.strip() for cell in row.locator("td").all_inner_texts()]


def show_period(page, base: str) -> None:
    """The manager's KPI page for PERIOD, chosen with the page's own form."""
    page.get_by_role("navigation").get_by_role("link", name="KPIs").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("KPIs")
    page.get_by_label("From").fill(PERIOD[0])
    page.get_by_label("To", exact=True).fill(PERIOD[1])
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Jan 1, 2020")
    page.wait_for_url(f"{base}/console/kpis?from={PERIOD[0]}&to={PERIOD[1]}&group_by=")


def test_an_agent_completes_a_visit_with_an_issue(server, tenant, page, other_page):
    agent = tenant.person("wang.fang", "王芳", "agent")
    manager = tenant.person("li.jing", "李静", "manager")
    customer = tenant.api("POST", "/customers", {**CUSTOMER, "name": CUSTOMER_NAME}, status=201)
    visit = tenant.api(
        "POST",
        "/visits",
        {
            "customer_id": customer.json()["id"],
            "reason": "key_account",
            "method": "phone",
            "due_date": DUE,
            "assignee": agent.staff_id,
        },
        status=201,
    ).json()

    # The manager: the period's visit is due and not done.
    manager_page = other_page
    sign_in(manager_page, server.base, manager)
    choose_language(manager_page, "en")
    show_period(manager_page, server.base)
    assert completion_row(manager_page) == ["0.0%", "0", "1"]
    shoot(manager_page, "kpis-before-visit")
    assert_accessible(manager_page)

    # The agent: the visit is overdue on their agenda.
    sign_in(page, server.base, agent)
    choose_language(page, "en")
    overdue = page.locator("section[aria-labelledby=overdue]")
    expect(overdue.get_by_role("heading")).to_have_text("Overdue visits 1")
    shoot(page, "agenda-with-overdue-visit")
    assert_accessible(page)

    overdue.get_by_role("link", name=CUSTOMER_NAME).click()
    page.wait_for_url(f"{server.base}/console/visits/{visit['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Visit: {CUSTOMER_NAME} Key account · Planned"
    )
    shoot(page, "visit-planned")
    assert_accessible(page)

    # The record, with one issue for the product department.
    form = page.locator("section[aria-labelledby=visit-record-form] form")
    form.get_by_label("Satisfied", exact=True).check()
    form.get_by_label("Yes", exact=True).check()
    form.get_by_label("Would recommend us (0–10)").fill("9")
    form.locator('[name="issues.0.category"]').select_option("product_quality")
    form.locator('[name="issues.0.description"]').fill(ISSUE)
    form.locator('[name="issues.0.department"]').fill("product")
    form.get_by_role("button", name="Record the visit").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Visit: {CUSTOMER_NAME} Key account · Completed"
    )
    issues = page.locator("section[aria-labelledby=visit-issues]")
    expect(issues.get_by_role("heading")).to_have_text("Issues 1")
    expect(issues.get_by_role("listitem")).to_contain_text(ISSUE)
    expect(issues.get_by_role("listitem")).to_contain_text("Product quality · product · Open")
    shoot(page, "visit-completed")
    assert_accessible(page)
    recorded = tenant.api("GET", f"/visits/{visit['id']}").json()
    assert recorded["status"] == "completed"
    assert recorded["satisfaction"] == "satisfied"
    assert recorded["recommend_score"] == 9
    assert recorded["repurchase_intent"] is True
    assert [(i["category"], i["department"], i["description"]) for i in recorded["issues"]] == [
        ("product_quality", "product", ISSUE)
    ]

    # The agenda changed: nothing overdue any more.
    page.get_by_role("navigation").get_by_role("link", name="My agenda").click()
    expect(overdue.get_by_role("heading")).to_have_text("Overdue visits 0")
    expect(overdue).to_contain_text("No overdue visits.")
    shoot(page, "agenda-after-visit")
    assert_accessible(page)

    # The manager's KPI page reflects it (the KPI store is eventually consistent).
    def reflected():
        manager_page.reload()
        return completion_row(manager_page) == ["100.0%", "1", "1"]

    wait_until(reflected, timeout=KPI_WAIT, interval=0.2, message="the visit on the KPI page")
    shoot(manager_page, "kpis-after-visit")
    assert_accessible(manager_page)

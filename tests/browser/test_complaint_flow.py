"""Issue #16, done-when 5, in a real browser: an agent records a major complaint with the
console's form and takes it from received to resolved, one step a form; the page shows its
time limits, each with its deadline and the time left, and then when each was met. Every
page is shot and checked for accessibility.

The time left is counted by the browser's clock, which the test sets (Playwright's clock):
2 h 5 min (and a half minute) before the first response is due.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.support.accessibility import assert_accessible
from tests.support.browser import expect, shoot
from tests.support.console_people import choose_language, sign_in
from tests.support.standalone import CUSTOMER

CUSTOMER_NAME = "华东贸易"
DESCRIPTION = "Cracks in the housing of the second batch"
RESOLUTION = "Batch replaced; supplier's moulding process corrected"
LIMITS = (
    ("First response", "first_response_by"),
    ("Plan", "plan_by"),
    ("Resolution", "resolve_by"),
)
STEPS = (
    ("Acknowledge", "Acknowledged"),
    ("Investigate", "Investigating"),
    ("Propose a solution", "Solution proposed"),
    ("Implement", "Implementing"),
)


def time_left(deadline: str, now: datetime) -> str:
    """What the page's countdown says at ``now``: days, hours and whole minutes left."""
    minutes = int((datetime.fromisoformat(deadline) - now).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    text = (f"{days}d " if days else "") + (f"{hours}h " if days or hours else "")
    return f"{text}{minutes}m left"


def limit_row(page, label: str):
    table = page.locator("section[aria-labelledby=limits] tbody")
    return table.locator("tr").filter(has=page.get_by_role("rowheader", name=label, exact=True))


def test_a_complaint_goes_from_received_to_resolved(server, tenant, page):
    agent = tenant.person("wang.fang", "王芳", "agent")
    tenant.api("POST", "/customers", {**CUSTOMER, "name": CUSTOMER_NAME}, status=201)
    sign_in(page, server.base, agent)
    choose_language(page, "en")
    page.get_by_role("navigation").get_by_role("link", name="Complaints").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Complaints")
    shoot(page, "complaints")
    assert_accessible(page)

    form = page.locator("section[aria-labelledby=record] form")
    form.get_by_label("Customer").select_option(label=CUSTOMER_NAME)
    form.get_by_label("Channel").select_option("phone")
    form.get_by_label("Severity").select_option("major")
    form.get_by_label("Category").fill("product_quality")
    form.get_by_label("Department").fill("product")
    form.get_by_label("Description").fill(DESCRIPTION)
    form.get_by_label("Assignee").select_option(agent.staff_id)
    form.get_by_role("button", name="Record the complaint").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Received")

    complaint_id = page.url.rsplit("/", 1)[-1]
    complaint = tenant.api("GET", f"/complaints/{complaint_id}").json()
    assert (complaint["status"], complaint["severity"], complaint["assignee"]) == (
        "received",
        "major",
        agent.staff_id,
    )
    assert page.url == f"{server.base}/console/complaints/{complaint_id}"
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Complaint {complaint['number']} Received"
    )

    # The limits, with the browser's clock 2 h 5 min before the first response is due.
    deadlines = complaint["deadlines"]
    now = datetime.fromisoformat(deadlines["first_response_by"]) - timedelta(minutes=125.5)
    now = now.replace(microsecond=0)
    page.clock.set_fixed_time(now)
    page.reload()
    for label, key in LIMITS:
        countdown = limit_row(page, label).locator("time.countdown")
        expect(countdown).to_have_attribute("datetime", deadlines[key])
        expect(countdown).to_have_text(time_left(deadlines[key], now))
    expect(limit_row(page, "First response").locator("time")).to_have_text("2h 5m left")
    shoot(page, "complaint-received")
    assert_accessible(page)

    for action, status in STEPS:
        page.get_by_role("form", name=action).get_by_role("button", name=action).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Complaint {complaint['number']} {status}"
        )
    shoot(page, "complaint-implementing")
    assert_accessible(page)

    resolve = page.get_by_role("form", name="Resolve")
    resolve.get_by_label("Resolution").fill(RESOLUTION)
    resolve.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Complaint {complaint['number']} Resolved"
    )
    # Each limit now says when it was met; no countdown is left.
    for label, _key in LIMITS:
        expect(limit_row(page, label).locator("td").last).to_contain_text("met at")
    expect(page.locator("time.countdown")).to_have_count(0)
    expect(page.locator("section[aria-labelledby=facts]")).to_contain_text(RESOLUTION)
    shoot(page, "complaint-resolved")
    assert_accessible(page)

    done = tenant.api("GET", f"/complaints/{complaint_id}").json()
    assert done["status"] == "resolved"
    assert done["resolution"] == RESOLUTION
    assert [entry["action"] for entry in done["ledger"]] == [
        "receive",
        "assign",
        "acknowledge",
        "investigate",
        "propose",
        "implement",
        "resolve",
    ]
    assert {entry["by"] for entry in done["ledger"][2:]} == {agent.staff_id}

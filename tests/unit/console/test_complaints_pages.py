"""The console's complaint pages (issue #16): the list with its filters and the intake form,
one complaint with its deadlines (tenant time), ledger, the steps the API allows now, pause
and resume, assignment; 409 and 422 shown on the page; a viewer sees no forms and a forged
POST is the API's 403; another tenant's complaint is a 404."""

from __future__ import annotations

import re

import pytest

from tests.support.console import add_person
from tests.support.customers import ACME
from tests.unit.console.conftest import new_tenant

INTAKE = {
    "channel": "phone",
    "severity": "major",
    "category": "product_quality",
    "department": "product",
    "description": "The pump stopped after two days.",
    "complainant": "Zhang San",
}
_ACTIONS = re.compile(r'name="action" value="([a-z_]+)"')
_LOCATION = re.compile(r"^/console/complaints/([^/]+)$")


def actions_offered(html: str) -> list[str]:
    return _ACTIONS.findall(html)


def text_of(html: str) -> str:
    """The page's text with tags dropped and blanks squeezed (to find a phrase)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def customer(tenant):
    created = tenant.admin.post("/customers", ACME)
    assert created.status_code == 201, created.json
    return created.json


@pytest.fixture
def small_customer(tenant):
    """A small, new customer: its complaints stay general (triage raises none)."""
    body = {**ACME, "name": "Little Shop", "annual_purchase_amount": 20000}
    created = tenant.admin.post("/customers", {**body, "cooperation_start": "2025-12-01"})
    assert created.status_code == 201, created.json
    return created.json


@pytest.fixture
def agent(tenant):
    add_person(tenant.admin, "wang.fang", role="agent", locale="en")
    console = tenant.console()
    assert console.sign_in(tenant.id, "wang.fang").status_code == 303
    return console


def record(console, customer_id: str, **fields) -> str:
    """The intake form sent from the list page; the new complaint's id."""
    assert console.get("/console/complaints").status_code == 200
    answer = console.post("/console/complaints", {"customer_id": customer_id, **INTAKE, **fields})
    assert answer.status_code == 303, console.page
    found = _LOCATION.match(answer.headers["Location"])
    assert found, answer.headers["Location"]
    return found.group(1)


def test_intake_records_a_complaint_and_shows_its_deadlines_in_tenant_time(tenant, customer, agent):
    complaint_id = record(agent, customer["id"], assignee="wang.fang")
    stored = tenant.admin.get(f"/complaints/{complaint_id}").json
    assert stored["number"] == "CMP-202603-00001"
    assert stored["customer_id"] == customer["id"] and stored["status"] == "received"
    assert stored["assignee"] == "wang.fang" and stored["complainant"] == "Zhang San"
    assert stored["deadlines"] == {
        "first_response_by": "2026-03-02T06:30:00+00:00",
        "plan_by": "2026-03-04T10:00:00+00:00",
        "resolve_by": "2026-03-16T10:00:00+00:00",
    }
    assert agent.get(f"/console/complaints/{complaint_id}").status_code == 200
    page = text_of(agent.page)
    assert "Complaint CMP-202603-00001" in page
    assert "Customer Acme Trading" in page and "Severity Major" in page
    assert "Assignee wang.fang" in page and "Received at Mar 2, 2026, 9:30:00 AM" in page
    # the limits in Shanghai time (UTC+8), each not met yet, with a live countdown
    assert "First response Mar 2, 2026, 2:30:00 PM not met" in page
    assert "Plan Mar 4, 2026, 6:00:00 PM not met" in page
    assert "Resolution Mar 16, 2026, 6:00:00 PM not met" in page
    assert '<time class="countdown" datetime="2026-03-02T06:30:00+00:00"' in agent.page
    assert actions_offered(agent.page) == ["acknowledge", "wait_customer"]


def test_the_list_shows_number_customer_and_next_limit_with_a_countdown(tenant, customer, agent):
    complaint_id = record(agent, customer["id"])
    assert agent.get("/console/complaints").status_code == 200
    page = text_of(agent.page)
    assert "CMP-202603-00001 Acme Trading Major Received First response:" in page
    assert f'href="/console/complaints/{complaint_id}"' in agent.page
    assert '<time class="countdown" datetime="2026-03-02T06:30:00+00:00"' in agent.page


def test_the_list_filters_by_status_and_by_me(tenant, customer, small_customer, agent):
    mine = record(agent, customer["id"], assignee="wang.fang")
    other = record(agent, small_customer["id"], severity="general", description="Late.")
    assert tenant.admin.get(f"/complaints/{other}").json["severity"] == "general"
    assert (
        tenant.admin.post(f"/complaints/{other}/transitions", {"action": "acknowledge"}).status_code
        == 200
    )
    agent.get("/console/complaints?status=acknowledged")
    assert "CMP-202603-00002" in agent.page and "CMP-202603-00001" not in agent.page
    assert '<option value="acknowledged" selected>' in agent.page
    agent.get("/console/complaints?assignee=me")
    assert "CMP-202603-00001" in agent.page and "CMP-202603-00002" not in agent.page
    agent.get("/console/complaints?severity=general&overdue=false")
    assert "CMP-202603-00002" in agent.page and "CMP-202603-00001" not in agent.page
    assert mine != other
    # a filter the API refuses: its message by the field, status 422
    answer = agent.get("/console/complaints?department=Not%20A%20Department")
    assert answer.status_code == 422
    assert 'id="filter-department"' in agent.page and 'aria-invalid="true"' in agent.page


def test_the_list_pages_by_cursor(tenant, customer, agent):
    for n in range(51):
        body = {"customer_id": customer["id"], **INTAKE, "description": f"case {n}"}
        assert tenant.admin.post("/complaints", body).status_code == 201
    agent.get("/console/complaints")
    assert agent.page.count('href="/console/complaints/') == 50
    found = re.search(r'href="(/console/complaints\?cursor=[^"]+)">Next page', agent.page)
    assert found and "First page" not in agent.page
    assert agent.get(found.group(1).replace("&amp;", "&")).status_code == 200
    assert agent.page.count('href="/console/complaints/') == 1
    assert "CMP-202603-00051" in agent.page and "Next page" not in agent.page
    assert "First page" in agent.page


def test_intake_with_a_missing_field_shows_its_error_and_records_nothing(tenant, customer, agent):
    agent.get("/console/complaints")
    answer = agent.post(
        "/console/complaints", {"customer_id": customer["id"], **INTAKE, "description": ""}
    )
    assert answer.status_code == 422
    assert 'id="f-description"' in agent.page
    assert 'aria-invalid="true" aria-describedby="description-error"' in agent.page
    assert 'id="description-error"' in agent.page
    assert 'value="Zhang San"' in agent.page  # what was typed is kept
    assert tenant.admin.get("/complaints").json["items"] == []


def test_a_complaint_goes_through_its_lifecycle_on_the_page(tenant, customer, agent):
    complaint_id = record(agent, customer["id"])
    path = f"/console/complaints/{complaint_id}"
    steps = [
        ("acknowledge", "acknowledged", ["acknowledge", "wait_customer"]),
        ("investigate", "investigating", ["investigate", "wait_customer"]),
        ("propose", "solution_proposed", ["propose", "wait_customer"]),
        ("implement", "implementing", ["propose", "implement", "wait_customer"]),
        ("resolve", "resolved", ["resolve", "propose", "wait_customer"]),
    ]
    for action, status, offered in steps:
        agent.get(path)
        assert actions_offered(agent.page) == offered, action
        form = {"action": action, "note": f"step {action}"}
        if action == "resolve":
            form["resolution"] = "Replaced the pump."
        answer = agent.post(f"{path}/transitions", form)
        assert answer.status_code == 303 and answer.headers["Location"] == path
        assert tenant.admin.get(f"/complaints/{complaint_id}").json["status"] == status
    agent.get(path)
    assert actions_offered(agent.page) == ["close", "reopen"]
    page = text_of(agent.page)
    assert "Complaint CMP-202603-00001 Resolved" in page
    assert "Resolution Replaced the pump." in page
    for action, label, status in [
        ("acknowledge", "Acknowledge", "Acknowledged"),
        ("investigate", "Investigate", "Investigating"),
        ("propose", "Propose a solution", "Solution proposed"),
        ("implement", "Implement", "Implementing"),
    ]:
        assert f"{label} → {status} wang.fang (product) step {action}" in page
    assert (
        "Resolve → Resolved wang.fang (product) resolution: Replaced the pump. step resolve" in page
    )
    # every limit met, on time (the clock stands still)
    assert "First response Mar 2, 2026, 2:30:00 PM met at Mar 2, 2026, 9:30:00 AM" in page
    assert "Resolution Mar 16, 2026, 6:00:00 PM met at Mar 2, 2026, 9:30:00 AM" in page
    assert 'class="countdown"' not in agent.page


def test_pause_and_resume_move_the_unmet_limits(tenant, small_customer, agent, clock):
    complaint_id = record(agent, small_customer["id"], severity="general")
    path = f"/console/complaints/{complaint_id}"
    agent.get(path)
    assert (
        agent.post(
            f"{path}/transitions", {"action": "wait_customer", "note": "asked for photos"}
        ).status_code
        == 303
    )
    agent.get(path)
    assert actions_offered(agent.page) == ["resume"]
    page = text_of(agent.page)
    assert "Complaint CMP-202603-00001 Waiting for the customer" in page
    assert "Paused since Mar 2, 2026, 9:30:00 AM, from Received" in page
    assert "Resolution Mar 9, 2026, 6:00:00 PM not met; the clock is paused" in page
    clock.advance(hours=2)  # 11:30: two working hours waiting
    assert agent.post(f"{path}/transitions", {"action": "resume"}).status_code == 303
    agent.get(path)
    assert actions_offered(agent.page) == ["acknowledge", "wait_customer"]
    page = text_of(agent.page)
    assert "Complaint CMP-202603-00001 Received" in page
    stored = tenant.admin.get(f"/complaints/{complaint_id}").json
    assert stored["status"] == "received" and stored["paused_working_hours"] == 2.0
    assert stored["deadlines"]["resolve_by"] == "2026-03-10T03:00:00+00:00"  # 2 h later
    assert "Resolution Mar 10, 2026, 11:00:00 AM not met" in page
    assert "Paused in total 2.0 working hours" in page
    assert "Pause: wait for the customer → Waiting for the customer wang.fang" in page
    assert "Resume → Received wang.fang" in page


def test_resolve_without_a_resolution_is_a_422_with_the_field_error(tenant, customer, agent):
    complaint_id = record(agent, customer["id"])
    for action in ("acknowledge", "investigate", "propose", "implement"):
        answer = tenant.admin.post(f"/complaints/{complaint_id}/transitions", {"action": action})
        assert answer.status_code == 200
    path = f"/console/complaints/{complaint_id}"
    agent.get(path)
    answer = agent.post(f"{path}/transitions", {"action": "resolve", "note": "done"})
    assert answer.status_code == 422
    assert 'id="f-resolve-resolution"' in agent.page
    assert 'aria-describedby="f-resolve-resolution-error"' in agent.page
    assert "required to resolve a complaint" in agent.page
    assert ">done</textarea>" in agent.page  # the note typed is kept
    assert tenant.admin.get(f"/complaints/{complaint_id}").json["status"] == "implementing"


def test_a_stale_step_is_a_409_with_the_apis_message(tenant, customer, agent):
    complaint_id = record(agent, customer["id"])
    path = f"/console/complaints/{complaint_id}"
    agent.get(path)
    assert actions_offered(agent.page) == ["acknowledge", "wait_customer"]
    # someone else acknowledges it meanwhile; the page's button is stale
    answer = tenant.admin.post(f"/complaints/{complaint_id}/transitions", {"action": "acknowledge"})
    assert answer.status_code == 200
    answer = agent.post(f"{path}/transitions", {"action": "acknowledge"})
    assert answer.status_code == 409
    assert 'class="problem" role="alert"' in agent.page
    assert "Not done: cannot acknowledge a complaint that is acknowledged" in agent.page
    assert actions_offered(agent.page) == ["investigate", "wait_customer"]  # as it is now
    ledger = tenant.admin.get(f"/complaints/{complaint_id}").json["ledger"]
    assert [entry["action"] for entry in ledger] == ["receive", "acknowledge"]


def test_the_assign_form_gives_the_complaint_to_a_person(tenant, customer, agent):
    add_person(tenant.admin, "li.wei", role="agent")
    complaint_id = record(agent, customer["id"])
    path = f"/console/complaints/{complaint_id}"
    agent.get(path)
    assert '<option value="li.wei">Li Wei (li.wei)</option>' in agent.page
    answer = agent.post(f"{path}/assign", {"assignee": "li.wei"})
    assert answer.status_code == 303 and answer.headers["Location"] == path
    assert tenant.admin.get(f"/complaints/{complaint_id}").json["assignee"] == "li.wei"
    agent.get(path)
    page = text_of(agent.page)
    assert "Assignee li.wei" in page and "Assigned → Received wang.fang" in page
    assert agent.post(f"{path}/assign", {"assignee": "Not An Id"}).status_code == 422
    assert 'id="assignee-error"' in agent.page
    assert tenant.admin.get(f"/complaints/{complaint_id}").json["assignee"] == "li.wei"


def test_a_viewer_sees_no_forms_and_a_forged_post_is_refused(tenant, customer, agent):
    complaint_id = record(agent, customer["id"])
    add_person(tenant.admin, "zhao.min", role="viewer", locale="en")
    viewer = tenant.console()
    assert viewer.sign_in(tenant.id, "zhao.min").status_code == 303
    assert viewer.get("/console/complaints").status_code == 200
    assert "CMP-202603-00001" in viewer.page
    assert "Record a complaint" not in viewer.page and 'name="description"' not in viewer.page
    path = f"/console/complaints/{complaint_id}"
    assert viewer.get(path).status_code == 200
    assert actions_offered(viewer.page) == [] and "/assign" not in viewer.page
    assert "Ledger" in viewer.page
    forged = viewer.post(f"{path}/transitions", {"action": "acknowledge"})
    assert forged.status_code == 403 and "Your role may not do this." in viewer.page
    assert viewer.post(f"{path}/assign", {"assignee": "zhao.min"}).status_code == 403
    viewer.get("/console/complaints")
    body = {"customer_id": customer["id"], **INTAKE}
    assert viewer.post("/console/complaints", body).status_code == 403
    stored = tenant.admin.get(f"/complaints/{complaint_id}").json
    assert stored["status"] == "received" and stored["assignee"] is None
    assert len(tenant.admin.get("/complaints").json["items"]) == 1


def test_another_tenants_complaint_is_a_404(system, tenant, agent):
    other = new_tenant(system)
    theirs = other.admin.post("/customers", ACME).json
    body = {"customer_id": theirs["id"], **INTAKE}
    complaint = other.admin.post("/complaints", body).json
    path = f"/console/complaints/{complaint['id']}"
    assert agent.get(path).status_code == 404
    assert "Not found, or not your organisation&#39;s." in agent.page
    agent.get("/console/complaints")
    assert agent.post(f"{path}/transitions", {"action": "acknowledge"}).status_code == 404
    assert other.admin.get(f"/complaints/{complaint['id']}").json["status"] == "received"
    # nor may the intake name another tenant's customer
    agent.get("/console/complaints")
    answer = agent.post("/console/complaints", body)
    assert answer.status_code == 404
    assert 'class="problem" role="alert"' in agent.page and 'id="f-description"' in agent.page
    assert tenant.admin.get("/complaints").json["items"] == []


def test_the_pages_speak_chinese(tenant, customer):
    add_person(tenant.admin, "wang.fang", role="agent", locale="zh-CN")
    console = tenant.console()
    assert console.sign_in(tenant.id, "wang.fang").status_code == 303
    complaint_id = record(console, customer["id"])
    assert console.get(f"/console/complaints/{complaint_id}").status_code == 200
    page = text_of(console.page)
    assert "投诉 CMP-202603-00001 已受理" in page and "处理台账" in page
    assert "首次响应 2026年3月2日 14:30:00 未达成" in page and "已受理 → 已受理 wang.fang" in page


def test_a_limit_missed_is_overdue_then_met_late_and_escalated(tenant, customer, agent, clock):
    complaint_id = record(agent, customer["id"])
    clock.advance(hours=6)  # 15:30: the first response (14:30) is past
    agent.get("/console/complaints?overdue=true")
    assert "CMP-202603-00001" in agent.page
    agent.get("/console/complaints?overdue=false")
    assert "CMP-202603-00001" not in agent.page
    path = f"/console/complaints/{complaint_id}"
    agent.get(path)
    assert "First response Mar 2, 2026, 2:30:00 PM not met" in text_of(agent.page)
    assert agent.post(f"{path}/transitions", {"action": "acknowledge"}).status_code == 303
    agent.get(path)
    page = text_of(agent.page)
    assert (
        "First response Mar 2, 2026, 2:30:00 PM met late, at Mar 2, 2026, 3:30:00 PM · escalated"
        in page
    )
    assert "Plan Mar 4, 2026, 6:00:00 PM not met" in page
    assert "Escalated → Received system (product) first_response limit missed" in page

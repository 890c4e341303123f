"""The console's audit sample: supervisors see the completed, unaudited visits up for review
with what was recorded, and mark each accurate or not; anyone else is refused by the role
table and the API, and a forged mark changes nothing."""

from __future__ import annotations

import re

import pytest

from tests.support.console import add_person
from tests.unit.console.conftest import new_tenant
from tests.unit.console.test_kpis_pages import completed_visit


def form_token(page: str, action: str) -> str:
    """The CSRF token inside the form posting to ``action`` (as the browser sends it)."""
    form = re.search(rf'<form method="post" action="{re.escape(action)}">(.*?)</form>', page, re.S)
    assert form, f"no form to {action}"
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.group(1))
    assert token, f"the form to {action} has no CSRF token"
    return token.group(1)


def audit_of(admin, visit_id: str):
    answer = admin.get(f"/visits/{visit_id}")
    assert answer.status_code == 200, answer.json
    return answer.json["audit"]


def test_an_auditor_marks_a_visit_accurate(running, tenant):
    add_person(tenant.admin, "zhao.lei", role="auditor", locale="en")
    record = {"ratings": {"sales_attitude": 4}, "needs": "<b>spare parts</b>"}
    visit_id = completed_visit(tenant.admin, "zhao.lei", record)
    console = tenant.console()
    console.sign_in(tenant.id, "zhao.lei")
    assert console.get("/console/audit").status_code == 200
    page = console.page
    assert f'action="/console/audit/{visit_id}"' in page
    assert "Huadong Trading" in page  # the customer's name, not its id
    # what was recorded, escaped
    assert "<dd>Satisfied</dd>" in page
    assert "<dd>Sales: attitude: 4</dd>" in page
    assert "<dd>&lt;b&gt;spare parts&lt;/b&gt;</dd>" in page
    action = f"/console/audit/{visit_id}"
    token = form_token(page, action)
    answer = console.post(action, {"accurate": "true", "note": "checked"}, csrf=token)
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(f"/console/audit?done={visit_id}")
    audit = audit_of(tenant.admin, visit_id)
    assert audit["accurate"] is True and audit["note"] == "checked"
    assert audit["auditor"] == "zhao.lei"
    assert console.get(answer.headers["Location"]).status_code == 200
    assert 'id="done"' in console.page
    assert "<strong>Accurate</strong>" in console.page
    assert f'action="/console/audit/{visit_id}"' not in console.page  # out of the sample


def test_a_manager_marks_a_visit_not_accurate(running, tenant):
    add_person(tenant.admin, "li.na", role="manager", locale="en")
    visit_id = completed_visit(tenant.admin, "li.na")
    console = tenant.console()
    console.sign_in(tenant.id, "li.na")
    console.get("/console/audit")
    answer = console.post(f"/console/audit/{visit_id}", {"accurate": "false"})
    assert answer.status_code == 303
    audit = audit_of(tenant.admin, visit_id)
    assert audit["accurate"] is False and audit["note"] is None
    console.get(answer.headers["Location"])
    assert "<strong>Not accurate</strong>" in console.page


def test_a_too_long_note_shows_the_field_error_and_changes_nothing(running, tenant):
    add_person(tenant.admin, "zhao.lei", role="auditor", locale="en")
    visit_id = completed_visit(tenant.admin, "zhao.lei")
    console = tenant.console()
    console.sign_in(tenant.id, "zhao.lei")
    console.get("/console/audit")
    answer = console.post(f"/console/audit/{visit_id}", {"accurate": "true", "note": "x" * 2001})
    assert answer.status_code == 422
    assert f'aria-describedby="note-{visit_id}-error"' in console.page
    assert f'<p class="field-error" id="note-{visit_id}-error">' in console.page
    assert "x" * 2001 in console.page  # what was typed is kept
    assert audit_of(tenant.admin, visit_id) is None


def test_a_mark_without_a_choice_is_a_400(running, tenant):
    add_person(tenant.admin, "zhao.lei", role="auditor", locale="en")
    visit_id = completed_visit(tenant.admin, "zhao.lei")
    console = tenant.console()
    console.sign_in(tenant.id, "zhao.lei")
    console.get("/console/audit")
    answer = console.post(f"/console/audit/{visit_id}", {"accurate": "maybe"})
    assert answer.status_code == 400
    assert "Choose accurate or not accurate." in console.page
    assert audit_of(tenant.admin, visit_id) is None


def test_a_second_mark_is_a_409(running, tenant):
    add_person(tenant.admin, "zhao.lei", role="auditor", locale="en")
    visit_id = completed_visit(tenant.admin, "zhao.lei")
    console = tenant.console()
    console.sign_in(tenant.id, "zhao.lei")
    console.get("/console/audit")
    assert console.post(f"/console/audit/{visit_id}", {"accurate": "true"}).status_code == 303
    console.get("/console/audit")
    answer = console.post(f"/console/audit/{visit_id}", {"accurate": "false"})
    assert answer.status_code == 409
    assert 'class="problem" role="alert"' in console.page
    assert audit_of(tenant.admin, visit_id)["accurate"] is True


@pytest.mark.parametrize("role", ["agent", "viewer"])
def test_others_may_not_see_the_sample(system, tenant, role):
    add_person(tenant.admin, "wang.fang", role=role, locale="en")
    console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    assert console.get("/console/audit").status_code == 403
    assert "Your role may not do this." in console.page
    console.get("/console/")
    assert 'href="/console/audit"' not in console.page  # not in their menu


def test_a_viewers_forged_mark_is_refused_and_changes_nothing(running, tenant):
    add_person(tenant.admin, "wang.fang", role="viewer", locale="en")
    visit_id = completed_visit(tenant.admin, "wang.fang")
    console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    console.get("/console/")  # a page with the session's CSRF token
    answer = console.post(f"/console/audit/{visit_id}", {"accurate": "true"})
    assert answer.status_code == 403
    assert audit_of(tenant.admin, visit_id) is None


def test_another_tenants_visit_is_a_404(running, tenant):
    other = new_tenant(running)
    theirs = completed_visit(other.admin, None)
    add_person(tenant.admin, "zhao.lei", role="auditor", locale="en")
    console = tenant.console()
    console.sign_in(tenant.id, "zhao.lei")
    console.get("/console/audit")
    assert console.post(f"/console/audit/{theirs}", {"accurate": "true"}).status_code == 404
    assert audit_of(other.admin, theirs) is None
    # nor is it shown as the one just audited
    assert console.get(f"/console/audit?done={theirs}").status_code == 200
    assert 'id="done"' not in console.page

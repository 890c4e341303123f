"""The console's KPI page: the period's rates as charts and tables with their counts, groups,
and the staff ranking for the roles the role table lets read it. KPIs come from events, so
the system runs its relays and consumers here and the tests wait (bounded) for the kpi
service to count what the API accepted."""

from __future__ import annotations

import re

from gateway_service import domain
from tests.support.console import add_person
from tests.support.polling import wait_until

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}  # the clock's month (2026-03-02)
CUSTOMER = {
    "name": "Huadong Trading",
    "type": "dealer",
    "region": "east",
    "annual_purchase_amount": 500000,
    "cooperation_start": "2019-03-01",
}


def completed_visit(admin, assignee: str | None, record: dict | None = None) -> str:
    """A customer, and a visit to them (assigned to ``assignee``), due in March and
    completed now (2026-03-02), satisfied, with ``record``'s other fields; its id."""
    customer = admin.post("/customers", CUSTOMER)
    assert customer.status_code == 201, customer.json
    body = {
        "customer_id": customer.json["id"],
        "reason": "periodic",
        "method": "phone",
        "due_date": "2026-03-05",
        **({"assignee": assignee} if assignee else {}),
    }
    # the visit service learns of the customer from the bus
    planned = wait_until(
        lambda: (answer := admin.post("/visits", body)).status_code == 201 and answer,
        timeout=30,  # generous: a busy machine (the suite beside another) is slow
        message="the visit service knows the customer",
    )
    done = admin.post(
        f"/visits/{planned.json['id']}/complete", {"satisfaction": "satisfied", **(record or {})}
    )
    assert done.status_code == 200, done.json
    return planned.json["id"]


def counted(admin, visits_completed: int) -> None:
    """Wait (bounded) until the kpi service has counted ``visits_completed`` visits due and
    completed in March."""

    def probe():
        answer = admin.get("/kpis?from=2026-03-01&to=2026-03-31")
        assert answer.status_code == 200, answer.json
        counts = answer.json["counts"]
        return counts["visits_due"] == counts["visits_completed"] == visits_completed

    wait_until(probe, timeout=30, message=f"the kpi service counted {visits_completed} visits")


def rate_row(page: str, label: str) -> tuple[str, str, str]:
    """(value, counted, out of) of the rate table's row ``label``."""
    found = re.search(
        rf'<th scope="row">{re.escape(label)}</th>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>'
        rf"\s*<td>([^<]*)</td>",
        page,
    )
    assert found, f"no row {label!r}"
    return found.groups()


def test_a_completed_visit_shows_as_full_visit_completion(running, tenant):
    add_person(tenant.admin, "li.na", role="manager", locale="en")
    add_person(tenant.admin, "wang.fang")
    completed_visit(tenant.admin, "wang.fang")
    counted(tenant.admin, 1)
    console = tenant.console()
    console.sign_in(tenant.id, "li.na")
    answer = console.get("/console/kpis")
    assert answer.status_code == 200
    page = console.page
    # the default period is the clock's month in the tenant's zone
    assert 'name="from" type="date" value="2026-03-01"' in page
    assert 'name="to" type="date" value="2026-03-31"' in page
    assert rate_row(page, "Visit completion") == ("100.0%", "1", "1")
    assert rate_row(page, "Satisfaction") == ("100.0%", "1", "1")
    assert rate_row(page, "Record accuracy") == ("—", "0", "0")
    # the chart says the same, as an accessible image
    assert '<title id="kpi-rates-title">Rates of the period</title>' in page
    assert "Visit completion 100.0%" in page  # the chart's description
    assert 'role="img"' in page
    # the ranking, for a manager
    assert 'id="ranking"' in page
    row = re.search(
        r"<tr>\s*<td>(\d+)</td>\s*<th scope=\"row\">([^<]*)</th>\s*<td>([^<]*)</td>", page
    )
    assert row and row.groups()[:2] == ("1", "Wang Fang")


def test_another_period_has_nothing_to_count(running, tenant):
    add_person(tenant.admin, "li.na", role="manager", locale="en")
    completed_visit(tenant.admin, "li.na")
    counted(tenant.admin, 1)
    console = tenant.console()
    console.sign_in(tenant.id, "li.na")
    assert console.get("/console/kpis?from=2026-02-01&to=2026-02-28").status_code == 200
    assert rate_row(console.page, "Visit completion") == ("—", "0", "0")
    assert "Nobody to rank in this period." in console.page


def test_grouped_by_assignee_each_person_has_a_row_and_bars(running, tenant):
    add_person(tenant.admin, "li.na", role="manager", locale="en")
    completed_visit(tenant.admin, "li.na")
    counted(tenant.admin, 1)
    console = tenant.console()
    console.sign_in(tenant.id, "li.na")
    answer = console.get("/console/kpis?from=2026-03-01&to=2026-03-31&group_by=assignee")
    assert answer.status_code == 200
    page = console.page
    assert '<option value="assignee" selected>Person</option>' in page
    assert '<h2 id="groups">By Person</h2>' in page
    assert re.search(
        r'<th scope="row">Li Na</th>\s*<td>100\.0% <span class="meta">1/1</span>', page
    )
    assert '<title id="kpi-groups-title">Rates by group</title>' in page
    assert "Li Na: Visit completion 100.0%, Satisfaction 100.0%" in page


def test_a_bad_period_shows_the_field_error_with_422(system, tenant):
    add_person(tenant.admin, "li.na", role="manager", locale="en")
    console = tenant.console()
    console.sign_in(tenant.id, "li.na")
    answer = console.get("/console/kpis?from=2026-03-31&to=2026-03-01")
    assert answer.status_code == 422
    assert 'id="f-to"' in console.page
    assert 'aria-invalid="true" aria-describedby="to-error"' in console.page
    assert '<p class="field-error" id="to-error">must not be before from</p>' in console.page
    assert 'id="rates"' not in console.page


def test_the_ranking_is_shown_as_the_role_table_says(system, tenant):
    add_person(tenant.admin, "wang.fang", role="agent", locale="en")
    console = tenant.console()
    console.sign_in(tenant.id, "wang.fang")
    answer = console.get("/console/kpis")
    assert answer.status_code == (200 if domain.allowed("agent", "GET", "/kpis") else 403)
    shows = 'id="ranking"' in console.page
    assert shows == domain.allowed("agent", "GET", "/kpis/ranking")


def test_a_department_may_not_read_kpis(system, tenant):
    assert not domain.allowed("department", "GET", "/kpis")
    add_person(tenant.admin, "qa.desk", role="department", department="quality", locale="en")
    console = tenant.console()
    console.sign_in(tenant.id, "qa.desk")
    assert console.get("/console/kpis").status_code == 403
    assert "Your role may not do this." in console.page


def test_zh_cn_shows_translated_labels(system, tenant):
    add_person(tenant.admin, "li.na", role="manager", locale="zh-CN")
    console = tenant.console()
    console.sign_in(tenant.id, "li.na")
    assert console.get("/console/kpis").status_code == 200
    assert "回访完成率" in console.page

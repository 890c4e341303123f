"""GET /visits/export: the list's visits as CSV (UTF-8 with BOM) or XLSX."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from revisit_common.identity import STAFF_HEADER
from tests.support.client import Client
from tests.support.exports import csv_rows
from tests.support.visits import PAST, plan


def test_csv_with_the_list_filters_sort_and_derived_overdue(client, customer):
    late = plan(client, customer, assignee="wang.fang", due_date=PAST, trigger="a", notes="x")
    later = plan(client, customer, assignee="wang.fang", due_date="2099-01-01", trigger="b")
    plan(client, customer, assignee="li.wei", due_date="2099-01-02", trigger="c")
    r = client.get(
        "/api/v1/visits/export",
        query_string={"assignee": "me", "sort": "-due_date"},
        headers={STAFF_HEADER: "wang.fang"},
    )
    assert r.headers["Content-Disposition"].startswith('attachment; filename="visits-')
    rows = csv_rows(r)
    assert [row["id"] for row in rows] == [later["id"], late["id"]]
    assert [row["overdue"] for row in rows] == ["false", "true"]
    assert rows[1]["due_date"] == PAST and rows[1]["status"] == "planned"
    assert client.get("/api/v1/visits/export?overdue=true").status_code == 200
    assert len(csv_rows(client.get("/api/v1/visits/export?overdue=true"))) == 1


def test_xlsx_with_a_completed_record_in_chinese(client, customer):
    visit = plan(client, customer, trigger="a")
    record = {
        "satisfaction": "satisfied",
        "service_feedback": "送货很快，服务周到",
        "product_feedback": {"performance": "稳定"},
        "recommend_score": 9,
    }
    assert client.post(f"/api/v1/visits/{visit['id']}/complete", record).status_code == 200
    r = client.get("/api/v1/visits/export?format=xlsx&status=completed")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.get_data()), read_only=True).worksheets[0]
    header, row = [list(values) for values in sheet.iter_rows(values_only=True)]
    got = dict(zip(header, row, strict=False))  # read-only rows end at their last value
    assert got["service_feedback"] == "送货很快，服务周到"
    assert "稳定" in got["product_feedback"]
    assert (got["status"], got["recommend_score"], got["overdue"]) == ("completed", 9, False)


def test_department_keys_and_other_tenants_see_nothing(app, client, customer):
    plan(client, customer, trigger="a")
    department = Client(app, role="department", department="quality")
    assert department.get("/api/v1/visits/export").status_code == 403
    other = Client(app, tenant="tenant-b")
    assert csv_rows(other.get("/api/v1/visits/export")) == []

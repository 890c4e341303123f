"""GET /complaints/export: the list's complaints as CSV (UTF-8 with BOM) or XLSX."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from revisit_common.identity import STAFF_HEADER
from tests.support.complaints import ComplaintClient
from tests.support.exports import csv_rows


def test_csv_with_the_list_filters(client):
    first = client.create(description="泵两天后就停了", complainant="张三")
    client.create(severity="major", department="sales")
    r = client.get("/api/v1/complaints/export", query_string={"severity": "general"})
    assert r.headers["Content-Disposition"].startswith('attachment; filename="complaints-')
    [row] = csv_rows(r)
    assert (row["id"], row["number"], row["status"]) == (first["id"], first["number"], "received")
    assert (row["description"], row["complainant"]) == ("泵两天后就停了", "张三")
    assert row["resolve_by"] == first["deadlines"]["resolve_by"]


def test_xlsx_reads_back_with_chinese_text(client):
    client.create(description="交货延迟两周", category="delivery")
    r = client.get("/api/v1/complaints/export?format=xlsx")
    sheet = load_workbook(io.BytesIO(r.get_data()), read_only=True).worksheets[0]
    header, row = [list(values) for values in sheet.iter_rows(values_only=True)]
    got = dict(zip(header, row, strict=False))
    assert (got["description"], got["category"]) == ("交货延迟两周", "delivery")


def test_a_department_key_exports_its_own_department_only(app, client):
    client.create(department="product")
    client.create(department="sales")
    department = ComplaintClient(app, role="department", department="sales")
    rows = csv_rows(department.get("/api/v1/complaints/export"))
    assert [row["department"] for row in rows] == ["sales"]


def test_bad_arguments_are_422(client):
    for query in ({"format": "pdf"}, {"cursor": "x"}, {"severity": "huge"}):
        r = client.get("/api/v1/complaints/export", query_string=query)
        assert (r.status_code, r.content_type) == (422, "application/problem+json"), query


def test_assignee_me_is_the_calling_person(app, client):
    mine = client.create(assignee="wang.fang")
    client.create(assignee="li.wei")
    me = ComplaintClient(app, role="agent")
    r = me.get("/api/v1/complaints/export?assignee=me", headers={STAFF_HEADER: "wang.fang"})
    assert [(row["id"], row["assignee"]) for row in csv_rows(r)] == [(mine["id"], "wang.fang")]
    assert me.get("/api/v1/complaints/export?assignee=me").status_code == 422  # a key of nobody

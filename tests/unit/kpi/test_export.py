"""GET /kpis/export: the figures of GET /kpis, one row per KPI, as CSV or XLSX."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from kpi_service.transfer import kpi_rows
from tests.support.exports import csv_rows

from .test_api import JAN, small_truth


@pytest.fixture
def fed(feed):
    feed(*small_truth().events("tenant-a"))


def test_one_row_per_kpi_with_its_counts_and_value(client, fed):
    body = client.kpis(**JAN)
    r = client.get("/api/v1/kpis/export", query_string=JAN)
    assert r.headers["Content-Disposition"].startswith('attachment; filename="kpis-')
    rows = {row["kpi"]: row for row in csv_rows(r)}
    completion = rows["visit_completion_rate"]
    assert (completion["numerator"], completion["denominator"], completion["value"]) == (
        "3",
        "4",
        "0.75",
    )
    assert (completion["period_from"], completion["period_to"]) == ("2026-01-01", "2026-01-31")
    assert rows["record_accuracy_rate"]["value"] == ""  # no audits: no value
    assert rows["nps"]["denominator"] == "3"
    for name in ("customer_visit_completion_rate", "sales_growth_rate", "satisfaction_change"):
        assert name in rows
    for name, row in rows.items():  # every figure is the one GET /kpis answers
        want = body[name]
        assert row["value"] == ("" if want is None else str(want)), name


def test_grouped_rows_follow_the_tenants(client, fed):
    body = client.kpis(**JAN, group_by="region")
    rows = csv_rows(client.get("/api/v1/kpis/export", query_string={**JAN, "group_by": "region"}))
    grouped = [row for row in rows if row["group_by"] == "region"]
    assert {row["group"] for row in grouped} == {group["key"] for group in body["groups"]}
    east = {row["kpi"]: row for row in grouped if row["group"] == "east"}
    [group] = [g for g in body["groups"] if g["key"] == "east"]
    assert east["visit_completion_rate"]["value"] == str(group["visit_completion_rate"])


def test_xlsx_numbers_read_back(client, fed):
    r = client.get("/api/v1/kpis/export", query_string={**JAN, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(r.get_data()), read_only=True).worksheets[0]
    header, *rows = [list(values) for values in sheet.iter_rows(values_only=True)]
    assert header[4:] == ["kpi", "numerator", "denominator", "value"]
    by_kpi = {row[4]: row for row in rows}
    assert by_kpi["visit_completion_rate"][5:8] == [3, 4, 0.75]


def test_a_bad_period_is_422_before_any_file(client):
    r = client.get("/api/v1/kpis/export", query_string={"from": "2026-02-01", "to": "2026-01-01"})
    assert (r.status_code, r.content_type) == (422, "application/problem+json")
    r = client.get("/api/v1/kpis/export", query_string={"format": "pdf"})
    assert r.status_code == 422


def test_kpi_rows_of_an_empty_period():
    body = {
        "period": {"from": "2026-01-01", "to": "2026-01-31"},
        "counts": {},
        "groups": [{"key": None, "counts": {"visits_due": 2, "visits_completed": 1}}],
        "visit_completion_rate": None,
    }
    rows = list(kpi_rows(body, "assignee"))
    assert rows[0] == ["2026-01-01", "2026-01-31", None, None, "visit_completion_rate", 0, 0, None]
    grouped = [row for row in rows if row[2] == "assignee"]
    assert grouped[0][3:7] == [None, "visit_completion_rate", 1, 2]
    assert "sales_growth_rate" not in {row[4] for row in grouped}  # the tenant's only

"""GET /customers/export: the list's customers as CSV (UTF-8 with BOM) or XLSX."""

from __future__ import annotations

import io

from tests.support.exports import csv_rows, xlsx_rows
from tests.support.system import CUSTOMER


def add(client, **fields):
    r = client.post("/api/v1/customers", {**CUSTOMER, **fields})
    assert r.status_code == 201, r.json
    return r.json


def test_csv_with_bom_chinese_text_and_the_list_filters(client):
    east = add(client, name="华东贸易有限公司", region="华东", owner="王芳", external_id="ERP-1")
    add(client, name="Northern Works", region="north")
    r = client.get("/api/v1/customers/export", query_string={"region": "华东"})
    assert r.status_code == 200
    assert r.content_type == "text/csv; charset=utf-8"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="customers-') and ".csv" in disposition
    [row] = csv_rows(r)
    assert (row["id"], row["name"], row["region"], row["owner"]) == (
        east["id"],
        "华东贸易有限公司",
        "华东",
        "王芳",
    )
    assert (row["external_id"], row["annual_purchase_amount"]) == ("ERP-1", "500000.00")
    assert row["grade"] == east["grade"]


def test_xlsx_reads_back_with_chinese_text(client):
    add(client, name="深圳电子", address="深圳市南山区", legal_dispute=True)
    r = client.get("/api/v1/customers/export?format=xlsx")
    assert r.status_code == 200
    assert r.content_type.startswith("application/vnd.openxmlformats")
    assert ".xlsx" in r.headers["Content-Disposition"]
    header, row = xlsx_rows(r)
    record = dict(zip(header, row, strict=True))
    assert (record["name"], record["address"]) == ("深圳电子", "深圳市南山区")
    assert record["legal_dispute"] is True
    assert record["annual_purchase_amount"] == 500000
    assert record["cooperation_start"] == "2019-03-01"


def test_text_that_looks_like_a_formula_stays_text(client):
    add(client, name='=HYPERLINK("http://x")', owner="+86 138")
    [row] = csv_rows(client.get("/api/v1/customers/export"))
    assert (row["name"], row["owner"]) == ('\'=HYPERLINK("http://x")', "'+86 138")
    header, values = xlsx_rows(client.get("/api/v1/customers/export?format=xlsx"))
    workbook_row = dict(zip(header, values, strict=True))
    assert workbook_row["name"] == '=HYPERLINK("http://x")'  # a string cell, not a formula


def test_an_export_imports_again_as_updates(client):
    add(client, name="华东贸易", external_id="ERP-1")
    add(client, name="北方机械", external_id="ERP-2", owner="=li")
    exported = client.get("/api/v1/customers/export").get_data()
    r = client.post(
        "/api/v1/customers/import",
        data={"file": (io.BytesIO(exported), "customers.csv")},
        content_type="multipart/form-data",
    )
    assert r.json == {"created": 0, "updated": 2, "errors": []}
    owners = {c["name"]: c["owner"] for c in client.get("/api/v1/customers").json["items"]}
    assert owners == {"华东贸易": None, "北方机械": "=li"}


def test_bad_arguments_are_422(client):
    for query in ({"format": "pdf"}, {"limit": "5"}, {"grade": "Z"}, {"colour": "red"}):
        r = client.get("/api/v1/customers/export", query_string=query)
        assert (r.status_code, r.content_type) == (422, "application/problem+json"), query

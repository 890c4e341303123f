"""The console's import and export page (issue #16): customers imported from a CSV or XLSX
file (a dry run writes nothing; a file with a bad row writes nothing and shows the row's
error) and the API's exports streamed to the browser, all as the signed-in person."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook, load_workbook

from tests.support.console import add_person
from tests.unit.console.test_customers_pages import Structure

pytestmark = pytest.mark.usefixtures("system")

HEADER = "name,type,region,annual_purchase_amount,cooperation_start,external_id\n"
GOOD_ROWS = (
    "上海精密机械,dealer,East,2000000,2019-01-01,ERP-1\n"
    "成都工具,end_user,West,50000,2025-06-01,ERP-2\n"
)
BAD_ROW = "Harbin Parts,wholesaler,North,300000,2022-01-01,ERP-3\n"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def signed_in(tenant, role="agent", staff_id="wang.fang", **extra):
    """A console signed in as a new person with ``role`` who reads English."""
    add_person(tenant.admin, staff_id, role=role, locale="en", **extra)
    console = tenant.console()
    assert console.sign_in(tenant.id, staff_id).status_code == 303
    return console


def customers_of(tenant) -> dict[str, dict]:
    answer = tenant.admin.get("/customers?limit=500")
    assert answer.status_code == 200
    return {customer["name"]: customer for customer in answer.json["items"]}


def upload(console, text: str, filename="customers.csv", dry_run=False):
    console.get("/console/transfer")
    data = {"file": (io.BytesIO(text.encode("utf-8")), filename)}
    if dry_run:
        data["dry_run"] = "on"
    return console.post("/console/transfer/import", data, content_type="multipart/form-data")


def test_the_page_offers_an_import_and_every_export(tenant):
    console = signed_in(tenant)
    assert console.get("/console/transfer").status_code == 200
    assert (
        'method="post" action="/console/transfer/import" enctype="multipart/form-data"'
        in console.page
    )
    assert '<input id="f-file" name="file" type="file"' in console.page
    assert '<label for="f-dry_run">' in console.page
    for what in ("customers", "visits", "complaints", "kpis"):
        for fmt in ("csv", "xlsx"):
            assert f'href="/console/export/{what}.{fmt}"' in console.page


def test_a_dry_run_counts_and_writes_nothing(tenant):
    console = signed_in(tenant)
    answer = upload(console, HEADER + GOOD_ROWS, dry_run=True)
    assert answer.status_code == 200
    assert (
        "Checked customers.csv: 2 customers would be registered and 0 updated. Nothing was written."
        in console.page
    )
    assert customers_of(tenant) == {}


def test_an_import_registers_and_then_updates_by_external_id(tenant):
    console = signed_in(tenant)
    answer = upload(console, "\ufeff" + HEADER + GOOD_ROWS)  # Excel's CSV UTF-8 has a BOM
    assert answer.status_code == 200
    assert "Imported customers.csv: 2 customers registered, 0 updated." in console.page
    stored = customers_of(tenant)
    assert set(stored) == {"上海精密机械", "成都工具"}
    assert stored["上海精密机械"]["external_id"] == "ERP-1"
    again = upload(console, HEADER + "上海精密机械,dealer,South,2000000,2019-01-01,ERP-1\n")
    assert again.status_code == 200
    assert "Imported customers.csv: 0 customers registered, 1 updated." in console.page
    assert customers_of(tenant)["上海精密机械"]["region"] == "South"


def test_an_xlsx_file_is_imported_too(tenant):
    sheet = Workbook()
    rows = sheet.active
    rows.append(["名称", "类型", "区域", "年采购额", "合作开始日期"])
    rows.append(["杭州新材料", "经销商", "East", 150000, "2024-05-01"])
    content = io.BytesIO()
    sheet.save(content)
    console = signed_in(tenant)
    console.get("/console/transfer")
    data = {"file": (io.BytesIO(content.getvalue()), "客户.xlsx")}
    answer = console.post("/console/transfer/import", data, content_type="multipart/form-data")
    assert answer.status_code == 200, console.page
    assert "1 customers registered" in console.page
    assert customers_of(tenant)["杭州新材料"]["type"] == "dealer"


def test_a_file_with_a_bad_row_shows_its_error_and_writes_nothing(tenant):
    console = signed_in(tenant)
    answer = upload(console, HEADER + GOOD_ROWS + BAD_ROW)
    assert answer.status_code == 422
    assert "customers.csv has errors: nothing was written." in console.page
    errors = re.search(r'<table id="import-errors">.*?</table>', console.page, re.S).group(0)
    rows = re.findall(r'<th scope="row">(\d+)</th>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>', errors)
    assert [(row, field) for row, field, _message in rows] == [("4", "type")]
    assert rows[0][2].startswith("Must be one of")
    assert customers_of(tenant) == {}


def test_a_missing_or_unreadable_file_is_refused(tenant):
    console = signed_in(tenant)
    console.get("/console/transfer")
    answer = console.post("/console/transfer/import", {}, content_type="multipart/form-data")
    assert answer.status_code == 400 and "Choose a CSV or XLSX file." in console.page
    answer = upload(console, "%PDF-1.4 not a table \x00\x01", filename="customers.pdf")
    assert answer.status_code == 415 and 'class="problem"' in console.page
    assert customers_of(tenant) == {}


def test_the_customer_export_streams_csv_with_chinese_intact(tenant):
    for body in (
        {"name": "上海精密机械", "type": "dealer", "region": "East"},
        {"name": "成都工具", "type": "end_user", "region": "West"},
    ):
        created = tenant.admin.post(
            "/customers",
            {**body, "annual_purchase_amount": 1000, "cooperation_start": "2024-01-01"},
        )
        assert created.status_code == 201, created.json
    console = signed_in(tenant)
    answer = console.http.get("/console/export/customers.csv")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.headers["Content-Disposition"].startswith("attachment;")
    assert "customers" in answer.headers["Content-Disposition"]
    content = answer.get_data()
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM the API writes, for Excel
    text = content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("id,external_id,name,type,region")
    assert "上海精密机械" in text and "成都工具" in text
    # the list's filters pass through to the API's export
    west = (
        console.http.get("/console/export/customers.csv?region=West").get_data().decode("utf-8-sig")
    )
    assert "成都工具" in west and "上海精密机械" not in west


def test_the_customer_export_as_xlsx(tenant):
    created = tenant.admin.post(
        "/customers",
        {
            "name": "上海精密机械",
            "type": "dealer",
            "region": "East",
            "annual_purchase_amount": 1000,
            "cooperation_start": "2024-01-01",
        },
    )
    assert created.status_code == 201, created.json
    console = signed_in(tenant)
    answer = console.http.get("/console/export/customers.xlsx")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == XLSX
    assert ".xlsx" in answer.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(answer.get_data()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][2] == "name" and rows[1][2] == "上海精密机械"


@pytest.mark.parametrize("what", ["visits", "complaints", "kpis"])
def test_the_other_exports_stream_their_files(tenant, what):
    console = signed_in(tenant)
    answer = console.http.get(f"/console/export/{what}.csv")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.get_data().startswith(b"\xef\xbb\xbf")
    xlsx = console.http.get(f"/console/export/{what}.xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["Content-Type"] == XLSX
    assert xlsx.get_data().startswith(b"PK\x03\x04")


def test_a_bad_filter_or_an_unknown_export_is_refused(tenant):
    console = signed_in(tenant)
    assert console.get("/console/export/customers.csv?grade=Z").status_code == 422
    assert console.get("/console/export/customers.pdf").status_code == 404
    assert console.get("/console/export/api-keys.csv").status_code == 404


def test_a_viewer_may_export_but_sees_no_import_and_a_forged_one_is_refused(tenant):
    viewer = signed_in(tenant, role="viewer")
    assert viewer.get("/console/transfer").status_code == 200
    assert 'action="/console/transfer/import"' not in viewer.page
    assert 'href="/console/export/customers.csv"' in viewer.page
    forged = upload(viewer, HEADER + GOOD_ROWS)
    assert forged.status_code == 403 and "Your role may not do this." in viewer.page
    assert customers_of(tenant) == {}
    assert viewer.http.get("/console/export/customers.csv").status_code == 200


def test_a_department_sees_only_what_it_may_export(tenant):
    department = signed_in(tenant, role="department", department="quality")
    assert department.get("/console/transfer").status_code == 200
    assert 'href="/console/export/complaints.csv"' in department.page
    assert 'href="/console/export/customers.csv"' not in department.page
    assert "Import customers" not in department.page
    assert department.get("/console/export/customers.csv").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(tenant):
    console = tenant.console()
    assert console.get("/console/transfer").status_code == 303
    assert console.get("/console/export/customers.csv").status_code == 303


def test_the_page_has_one_h1_unique_ids_and_a_label_for_every_input(tenant):
    console = signed_in(tenant)
    upload(console, HEADER + GOOD_ROWS + BAD_ROW)  # the page with the errors table too
    structure = Structure()
    structure.feed(console.page)
    assert structure.h1 == 1
    assert len(structure.ids) == len(set(structure.ids))
    assert [i for i in structure.inputs if i not in structure.labelled] == []
    assert structure.inline == [] and "<script>" not in console.page

"""Exports through the gateway are passed on as the service writes them (streamed, not read
whole first), and Chinese text round-trips in CSV and XLSX."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.support.client import ADMIN, Api
from tests.support.settings import make_settings
from tests.support.system import CUSTOMER, start_system

NAMES = ["华东贸易有限公司", "北方机械", "Acme"]


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    settings = make_settings(data_dir=tmp_path_factory.mktemp("exports"), admin_token=ADMIN)
    system = start_system(settings)
    try:
        admin = Api(system).new_tenant("Exports")
        for name in NAMES:
            assert admin.post("/customers", {**CUSTOMER, "name": name}).status_code == 201
        yield admin
    finally:
        system.close()


def test_a_csv_export_is_streamed_with_a_bom(api):
    r = api.get("/customers/export?format=csv")
    assert r.status_code == 200
    assert r.is_streamed  # the gateway passed the service's rows on as they came
    assert r.headers["Content-Disposition"].startswith("attachment;")
    text = r.get_data()
    assert text.startswith(b"\xef\xbb\xbf")
    body = text.decode("utf-8-sig")
    assert all(name in body for name in NAMES)
    assert len(body.strip().splitlines()) == 1 + len(NAMES)


def test_an_xlsx_export_reads_back_with_openpyxl(api):
    r = api.get("/customers/export?format=xlsx")
    assert r.status_code == 200 and r.is_streamed
    sheet = load_workbook(io.BytesIO(r.get_data()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    names = {row[header.index("name")] for row in rows[1:]}
    assert names == set(NAMES)


def test_a_bad_export_query_is_a_problem_not_a_file(api):
    r = api.get("/customers/export?format=pdf")
    assert (r.status_code, r.content_type) == (422, "application/problem+json")

"""Reading customer import files (customer_service.import_rows): no Flask, no database."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from customer_service.import_rows import (
    ROWS_MAX,
    UnsupportedFile,
    cell_value,
    map_header,
    read_table,
)
from revisit_common.errors import Invalid

ENGLISH = (
    "name,type,region,annual_purchase_amount,cooperation_start,external_id\n"
    "Huadong Trading,dealer,east,1500000,2019-03-01,ERP-1\n"
)
CHINESE = (
    "客户名称,类型,区域,年采购额,合作开始日期,外部编号\n"
    "华东贸易,经销商,华东,1500000,2019-03-01,ERP-1\n"
)


def xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_english_field_names_in_any_case_and_spacing():
    text = (
        "Name, TYPE ,Region,Annual Purchase Amount,cooperation-start\nA,agent,north,10,2020-01-01\n"
    )
    table = read_table(text.encode())
    assert table.errors == []
    [row] = table.rows
    assert row.number == 2
    assert row.data == {
        "name": "A",
        "type": "agent",
        "region": "north",
        "annual_purchase_amount": "10",
        "cooperation_start": "2020-01-01",
    }


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"])
def test_chinese_headers_and_values_with_or_without_bom(bom):
    table = read_table(bom + CHINESE.encode("utf-8"))
    assert table.errors == []
    assert table.rows[0].data == {
        "name": "华东贸易",
        "type": "dealer",
        "region": "华东",
        "annual_purchase_amount": "1500000",
        "cooperation_start": "2019-03-01",
        "external_id": "ERP-1",
    }


def test_blank_rows_are_skipped_and_rows_numbered_as_a_spreadsheet_shows_them():
    text = ENGLISH + ",,,,,\n\nB,agent,west,5,2021-05-05,\n"
    table = read_table(text.encode())
    assert [row.number for row in table.rows] == [2, 5]
    assert "external_id" not in table.rows[1].data  # empty: not given


def test_empty_nullable_cells_are_null_and_others_absent():
    assert cell_value("owner", "  ") == {"owner": None}
    assert cell_value("overdue_days", "") == {}
    assert cell_value("overdue_days", "12") == {"overdue_days": 12}
    assert cell_value("overdue_days", "-3") == {"overdue_days": "-3"}  # the schema refuses it
    assert cell_value("legal_dispute", "是") == {"legal_dispute": True}
    assert cell_value("credit_rating", "一般") == {"credit_rating": "fair"}
    assert cell_value("type", "终端客户") == {"type": "end_user"}


def test_spreadsheet_cell_types():
    assert cell_value("cooperation_start", datetime(2019, 3, 1)) == {
        "cooperation_start": "2019-03-01"
    }
    assert cell_value("cooperation_start", date(2019, 3, 1)) == {"cooperation_start": "2019-03-01"}
    assert cell_value("annual_purchase_amount", 1500000.0) == {"annual_purchase_amount": 1500000}
    assert cell_value("annual_purchase_amount", 12.5) == {"annual_purchase_amount": 12.5}
    assert cell_value("external_id", 10023) == {"external_id": "10023"}
    assert cell_value("overdue_days", 7.0) == {"overdue_days": 7}


def test_header_errors_are_row_one():
    columns, table = map_header(["名称", "name", "colour", "region", "grade", "", "id"])
    assert columns == ["name", "name", None, "region", None, None, None]
    assert {(e["row"], e["field"], e["message"]) for e in table.errors} == {
        (1, "name", "column 2 repeats this field"),
        (1, "colour", "unknown column 3"),
        (1, "type", "missing column"),
        (1, "annual_purchase_amount", "missing column"),
        (1, "cooperation_start", "missing column"),
    }


def test_a_file_with_header_errors_reports_them_without_rows():
    table = read_table(b"name,colour\nA,red\n")
    assert table.rows == []
    assert {e["field"] for e in table.errors} >= {"colour", "type"}


def test_export_columns_nobody_types_are_ignored():
    text = "id,grade,score,risk_level," + ENGLISH.replace("\n", "\nx,A,80,low,", 1)
    table = read_table(text.encode())
    assert table.errors == []
    assert set(table.rows[0].data) == {
        "name",
        "type",
        "region",
        "annual_purchase_amount",
        "cooperation_start",
        "external_id",
    }


def test_cells_protected_against_formula_injection_get_their_text_back():
    text = (
        "name,type,region,annual_purchase_amount,cooperation_start,owner\n"
        "'=Acme,agent,'-x,1,2020-01-01,'plain\n"
    )
    data = read_table(text.encode()).rows[0].data
    assert (data["name"], data["region"], data["owner"]) == ("=Acme", "-x", "'plain")


def test_more_cells_than_columns_is_an_error_of_the_row():
    table = read_table((ENGLISH + "C,agent,east,1,2020-01-01,ERP-3,surplus\n").encode())
    assert table.errors == [{"row": 3, "field": "", "message": "more cells than columns"}]


@pytest.mark.parametrize(
    "content",
    [
        "名称,类型\n华东,经销商\n".encode("gbk"),  # a CSV saved in the legacy Chinese code page
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64,  # an old .xls (OLE2)
    ],
)
def test_neither_utf8_csv_nor_xlsx_is_unsupported(content):
    with pytest.raises(UnsupportedFile):
        read_table(content)


@pytest.mark.parametrize("content", [b"", b"  \n", b"name,type\n", b"\xef\xbb\xbf\n\n"])
def test_an_empty_file_is_invalid(content):
    with pytest.raises(Invalid) as caught:
        read_table(content)
    assert list(caught.value.errors) == ["file"]


def test_rows_are_limited():
    text = ENGLISH.split("\n")[0] + "\n" + "A,agent,east,1,2020-01-01,\n" * (ROWS_MAX + 1)
    with pytest.raises(Invalid, match="at most"):
        read_table(text.encode())


def test_xlsx_with_chinese_text_dates_and_numbers():
    content = xlsx(
        [
            ["名称", "类型", "区域", "年采购额", "合作开始日期", "外部编号", "法律纠纷"],
            ["华东贸易", "经销商", "华东", 1500000, datetime(2019, 3, 1), 10023, "否"],
            [None, None, None, None, None, None, None],
            ["北方机械", "agent", "north", 2500.5, "2020-01-01", None, None],
        ]
    )
    table = read_table(content)
    assert table.errors == []
    assert [row.number for row in table.rows] == [2, 4]
    assert table.rows[0].data == {
        "name": "华东贸易",
        "type": "dealer",
        "region": "华东",
        "annual_purchase_amount": 1500000,
        "cooperation_start": "2019-03-01",
        "external_id": "10023",
        "legal_dispute": False,
    }
    assert table.rows[1].data["annual_purchase_amount"] == 2500.5


def _zip(name: str, data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize(
    "content",
    [
        _zip("hello.txt", b"not a workbook"),
        b"PK\x03\x04" + b"\x00" * 40,  # the magic, then garbage
        _zip("xl/worksheets/sheet1.xml", b"\x00" * (65 * 1024 * 1024)),  # unpacks to 65 MiB
    ],
)
def test_archives_that_are_no_readable_workbook_are_invalid(content):
    with pytest.raises(Invalid) as caught:
        read_table(content)
    assert list(caught.value.errors) == ["file"]

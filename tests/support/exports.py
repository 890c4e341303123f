"""Reading an export back as a spreadsheet program would: CSV (UTF-8 behind a byte order
mark) as dicts by header, XLSX (openpyxl) as lists of cells."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

BOM = b"\xef\xbb\xbf"


def csv_rows(response) -> list[dict]:
    """The rows of a 200 CSV export, which starts with a BOM."""
    assert response.status_code == 200, response.get_data()[:300]
    body = response.get_data()
    assert body.startswith(BOM)
    return list(csv.DictReader(io.StringIO(body[len(BOM) :].decode("utf-8"))))


def xlsx_rows(response) -> list[list]:
    """The first sheet of an XLSX export, the header row first."""
    assert response.status_code == 200, response.get_data()[:300]
    workbook = load_workbook(io.BytesIO(response.get_data()), read_only=True)
    return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]

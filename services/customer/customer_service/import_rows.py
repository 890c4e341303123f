"""Reading a customer import file into rows of the fields ``POST /customers`` takes.
Standard library and openpyxl only: no Flask, no database.

The file (:func:`read_table`)
    CSV in UTF-8, with or without a byte order mark (Excel's "CSV UTF-8" has one), comma
    separated; or an XLSX workbook (its first sheet). Which one is told by the bytes (an
    XLSX file is a zip archive); anything else (an old .xls, a PDF, an image, a CSV in GBK)
    is :class:`UnsupportedFile` (415). An XLSX whose archive would unpack to more than
    :data:`UNPACKED_MAX` bytes, or that openpyxl cannot read, is refused (422). The first
    row names the columns; rows with no value at all are skipped; at most :data:`ROWS_MAX`
    data rows. Row numbers in errors are the rows a spreadsheet shows (the header is row 1,
    unless blank rows come before it).

The columns (:func:`map_header`)
    A column is named by the field (``name``, ``annual_purchase_amount``; case, spaces and
    hyphens do not matter: ``Annual Purchase Amount``) or by a Chinese alias of
    :data:`HEADER_ALIASES` (名称 or 客户名称 for ``name``, ...). Columns that
    ``GET /customers/export`` writes but nobody types (id, grade, score, tiers, risk,
    timestamps: :data:`DERIVED`) are ignored, so an export imports again. Any other column,
    or two columns for one field, is an error of row 1; so is a missing column of a required
    field (``name``, ``type``, ``region``, ``annual_purchase_amount``,
    ``cooperation_start``).

The cells (:func:`cell_value`)
    Surrounding spaces are dropped. An empty cell is null for a field that may be null
    (owner, address, legal_representative, business_scope, purchase_frequency), else absent
    (a required field then reports "Missing data"). ``type`` and ``credit_rating`` also take
    the Chinese words of :data:`VALUE_ALIASES` (经销商 = dealer, ...), ``legal_dispute`` 是 /
    否 besides true / false. XLSX dates are read as dates, whole numbers as integers. A CSV
    cell that an export protected against formula injection (a leading apostrophe before
    ``=``, ``+``, ``-``, ``@``) gets its text back.

What each row then must satisfy is ``POST /customers``'s schema (``importing.py``).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.etree.ElementTree import ParseError

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from revisit_common.errors import Invalid

ROWS_MAX = 20_000
UNPACKED_MAX = 64 * 1024 * 1024  # bytes an XLSX archive may unpack to
ZIP_MAGIC = b"PK\x03\x04"
BOM = "\ufeff"
FORMULA_STARTS = ("'=", "'+", "'-", "'@")

FIELDS = (
    "external_id", "name", "type", "region", "annual_purchase_amount", "cooperation_start",
    "owner", "address", "legal_representative", "business_scope", "purchase_frequency",
    "overdue_days", "legal_dispute", "credit_rating",
)  # fmt: skip
REQUIRED = ("name", "type", "region", "annual_purchase_amount", "cooperation_start")
NULLABLE = ("owner", "address", "legal_representative", "business_scope", "purchase_frequency")
INTEGERS = ("overdue_days",)
DERIVED = (
    "id", "size_tier", "cooperation_tier", "score", "grade", "risk_level", "risk_reasons",
    "created_at", "updated_at", "contacts",
)  # fmt: skip

HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "external_id": ("外部编号", "客户编号", "ERP编号", "编号"),
    "name": ("名称", "客户名称", "客户名", "公司名称"),
    "type": ("类型", "客户类型"),
    "region": ("区域", "地区", "所属区域", "销售区域"),
    "annual_purchase_amount": ("年采购额", "年采购金额", "年度采购额", "年度采购金额"),
    "cooperation_start": ("合作开始日期", "合作起始日期", "开始合作日期", "合作开始"),
    "owner": ("负责人", "客户经理", "业务员"),
    "address": ("地址", "联系地址"),
    "legal_representative": ("法定代表人", "法人代表", "法人"),
    "business_scope": ("经营范围",),
    "purchase_frequency": ("采购频率",),
    "overdue_days": ("逾期天数", "欠款逾期天数"),
    "legal_dispute": ("法律纠纷", "是否有法律纠纷"),
    "credit_rating": ("信用等级", "信用评级"),
}
VALUE_ALIASES: dict[str, dict[str, str | bool]] = {
    "type": {"经销商": "dealer", "代理商": "agent", "终端用户": "end_user", "终端客户": "end_user"},
    "credit_rating": {"良好": "good", "好": "good", "一般": "fair", "中": "fair", "差": "poor"},
    "legal_dispute": {"是": True, "有": True, "否": False, "无": False},
}


class UnsupportedFile(Exception):
    """Neither a CSV in UTF-8 nor an XLSX workbook (415)."""


@dataclass(frozen=True)
class Row:
    """One data row: its number (the header is row 1) and its fields as given."""

    number: int
    data: dict[str, Any]


@dataclass
class Table:
    """The rows of a file, mapped to fields, and the errors found on the way."""

    rows: list[Row] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


def error(row: int, field_name: str, message: str) -> dict[str, Any]:
    return {"row": row, "field": field_name, "message": message}


# --------------------------------------------------------------------------- the file


def read_table(content: bytes) -> Table:
    """The rows of a CSV or XLSX file, mapped to the customer's fields (see the module)."""
    lines = _xlsx_lines(content) if content.startswith(ZIP_MAGIC) else _csv_lines(content)
    numbered = [(n, cells) for n, cells in enumerate(lines, start=1) if any(map(_given, cells))]
    if len(numbered) < 2:
        raise Invalid({"file": ["the file has no rows below its header"]}, "the file is empty")
    if len(numbered) - 1 > ROWS_MAX:
        raise Invalid({"file": [f"at most {ROWS_MAX} rows"]}, "too many rows")
    (header_number, header), *data_rows = numbered
    columns, table = map_header(header, header_number)
    if table.errors:
        return table
    for number, cells in data_rows:
        if len(cells) > len(columns) and any(_given(c) for c in cells[len(columns) :]):
            table.errors.append(error(number, "", "more cells than columns"))
            continue
        data = {}
        for name, cell in zip(columns, cells, strict=False):
            if name is not None:
                data.update(cell_value(name, cell))
        table.rows.append(Row(number, data))
    return table


def _given(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _csv_lines(content: bytes) -> Iterator[list[Any]]:
    if b"\x00" in content:
        raise UnsupportedFile("a binary file, not CSV")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsupportedFile("not UTF-8 text: save the sheet as CSV UTF-8 or XLSX") from None
    text = text.removeprefix(BOM)
    try:
        return iter([[_unprotect(cell) for cell in row] for row in csv.reader(io.StringIO(text))])
    except csv.Error as exc:
        raise Invalid({"file": [f"not readable as CSV: {exc}"]}, "unreadable CSV") from None


def _unprotect(cell: str) -> str:
    """A cell an export protected against formula injection, as it was."""
    return cell[1:] if cell.startswith(FORMULA_STARTS) else cell


def _xlsx_lines(content: bytes) -> Iterator[list[Any]]:
    unreadable = Invalid({"file": ["not a readable XLSX workbook"]}, "unreadable XLSX")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise unreadable from None
    if unpacked > UNPACKED_MAX:
        raise Invalid({"file": ["the workbook unpacks to too much data"]}, "workbook too large")
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        workbook.close()
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError,
            IndexError, OSError, ParseError):  # fmt: skip
        raise unreadable from None
    return iter(rows)


# --------------------------------------------------------------------------- columns


def normal_header(text: Any) -> str:
    """A header as matched: trimmed, lower case, spaces and hyphens as underscores."""
    value = "" if text is None else str(text).strip().removeprefix(BOM)
    return value.lower().replace(" ", "_").replace("-", "_")


_BY_HEADER = {name: name for name in FIELDS} | {
    normal_header(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases
}


def map_header(header: list[Any], number: int = 1) -> tuple[list[str | None], Table]:
    """The field of each column (None: ignored) and the header's errors (of its row,
    ``number``)."""
    table = Table()
    columns: list[str | None] = []
    seen: set[str] = set()
    for position, text in enumerate(header, start=1):
        key = normal_header(text)
        if key == "" or key in DERIVED:
            columns.append(None)
            continue
        name = _BY_HEADER.get(key)
        if name is None:
            table.errors.append(error(number, str(text), f"unknown column {position}"))
        elif name in seen:
            table.errors.append(error(number, name, f"column {position} repeats this field"))
        seen.add(name or key)
        columns.append(name)
    for name in REQUIRED:
        if name not in seen:
            table.errors.append(error(number, name, "missing column"))
    return columns, table


# --------------------------------------------------------------------------- cells


def cell_value(name: str, cell: Any) -> dict[str, Any]:
    """``{name: value}`` for a cell of column ``name``; ``{}`` when it gives nothing."""
    if isinstance(cell, str):
        cell = cell.strip()
    if cell is None or cell == "":
        return {name: None} if name in NULLABLE else {}
    if isinstance(cell, datetime):
        cell = cell.date().isoformat() if cell.time() == datetime.min.time() else cell.isoformat()
    elif isinstance(cell, date):
        cell = cell.isoformat()
    elif isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    aliases = VALUE_ALIASES.get(name, {})
    if isinstance(cell, str) and cell in aliases:
        return {name: aliases[cell]}
    if name in INTEGERS and isinstance(cell, str) and cell.isascii() and cell.isdigit():
        return {name: int(cell)}
    if name not in INTEGERS and isinstance(cell, int | float) and not isinstance(cell, bool):
        return {name: str(cell)} if name != "annual_purchase_amount" else {name: cell}
    return {name: cell}

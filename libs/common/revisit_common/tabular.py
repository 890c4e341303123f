"""Exports of a list as a file (CONTRACT §4.6): ``GET /<things>/export?format=csv|xlsx`` plus
the list's own filters, every matching row, streamed.

The parts, each used by every export:

* :func:`export_args`: a list's query schema made the export's (``format`` added, ``limit``
  and ``cursor`` taken out), so an export filters exactly as its list does.
* :func:`seek`, :func:`keyset_rows`: a query's rows in batches, each batch the next in a
  keyset order (a unique last column, the id), all in the caller's one read transaction:
  memory follows the batch, not the result.
* :func:`csv_chunks`, :func:`xlsx_chunks`: the writers. CSV is UTF-8 with a byte order mark
  (so Excel reads Chinese text as UTF-8), written out a batch of rows at a time. XLSX is an
  openpyxl write-only workbook (rows go to disk as they come) in a temporary file, sent in
  chunks and deleted after.
* :func:`download`: the streamed response, ``Content-Disposition: attachment`` with a file
  name; the rows are read inside the generator, in a read transaction of its own.

Cells: ``None`` is empty; dates and times are ISO 8601 text (times keep their offset, which
Excel's cells cannot); lists and dicts are JSON. Control characters XLSX cannot hold (all
below U+0020 but tab, line feed and carriage return) become U+FFFD there; CSV keeps them.
Text that a spreadsheet would run as a formula (starting ``=``, ``+``, ``-``, ``@``, tab or
carriage return) is stored as text: in XLSX as a string cell, in CSV with a leading
apostrophe (OWASP's advice against CSV injection), which the customer import takes off
again.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from flask import Response
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMATS = ("csv", "xlsx")
BATCH = 1000  # rows read per query, and written per CSV chunk
CHUNK = 64 * 1024  # bytes per chunk of an XLSX file
BOM = "\ufeff"
REPLACEMENT = "\ufffd"  # for the control characters an XLSX cell cannot hold
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PAGING = ("limit", "cursor")

Row = Sequence[Any]


# --------------------------------------------------------------------------- arguments


def export_args(list_args: type[Schema], name: str) -> type[Schema]:
    """The export's query schema: ``list_args`` (a list's filters) with ``format`` (csv,
    the default, or xlsx) and without the paging arguments. ``name`` is the class name
    (``VisitExportArgs``: the OpenAPI component ``VisitExportArgs``)."""
    paging = tuple(name for name in PAGING if name in list_args().fields)
    parent_meta = getattr(list_args, "Meta", object)
    meta = type("Meta", (parent_meta,), {"exclude": paging})
    return type(
        name,
        (list_args,),
        {
            "Meta": meta,
            "format": fields.String(
                load_default="csv",
                validate=validate.OneOf(FORMATS),
                metadata={"description": "csv (UTF-8 with BOM) or xlsx"},
            ),
        },
    )


FILE_RESPONSE = {
    "description": "the file, as an attachment (Content-Disposition)",
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
    },
}


def export_route(blp: Blueprint, rule: str, args: type[Schema]) -> Callable:
    """Declare the function as the GET of ``rule``, an export: its query read by ``args``
    (unknown arguments → 422), its answer the file (:func:`download`)."""

    def declare(fn: Callable) -> Callable:
        view = blp.doc(responses={"200": FILE_RESPONSE})(fn)
        view = blp.response(200)(view)
        view = blp.arguments(args, location="query", unknown=RAISE)(view)
        return blp.route(rule, methods=["GET"])(view)

    return declare


# --------------------------------------------------------------------------- reading


def seek(query: sa.Select, order: Sequence[Any], after: Sequence[Any] | None, descending: bool):
    """``query`` ordered by the columns ``order`` (the last one unique), all ascending or all
    descending, starting after the key ``after`` (the values of ``order`` in the last row
    read; ``None``: from the start)."""
    if after is not None and len(order) == 1:
        query = query.where(order[0] < after[0] if descending else order[0] > after[0])
    elif after is not None:
        key, values = sa.tuple_(*order), sa.tuple_(*after)
        query = query.where(key < values if descending else key > values)
    return query.order_by(*(column.desc() if descending else column for column in order))


def keyset_rows(
    read: Callable[[], AbstractContextManager[Any]],
    query: sa.Select,
    order: Sequence[Any],
    *,
    descending: bool = False,
    size: int = BATCH,
) -> Iterator[Any]:
    """Every row of ``query`` (rows of columns, not ORM entities) in the keyset order of
    :func:`seek`, read ``size`` at a time, each batch in a read transaction of its own
    (``read()``: ``Database.read``), so a client downloading slowly holds no pooled
    connection between batches. Each row must carry the ``order`` columns under their
    keys."""
    names = [column.key for column in order]
    after = None
    while True:
        with read() as session:
            batch = session.execute(seek(query, order, after, descending).limit(size)).all()
        yield from batch
        if len(batch) < size:
            return
        last = batch[-1]._mapping
        after = [last[name] for name in names]


# --------------------------------------------------------------------------- cells


def text_of(value: Any) -> str:
    """How a value reads in a text cell (see the module's docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def csv_cell(value: Any) -> str:
    text = text_of(value)
    if isinstance(value, str) and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def xlsx_value(value: Any) -> Any:
    """A value as openpyxl stores it: numbers and booleans as such, the rest as text."""
    if isinstance(value, bool | int | float | Decimal):
        return value
    return text_of(value) if value is not None else None


# --------------------------------------------------------------------------- writers


def csv_chunks(headers: Sequence[str], rows: Iterable[Row], batch: int = BATCH) -> Iterator[bytes]:
    """The CSV file (UTF-8 with BOM, CRLF line ends) in chunks of ``batch`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(headers)
    for count, row in enumerate(rows, start=1):
        writer.writerow([csv_cell(value) for value in row])
        if count % batch == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_chunks(
    headers: Sequence[str], rows: Iterable[Row], title: str = "export"
) -> Iterator[bytes]:
    """The XLSX file (one sheet, a header row) in chunks: written to a temporary file by a
    write-only workbook, then read back and deleted."""
    handle, path = tempfile.mkstemp(prefix="revisit-export-", suffix=".xlsx")
    os.close(handle)
    try:
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(title)
        sheet.append(list(headers))
        for row in rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
        workbook.save(path)
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def _xlsx_cell(sheet, value: Any) -> Any:
    stored = xlsx_value(value)
    if isinstance(stored, str):
        stored = ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, stored)
    if isinstance(stored, str) and stored.startswith("="):
        cell = WriteOnlyCell(sheet, value=stored)
        cell.data_type = "s"  # text that only looks like a formula
        return cell
    return stored


def chunks(fmt: str, headers: Sequence[str], rows: Iterable[Row], title: str) -> Iterator[bytes]:
    return csv_chunks(headers, rows) if fmt == "csv" else xlsx_chunks(headers, rows, title)


# --------------------------------------------------------------------------- response


def download(
    fmt: str,
    name: str,
    headers: Sequence[str],
    rows_in: Callable[[Any], Iterable[Row]],
    db,
    *,
    stamp: date | None = None,
) -> Response:
    """The streamed response of an export: ``rows_in(db.read)`` runs inside the response's
    generator and opens its read transactions itself, one per batch (:func:`keyset_rows`).
    The file is named ``<name>-<stamp>.<fmt>`` (``customers-2026-12-06.csv``)."""

    def generate() -> Iterator[bytes]:
        yield from chunks(fmt, headers, rows_in(db.read), name)

    filename = f"{name}-{stamp.isoformat()}.{fmt}" if stamp else f"{name}.{fmt}"
    disposition = f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}"
    return Response(
        generate(),
        status=200,
        mimetype=None,
        content_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff"},
        direct_passthrough=True,
    )

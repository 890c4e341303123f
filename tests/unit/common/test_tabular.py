"""The export writers and keyset reading of revisit_common.tabular."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa
from marshmallow import RAISE, ValidationError, fields
from openpyxl import load_workbook

from revisit_common.db import Database
from revisit_common.paging import PageArgs
from revisit_common.tabular import csv_chunks, export_args, keyset_rows, xlsx_chunks

HEADERS = ("name", "amount", "day", "at", "flag", "data", "none")
ROW = (
    "华东贸易",
    Decimal("1500000.50"),
    date(2026, 12, 6),
    datetime(2026, 12, 6, 2, 0, tzinfo=UTC),
    True,
    {"产品": ["泵"]},
    None,
)


def test_csv_starts_with_a_bom_and_writes_cells_as_text():
    body = b"".join(csv_chunks(HEADERS, [ROW]))
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [
        list(HEADERS),
        [
            "华东贸易",
            "1500000.50",
            "2026-12-06",
            "2026-12-06T02:00:00+00:00",
            "true",
            '{"产品": ["泵"]}',
            "",
        ],
    ]


def test_csv_comes_in_chunks_of_rows():
    chunks = list(csv_chunks(("n",), ([n] for n in range(25)), batch=10))
    assert len(chunks) == 3
    assert b"".join(chunks).decode("utf-8-sig").split() == ["n", *map(str, range(25))]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx"])
def test_csv_keeps_formula_like_text_as_text(text):
    body = b"".join(csv_chunks(("a", "n"), [(text, -1)])).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body)))[1] == ["'" + text, "-1"]  # numbers stay numbers


def test_xlsx_round_trips_through_openpyxl():
    data = b"".join(
        xlsx_chunks(HEADERS, [ROW, ("=cmd|' /C calc'!A0", 1, None, None, False, [], None)])
    )
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    header, first, second = [[c.value for c in row] for row in sheet.iter_rows()]
    assert header == list(HEADERS)
    assert first == [
        "华东贸易",
        1500000.5,
        "2026-12-06",
        "2026-12-06T02:00:00+00:00",
        True,
        '{"产品": ["泵"]}',
        None,
    ]
    assert second[0] == "=cmd|' /C calc'!A0"
    assert sheet["A3"].data_type == "s"  # text, not a formula


def test_export_args_add_format_and_drop_paging():
    class ListArgs(PageArgs):
        class Meta:
            unknown = RAISE

        region = fields.String()

    schema = export_args(ListArgs, "ThingExportArgs")()
    assert schema.load({"region": "east"}) == {"region": "east", "format": "csv"}
    assert schema.load({"format": "xlsx"}) == {"format": "xlsx"}
    for bad in ({"format": "pdf"}, {"limit": "5"}, {"cursor": "x"}):
        with pytest.raises(ValidationError):
            schema.load(bad)


@pytest.fixture
def things():
    engine = sa.create_engine("sqlite://")
    metadata = sa.MetaData()
    table = sa.Table(
        "things",
        metadata,
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("due", sa.Date),
    )
    metadata.create_all(engine)
    rows = [{"id": f"{n:03d}", "due": date(2026, 1, 1 + n % 5)} for n in range(23)]
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    return engine, table, rows


@pytest.mark.parametrize("size", [1, 4, 23, 100])
def test_keyset_rows_reads_every_row_once_in_order(things, size):
    engine, table, rows = things
    by_id = [r.id for r in keyset_rows(engine.connect, sa.select(table), (table.c.id,), size=size)]
    assert by_id == [r["id"] for r in rows]
    order = (table.c.due, table.c.id)
    query = sa.select(table).where(table.c.due > date(2026, 1, 1))
    down = list(keyset_rows(engine.connect, query, order, descending=True, size=size))
    want = sorted(
        (r for r in rows if r["due"] > date(2026, 1, 1)), key=lambda r: (r["due"], r["id"])
    )
    assert [(r.due, r.id) for r in down] == [(r["due"], r["id"]) for r in reversed(want)]


def test_keyset_rows_hold_no_connection_between_batches(tmp_path):
    db = Database(f"sqlite:///{tmp_path}/things.db")
    table = sa.Table("things", sa.MetaData(), sa.Column("id", sa.String, primary_key=True))
    table.metadata.create_all(db.engine)
    with db.engine.begin() as conn:
        conn.execute(table.insert(), [{"id": f"{n:03d}"} for n in range(10)])
    held = []
    for row in keyset_rows(db.read, sa.select(table), (table.c.id,), size=3):
        held.append((row.id, db.engine.pool.checkedout()))  # while the reader has the row
    assert [row_id for row_id, _ in held] == [f"{n:03d}" for n in range(10)]
    assert {count for _, count in held} == {0}
    db.dispose()


def test_xlsx_replaces_control_characters_a_cell_cannot_hold():
    data = b"".join(xlsx_chunks(("text",), [("a\x00b\x1bc\td\ne",)]))
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet["A2"].value == "a\ufffdb\ufffdc\td\ne"
    body = b"".join(csv_chunks(("text",), [("a\x1bb",)])).decode("utf-8-sig")
    assert "a\x1bb" in body  # CSV keeps them

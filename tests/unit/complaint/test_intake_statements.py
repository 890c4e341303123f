"""Registering a complaint writes its row and its ledger in one statement on PostgreSQL (the
complaint's INSERT a WITH of the ledger's, run by db.run on the driver's cursor) and in two
on SQLite; either way the rows are those the 201 describes, every ledger entry of it, in
order; on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from complaint_service import service
from complaint_service.bootstrap import SPEC
from complaint_service.models import Complaint, LedgerEntry
from tests.support.complaints import COMPLAINT, ComplaintClient
from tests.support.customers import FakeCustomerService
from tests.support.service import database_settings, service_runtime


@pytest.fixture(params=["sqlite", "postgresql"])
def runtime(request, tmp_path):
    values = database_settings(request)
    customers = FakeCustomerService()
    customers.add("cust-1", "east")
    customers.add("cust-big", "west", size_tier="large", grade="A")
    with service_runtime(SPEC, tmp_path, peers={"customer": customers}, **values) as rt:
        yield rt


def _writes(engine: sa.Engine) -> list[str]:
    """A list that fills with every INSERT (or WITH ... INSERT) ``engine`` runs from now on."""
    seen: list[str] = []

    def note(_conn, _cursor, sql, *_):
        if sql.lstrip().startswith(("INSERT", "WITH")):
            seen.append(sql)

    sa.event.listen(engine, "before_cursor_execute", note)
    return seen


@pytest.mark.parametrize(
    "fields, actions",
    [
        ({}, ["receive"]),
        ({"assignee": "wang.fang"}, ["receive", "assign"]),
        # major (the customer), reported upward, assigned: every column the intake sets
        ({"customer_id": "cust-big", "assignee": "wang.fang"}, ["receive", "assign"]),
    ],
)
def test_the_complaint_and_its_ledger_in_as_few_statements_as_the_database_allows(
    runtime, fields, actions
):
    client = ComplaintClient(runtime.create_app())
    client.create()  # (the customer copy made, the statements compiled)
    writes = _writes(runtime.db.engine)
    created = client.post("/api/v1/complaints", {**COMPLAINT, **fields})
    assert created.status_code == 201
    ours = [sql for sql in writes if "complaint_ledger" in sql or "INTO complaints " in sql]
    if not runtime.db.is_postgres:  # (PostgreSQL's one statement: the test below)
        assert len(ours) == 2
    with runtime.db.engine.connect() as conn:
        row = conn.execute(
            sa.select(Complaint.__table__).where(Complaint.id == created.json["id"])
        ).one()
        ledger = conn.execute(
            sa.select(LedgerEntry.__table__)
            .where(LedgerEntry.complaint_id == row.id)
            .order_by(LedgerEntry.id)
        ).all()
    assert [entry.action for entry in ledger] == actions
    said = [(e["action"], e["by"], e["note"], e["status"]) for e in created.json["ledger"]]
    assert [(e.action, e.by, e.note, e.status) for e in ledger] == said
    assert (row.number, row.severity, row.assignee) == (
        created.json["number"],
        created.json["severity"],
        created.json["assignee"],
    )
    assert row.reported_upward_reason == created.json["reported_upward_reason"]
    assert row.assisting_departments == []
    # columns the intake does not set: what the flush left there
    assert (row.resolution, row.satisfied, row.paused_at, row.round) == (None, None, None, 1)


@pytest.mark.parametrize("entries", [1, 2])
def test_on_postgresql_the_complaint_and_its_ledger_are_one_statement(entries):
    columns = ("id", "tenant_id", "status", "number")
    sql = str(service.insert_both(columns, entries).compile(dialect=postgresql.dialect()))
    assert sql.startswith("WITH new_complaint AS \n(INSERT INTO complaints (")
    assert sql.count("INSERT INTO complaint_ledger ") == entries
    assert sql.count("INSERT INTO") == entries + 1
    assert ";" not in sql
    assert service.insert_both(columns, entries) is service.insert_both(columns, entries)

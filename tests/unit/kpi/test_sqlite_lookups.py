"""On SQLite the projection reaches every stored row it reads by its primary key (bulk.py):
a tuple ``IN`` list made SQLite scan the whole table once per consumer batch, a cost that
grew with the store."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.dialects import sqlite

from kpi_service import bulk

DAY = date(2026, 11, 20)
FACT = {"tenant_id": "t", "kind": "purchase", "entity_id": "e"}
READS = {
    "facts": (bulk._sqlite_fact_read, FACT, "kpi_facts"),
    "purchases": (bulk._sqlite_purchases_read, FACT, "kpi_facts"),
    "members": (
        bulk._sqlite_members_read,
        {"tenant_id": "t", "span": "month", "first_day": DAY, "customer_id": "c"},
        "kpi_customer_spans",
    ),
}


@pytest.mark.parametrize("name", sorted(READS))
def test_a_read_searches_by_primary_key(runtime, name):
    build, params, table = READS[name]
    compiled = build().compile(dialect=sqlite.dialect())
    values = [str(params[key]) for key in compiled.positiontup]
    with runtime.db.engine.connect() as conn:
        driver = conn.connection.driver_connection
        plan = [row[3] for row in driver.execute("EXPLAIN QUERY PLAN " + str(compiled), values)]
    assert plan == [f"SEARCH {table} USING INDEX sqlite_autoindex_{table}_1 (" + _eq(params)]


def _eq(params: dict) -> str:
    return "=? AND ".join(params) + "=?)"

"""A consumer batch raises, in the statement that writes its counts (bulk.write), the totals
version of each tenant whose ``kpi_totals`` it changes: once per transaction, others left as
they were; on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from kpi_service import projection, store
from revisit_common.db import Database
from tests.support.kpi.scenario import Visit
from tests.support.kpi.stores import BACKENDS, one_store


@pytest.fixture(params=BACKENDS)
def db(request, tmp_path):
    with one_store(request, tmp_path, "versions") as db:
        yield db


def _visit(tenant: str, visit: str) -> list:
    return Visit(visit, "periodic", "li.wei", "east", date(2026, 11, 2)).events(tenant)


def _versions(db: Database) -> dict[str, int]:
    with db.read() as session:
        return store.tenant_versions(session)


def test_a_batch_raises_the_versions_of_the_tenants_whose_totals_it_changes(db):
    with db.transaction() as session:  # two events of tenant a, one of b: one raise each
        projection.record(session, [*_visit("a", "v-1"), *_visit("b", "v-2")])
    assert _versions(db) == {"a": 1, "b": 1}

    with db.transaction() as session:
        projection.record(session, _visit("a", "v-3"))
    assert _versions(db) == {"a": 2, "b": 1}


def test_a_batch_whose_totals_do_not_move_leaves_the_versions(db):
    with db.transaction() as session:
        projection.record(session, _visit("a", "v-1"))
    with db.transaction() as session:  # the same events again: no count moves
        projection.record(session, _visit("a", "v-1")[:1])
    with db.read() as session:
        rows = session.execute(sa.text("SELECT count(*) FROM kpi_totals_versions")).scalar()
    assert rows == 1
    assert _versions(db) == {"a": 1}

"""Section "tenants" seeds the KPI store as the consumer leaves it: every tenant's totals
rows and its totals version raised, and a change raises that tenant's version only."""

from __future__ import annotations

import random

from bench import tenants
from kpi_service import store
from revisit_common.db import Database
from tests.support.kpi.stores import stores


def test_seed_and_change_raise_the_totals_versions(tmp_path):
    with stores(lambda name: Database(f"sqlite:///{tmp_path / name}.sqlite3")) as make:
        db = make("tenants")
        rows = tenants.seed(db, ["t-1", "t-2"], random.Random(7))
        assert rows == 2 * len(tenants.tenant_rows("t-1", random.Random(7)))
        tenants.change(db, "t-2")
        with db.read() as session:
            assert store.tenant_versions(session) == {"t-1": 1, "t-2": 2}

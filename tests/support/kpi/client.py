"""The KPI service as its tests read it: a client of its API, the scrape of /metrics, and a
snapshot of its store."""

from __future__ import annotations

import json

import sqlalchemy as sa

from kpi_service.models import daily, facts, monthly, totals
from tests.support.client import Client

METRICS_TOKEN = "metrics-test-token"
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}


class KpiClient(Client):
    """The KPI API as the gateway calls it, for one tenant (a viewer unless told)."""

    def __init__(self, app, tenant: str = "tenant-a", role: str = "viewer", **identity):
        super().__init__(app, tenant, role, **identity)

    def kpis(self, **params) -> dict:
        """``GET /api/v1/kpis`` with ``params`` as its query; the body of its 200."""
        response = self.get("/api/v1/kpis", query_string=params)
        assert response.status_code == 200, response.json
        return response.json


def snapshot(runtime) -> dict:
    """Every row of the KPI store, table by table, in a stable order."""
    with runtime.db.engine.connect() as conn:
        return {
            table.name: sorted(tuple(row) for row in conn.execute(sa.select(table)).all())
            for table in (daily, monthly, totals)
        } | {
            "facts": sorted(
                (r.kind, r.entity_id, _json(r.state), _json(r.applied))
                for r in conn.execute(sa.select(facts)).all()
            )
        }


def _json(value) -> str:
    """A fact's JSON, key order aside (merges in another order insert keys in another)."""
    return json.dumps(value, sort_keys=True)

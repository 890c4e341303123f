"""A fresh KPI service per test (SQLite under tmp_path), a viewer's client, and ``feed``
to apply events as the bus would deliver them."""

from __future__ import annotations

import pytest

from kpi_service.bootstrap import SPEC
from tests.support.kpi.client import METRICS_TOKEN, KpiClient
from tests.support.service import service_runtime


@pytest.fixture
def runtime(tmp_path):
    with service_runtime(SPEC, tmp_path, metrics_token=METRICS_TOKEN) as rt:
        yield rt


@pytest.fixture
def client(app):
    return KpiClient(app)


@pytest.fixture
def feed(runtime):
    """Apply envelopes through the consumer, as the bus would deliver them."""

    def apply(*envelopes):
        outcomes = [runtime.consumer.apply(envelope) for envelope in envelopes]
        assert "failed" not in outcomes, outcomes
        return outcomes

    return apply

"""Issue #5 acceptance: every metric name the Prometheus rules and the Grafana dashboard use
appears in the /metrics output of a running standalone instance."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.client import ADMIN, Api
from tests.support.metric_names import metric_names_used
from tests.support.settings import make_settings
from tests.support.system import start_system

from .loops import complaint_loop, follow_up_loop


@pytest.fixture
def system(tmp_path, unique_prefix):
    system = start_system(
        make_settings(data_dir=tmp_path, admin_token=ADMIN, queue_prefix=unique_prefix)
    )
    yield system
    system.close()


def exposed_names(text: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        if family.type == "counter":
            names.add(family.name + "_total")
        names.update(sample.name for sample in family.samples)
    return names


def test_rules_and_dashboard_use_only_exposed_metrics(system):
    follow_up_loop(Api(system).new_tenant(), kpi_timeout=2.0)
    complaint_loop(Api(system).new_tenant("Second"), timeout=2.0)
    scrape = {"Authorization": f"Bearer {ADMIN}"}
    text = system.app.test_client().get("/metrics", headers=scrape).get_data(as_text=True)
    used = metric_names_used()
    assert len(used) > 10  # the rules and dashboard were read
    missing = used - exposed_names(text)
    assert not missing, f"used by rules/dashboard but not exposed: {sorted(missing)}"

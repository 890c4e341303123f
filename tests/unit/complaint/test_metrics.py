"""The deadline gauges the alert rules watch, read from the complaint store at scrape time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from complaint_service.metrics import DeadlineCollector
from complaint_service.options import ComplaintOptions


def gauges(collector) -> dict[str, dict[tuple, float]]:
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    result: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = tuple(sorted(sample.labels.items()))
            result.setdefault(sample.name, {})[key] = sample.value
    return result


def test_overdue_and_due_soon_are_counted_apart(client, runtime):
    long_ago = (datetime.now(UTC) - timedelta(days=60)).isoformat()
    client.create(received_at=long_ago)
    client.create(received_at=long_ago, department="sales")
    client.create()  # general: resolve within 5 working days from now
    closed_late = client.create(received_at=long_ago)
    for action in ("acknowledge", "investigate", "propose", "implement"):
        client.post(f"/api/v1/complaints/{closed_late['id']}/transitions", {"action": action})
    r = client.post(
        f"/api/v1/complaints/{closed_late['id']}/transitions",
        {"action": "resolve", "resolution": "replaced"},
    )
    assert r.status_code == 200

    found = gauges(DeadlineCollector(runtime.db, window=timedelta(days=30)))
    overdue = found["revisit_complaints_overdue"]
    assert sum(overdue.values()) == 2  # the resolved one no longer counts
    departments = {dict(k)["department"] for k in overdue}
    assert departments == {"product", "sales"}
    assert all(dict(k)["tenant"] == "tenant-a" for k in overdue)
    assert sum(found["revisit_complaints_due_soon"].values()) == 1

    narrow = gauges(DeadlineCollector(runtime.db, window=timedelta(minutes=1)))
    assert sum(narrow.get("revisit_complaints_due_soon", {}).values()) == 0
    assert sum(narrow["revisit_complaints_overdue"].values()) == 2


def test_the_deployment_region_and_zero_series_of_a_known_tenant(client, runtime):
    from revisit_common import tenant_settings

    client.create()  # due in days: neither overdue nor due within a minute
    with runtime.db.transaction() as session:
        tenant_settings.store(session, "tenant-b", 1, "Asia/Shanghai", {})
    found = gauges(DeadlineCollector(runtime.db, window=timedelta(minutes=1), region="eu-west"))
    for name in ("revisit_complaints_overdue", "revisit_complaints_due_soon"):
        samples = {dict(k)["tenant"]: (dict(k), v) for k, v in found[name].items()}
        assert samples["tenant-b"] == (
            {
                "tenant": "tenant-b",
                "region": "eu-west",
                "customer_region": "",
                "department": "",
                "severity": "",
            },
            0.0,
        )


def test_the_due_soon_window_from_the_environment():
    assert ComplaintOptions.from_env({}).due_soon_window == timedelta(hours=4)
    env = {"REVISIT_COMPLAINT_DUE_SOON_HOURS": "0.5"}
    assert ComplaintOptions.from_env(env).due_soon_window == timedelta(minutes=30)
    with pytest.raises(ValueError, match="REVISIT_COMPLAINT_DUE_SOON_HOURS"):
        ComplaintOptions.from_env({"REVISIT_COMPLAINT_DUE_SOON_HOURS": "soon"})

"""A randomized scenario against a recomputation from the truth: delivered shuffled, with
redeliveries and republished copies, before and after a rebuild, and through /metrics."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from kpi_service.models import daily
from kpi_service.rebuild import rebuild
from tests.support.kpi.client import SCRAPE, KpiClient, snapshot
from tests.support.kpi.recompute import expected, generate, metric_counts, rates
from tests.support.kpi.scenario import LEVELS, republished

ALL_TIME = (date(2024, 12, 1), date(2026, 12, 31))
GROUPS = (None, "region", "department", "assignee")


def check(client: KpiClient, truth, start: date, end: date, group_by: str | None) -> None:
    body = client.kpis(**{"from": start.isoformat(), "to": end.isoformat()}, group_by=group_by)
    want = expected(truth, start, end, group_by)
    got = {group["key"]: group for group in body["groups"]} if group_by else {None: body}
    assert set(got) == set(want), (start, end, group_by)
    for key, counts in want.items():
        assert {name: got[key]["counts"][name] for name in counts} == counts, (key, group_by)
        for name, value in rates(counts).items():
            assert got[key][name] == pytest.approx(value), (key, group_by, name)


def check_all(client: KpiClient, truth, rng: random.Random) -> None:
    periods = [
        ALL_TIME,
        (date(2025, 3, 1), date(2025, 3, 31)),
        (date(2026, 1, 1), date(2026, 3, 31)),
    ]
    for _ in range(3):
        start = ALL_TIME[0] + (ALL_TIME[1] - ALL_TIME[0]) * rng.random()
        periods.append((start, start + (ALL_TIME[1] - start) * rng.random()))
    for start, end in periods:
        for group_by in GROUPS:
            check(client, truth, start, end, group_by)


def metric_samples(app) -> dict[tuple, float]:
    """(sample name, tenant, customer region or None, extra label) -> value, summed over
    the other labels."""
    text = app.test_client().get("/metrics", headers=SCRAPE).data.decode()
    out: dict[tuple, float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = dict(sample.labels)
            if "tenant" not in labels:
                continue
            extra = next(
                (
                    f"{k}={labels[k]}"
                    for k in ("satisfaction", "accurate", "within_deadline", "satisfied")
                    if k in labels
                ),
                "",
            )
            key = (sample.name, labels["tenant"], labels.get("customer_region"), extra)
            out[key] += sample.value
    return out


# The families with label customer_region (the cardinality budget, collector.py).
BY_CUSTOMER_REGION = {
    "revisit_complaints_raised_total": "complaints",
    "revisit_purchases_total": "purchases",
}


def check_metrics(app, client: KpiClient, truth) -> None:
    """The /metrics text agrees with the truth's all-time counts: the tenant's, and region
    by region where a family has customer_region."""
    samples = metric_samples(app)
    want = metric_counts(truth)
    assert len(want) > 1
    for region, counts in want.items():
        for name, count in BY_CUSTOMER_REGION.items():
            assert samples.get((name, client.tenant, region, ""), 0.0) == counts[count], name
    tenant = {
        name: sum(counts[name] for counts in want.values()) for name in next(iter(want.values()))
    }
    check_tenant(samples, client.tenant, tenant)


def check_tenant(samples: dict, tenant: str, counts: dict) -> None:
    def value(name: str, extra: str = "") -> float:
        return sum(v for (n, t, _, e), v in samples.items() if (n, t, e) == (name, tenant, extra))

    def split(name: str, label: str) -> tuple[float, float]:
        yes, no = value(name, f"{label}=true"), value(name, f"{label}=false")
        return yes, yes + no

    due = counts["visits_due"] + counts["visits_cancelled"]
    assert value("revisit_visits_due_total") == due  # a cancellation lowers no counter
    assert value("revisit_visits_cancelled_total") == counts["visits_cancelled"]
    assert value("revisit_visits_completed_total") == counts["visits_completed"]
    on_time = value("revisit_visits_completed_on_time_total")
    assert on_time == counts["visits_completed_on_time"]
    levels = {
        level: value("revisit_visit_ratings_total", f"satisfaction={level}") for level in LEVELS
    }
    assert sum(levels.values()) == counts["visits_rated"]
    assert levels["very_satisfied"] + levels["satisfied"] == counts["visits_satisfied"]
    assert value("revisit_visits_overdue") == counts["visits_overdue"]
    assert value("revisit_issues_raised_total") == counts["issues_raised"]
    assert value("revisit_issues_resolved_total") == counts["issues_resolved"]
    audits = split("revisit_visit_audits_total", "accurate")
    assert audits == (counts["audits_accurate"], counts["audits"])
    assert value("revisit_complaints_raised_total") == counts["complaints"]
    resolved = split("revisit_complaints_resolved_total", "within_deadline")  # ever resolved
    first = (counts["complaints_first_resolved_on_time"], counts["complaints_first_resolved"])
    assert resolved == first
    assert value("revisit_complaints_open") == counts["complaints_open"]
    follow_ups = split("revisit_complaint_follow_ups_total", "satisfied")
    assert follow_ups == (counts["complaint_follow_ups_satisfied"], counts["complaint_follow_ups"])
    assert value("revisit_purchases_total") == counts["purchases"]
    assert value("revisit_customers_total") == counts["customers"]


def test_randomized_scenario_matches_a_recomputation(runtime, app, client, feed):
    rng = random.Random(20261122)
    truth = generate(rng, visits=1000)
    events = truth.events(client.tenant)
    assert len(events) > 3000
    stream = events + rng.sample(events, 300) + [republished(e) for e in rng.sample(events, 300)]
    rng.shuffle(stream)  # the tenant's time zone arrives somewhere in the middle
    outcomes = feed(*stream)
    assert outcomes.count("duplicate") == 300

    check_all(client, truth, random.Random(1))
    check_metrics(app, client, truth)
    before = snapshot(runtime)

    assert rebuild(runtime.db, batch=250) == len(stream) - 300
    assert snapshot(runtime) == before
    check_all(client, truth, random.Random(1))
    check_metrics(app, client, truth)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), data=st.data())
def test_shuffled_streams_with_redeliveries_give_the_same_figures(app, feed, seed, data):
    rng = random.Random(seed)
    zone = data.draw(st.sampled_from(["Asia/Shanghai", "America/New_York", "Pacific/Kiritimati"]))
    truth = generate(rng, visits=20, timezone=zone)
    client = KpiClient(app, f"t-{uuid.uuid4().hex[:12]}")  # a fresh tenant per example
    events = truth.events(client.tenant)
    extra = data.draw(st.lists(st.sampled_from(events), max_size=15))
    stream = data.draw(st.permutations(events + [republished(e) for e in extra]))
    feed(*stream, *data.draw(st.lists(st.sampled_from(stream), max_size=10)))
    for group_by in GROUPS:
        check(client, truth, *ALL_TIME, group_by)


def test_rebuild_command(runtime, client, feed, tmp_path, monkeypatch, capsys):
    from kpi_service import rebuild as command

    truth = generate(random.Random(7), visits=30)
    feed(*truth.events(client.tenant))
    before = snapshot(runtime)
    with runtime.db.engine.begin() as conn:  # damage the aggregates
        conn.execute(daily.delete())
    monkeypatch.setenv("REVISIT_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("REVISIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("REVISIT_KPI_DATABASE_URL", raising=False)
    assert command.main([]) == 0
    assert "rebuilt the kpi store" in capsys.readouterr().out
    assert snapshot(runtime) == before
    check(client, truth, *ALL_TIME, "assignee")

"""Issue #3 acceptance: for a randomized scenario of over 1,000 visits, issues, audits and
purchases, driven through the gateway, every KPI count equals a recomputation from the
source services' own data, before and after a rebuild of the KPI store; and the /metrics
text, parsed with prometheus_client's parser, agrees with /kpis."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from customer_service.models import Customer, Purchase
from kpi_service.domain import CONTRACT_COUNTS
from kpi_service.rebuild import rebuild
from tests.support.client import ADMIN, Api
from tests.support.polling import wait_until
from tests.support.settings import make_settings
from tests.support.system import CUSTOMER, start_system
from visit_service.models import Audit, Issue, Visit

ZONE = ZoneInfo("Asia/Shanghai")  # the tenant's default time zone
REGIONS = ("east", "west", "north")
# The instant the system sees: after every date of the scenario (purchases are not future).
AFTER_THE_SCENARIO = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
STAFF = ("li.wei", "wang.fang", "zhang.min", "chen.jie", "liu.yang")
LEVELS = ("very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied")
WINDOWS = (
    ("2026-01-01", "2028-12-31"),
    ("2026-11-01", "2026-11-30"),
    ("2027-01-01", "2027-03-31"),
    ("2026-12-15", "2027-02-14"),
)
VISITS = 1000


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    rng = random.Random(20261122)
    data = tmp_path_factory.mktemp("kpi-consistency")
    settings = make_settings(data_dir=data, admin_token=ADMIN, queue_prefix="kpicons")
    system = start_system(settings, clock=lambda: AFTER_THE_SCENARIO)
    api = Api(system).new_tenant("Consistency")
    customers = []
    for i in range(24):
        body = {
            **CUSTOMER,
            "name": f"Customer {i}",
            "region": REGIONS[i % 3],
            "owner": STAFF[i % 5],
            "annual_purchase_amount": rng.randrange(1000, 3_000_000),
        }
        r = api.post("/customers", body)
        assert r.status_code == 201
        customers.append(r.json["id"])
    for _ in range(250):
        day = date(2026, 10, 1) + timedelta(days=rng.randrange(120))
        r = api.post(
            f"/customers/{rng.choice(customers)}/purchases",
            {
                "amount": rng.randrange(100, 50000),
                "product": "Pump X",
                "purchased_at": f"{day.isoformat()}T{rng.randrange(24):02d}:30:00+08:00",
            },
        )
        assert r.status_code == 201
    # the visit service learns of every customer from the bus
    wait_until(
        lambda: all(
            api.get(f"/visits?customer_id={c}").status_code == 200
            and api.post(
                "/visits", {"customer_id": c, "reason": "care", "trigger": "probe"}
            ).status_code
            in (201, 409)
            for c in customers
        ),
        timeout=10,
    )
    visit_ids = []
    for i in range(VISITS):
        due = date(2026, 9, 1) + timedelta(days=rng.randrange(240))
        r = api.post(
            "/visits",
            {
                "customer_id": rng.choice(customers),
                "reason": rng.choice(("care", "post_event", "post_project")),
                "trigger": f"scenario-{i}",
                "due_date": due.isoformat(),
                "assignee": rng.choice(STAFF),
            },
        )
        assert r.status_code == 201, r.json
        visit_ids.append(r.json["id"])
    issues, completed = [], []
    for vid in visit_ids:
        roll = rng.random()
        if roll < 0.08:
            assert api.post(f"/visits/{vid}/cancel", {}).status_code == 200
        elif roll < 0.7:
            body = {"satisfaction": rng.choice(LEVELS)}
            if rng.random() < 0.7:
                body["recommend_score"] = rng.randrange(11)
            if rng.random() < 0.2:
                body["issues"] = [
                    {
                        "category": "product_quality",
                        "description": "broken",
                        "department": rng.choice(("product", "sales", "logistics")),
                    }
                ]
            r = api.post(f"/visits/{vid}/complete", body)
            assert r.status_code == 200, r.json
            completed.append(vid)
            issues += [issue["id"] for issue in r.json["issues"]]
    for iid in issues:
        if rng.random() < 0.5:
            assert api.post(f"/issues/{iid}/resolve", {"resolution": "fixed"}).status_code == 200
    for vid in completed:
        if rng.random() < 0.3:
            r = api.post(f"/visits/{vid}/audit", {"accurate": rng.random() < 0.8})
            assert r.status_code == 200
    yield system, api
    system.close()


def local_day(instant) -> date:
    return instant.astimezone(ZONE).date()


def recompute(system, tenant: str, start: str, end: str) -> dict:
    """The KPI counts, straight from the visit and customer services' tables."""
    lo, hi = date.fromisoformat(start), date.fromisoformat(end)
    counts = Counter()
    with system.runtimes["visit"].db.read() as s:
        for v in s.scalars(sa.select(Visit).where(Visit.tenant_id == tenant)):
            if v.status == "cancelled" or not lo <= v.due_date <= hi:
                continue
            counts["visits_due"] += 1
            if v.status == "completed":
                counts["visits_completed"] += 1
                counts["visits_completed_on_time"] += bool(v.on_time)
                counts["visits_rated"] += v.satisfaction is not None
                counts["visits_satisfied"] += v.satisfaction in ("very_satisfied", "satisfied")
        for i in s.scalars(sa.select(Issue).where(Issue.tenant_id == tenant)):
            if lo <= local_day(i.raised_at) <= hi:
                counts["issues_raised"] += 1
                counts["issues_resolved"] += i.status == "resolved"
        for a in s.scalars(sa.select(Audit).where(Audit.tenant_id == tenant)):
            if lo <= local_day(a.audited_at) <= hi:
                counts["audits"] += 1
                counts["audits_accurate"] += a.accurate
    with system.runtimes["customer"].db.read() as s:
        for p in s.scalars(sa.select(Purchase).where(Purchase.tenant_id == tenant)):
            counts["purchases"] += lo <= local_day(p.purchased_at) <= hi
        for c in s.scalars(sa.select(Customer).where(Customer.tenant_id == tenant)):
            counts["customers"] += local_day(c.created_at) <= hi
    return counts


# The counts this scenario produces: the CONTRACT counts but the complaint ones.
NAMES = tuple(name for name in CONTRACT_COUNTS if not name.startswith("complaint"))


def tenant_of(system, api) -> str:
    return api.get("/tenants/current").json["id"]


def check_all_windows(system, api, tenant):
    for start, end in WINDOWS:
        expected = recompute(system, tenant, start, end)

        def same(start=start, end=end, expected=expected):
            got = api.get(f"/kpis?from={start}&to={end}").json
            return all(got["counts"][n] == expected[n] for n in NAMES) and got

        kpis = wait_until(same, timeout=30, interval=0.2)
        c = kpis["counts"]
        assert kpis["visit_completion_rate"] == pytest.approx(
            c["visits_completed"] / c["visits_due"]
        )
        assert kpis["satisfaction_rate"] == pytest.approx(c["visits_satisfied"] / c["visits_rated"])
        if c["issues_raised"]:
            assert kpis["issue_resolution_rate"] == pytest.approx(
                c["issues_resolved"] / c["issues_raised"]
            )
        if c["audits"]:
            assert kpis["record_accuracy_rate"] == pytest.approx(c["audits_accurate"] / c["audits"])


def test_scenario_is_large_enough(scenario):
    system, api = scenario
    counts = api.get("/kpis?from=2026-01-01&to=2028-12-31").json["counts"]
    assert counts["visits_due"] >= VISITS * 0.9
    assert counts["issues_raised"] > 50 and counts["audits"] > 100
    assert counts["purchases"] == 250


def test_kpis_equal_source_data_before_and_after_rebuild(scenario):
    system, api = scenario
    tenant = tenant_of(system, api)
    check_all_windows(system, api, tenant)
    replayed = rebuild(system.runtimes["kpi"].db)
    assert replayed > VISITS
    check_all_windows(system, api, tenant)


def test_groups_by_region_and_assignee_sum_to_the_whole(scenario):
    system, api = scenario
    whole = api.get("/kpis?from=2026-01-01&to=2028-12-31").json["counts"]
    for dim in ("region", "assignee"):
        groups = api.get(f"/kpis?from=2026-01-01&to=2028-12-31&group_by={dim}").json["groups"]
        assert sum(g["counts"]["visits_due"] for g in groups) == whole["visits_due"]
        assert sum(g["counts"]["visits_completed"] for g in groups) == whole["visits_completed"]
    regions = {
        g["key"]
        for g in api.get("/kpis?from=2026-01-01&to=2028-12-31&group_by=region").json["groups"]
    }
    assert set(REGIONS) <= regions


def test_metrics_text_agrees_with_kpis(scenario):
    system, api = scenario
    tenant = tenant_of(system, api)
    counts = api.get("/kpis?from=2026-01-01&to=2028-12-31").json["counts"]
    scrape = {"Authorization": f"Bearer {ADMIN}"}
    text = system.app.test_client().get("/metrics", headers=scrape).get_data(as_text=True)
    totals = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("tenant") == tenant:
                key = (
                    sample.name,
                    sample.labels.get("accurate"),
                    sample.labels.get("satisfaction"),
                )
                totals[key] += sample.value
    due = counts["visits_due"] + counts["visits_cancelled"]  # cancelling lowers no counter
    assert totals[("revisit_visits_due_total", None, None)] == due
    cancelled = totals[("revisit_visits_cancelled_total", None, None)]
    assert cancelled == counts["visits_cancelled"]
    assert totals[("revisit_visits_completed_total", None, None)] == counts["visits_completed"]
    assert (
        totals[("revisit_visits_completed_on_time_total", None, None)]
        == counts["visits_completed_on_time"]
    )
    assert totals[("revisit_issues_raised_total", None, None)] == counts["issues_raised"]
    assert totals[("revisit_issues_resolved_total", None, None)] == counts["issues_resolved"]
    assert totals[("revisit_purchases_total", None, None)] == counts["purchases"]
    assert totals[("revisit_visit_audits_total", "true", None)] == counts["audits_accurate"]
    assert (
        totals[("revisit_visit_audits_total", "true", None)]
        + totals[("revisit_visit_audits_total", "false", None)]
    ) == counts["audits"]
    rated = sum(totals[("revisit_visit_ratings_total", None, lv)] for lv in LEVELS)
    assert rated == counts["visits_rated"]
    satisfied = sum(totals[("revisit_visit_ratings_total", None, lv)] for lv in LEVELS[:2])
    assert satisfied == counts["visits_satisfied"]

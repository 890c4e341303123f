"""The benchmark's event stream: deterministic, valid, and counted by the KPI rules."""

from __future__ import annotations

from collections import Counter

from bench.events import Stream
from kpi_service import domain
from revisit_common.events import CATALOGUE
from revisit_common.messaging.envelope import parse


def test_the_same_seed_gives_the_same_events():
    first = [(t, e.type_name(), e.data()) for t, e in Stream(tenants=3).events(500)]
    again = [(t, e.type_name(), e.data()) for t, e in Stream(tenants=3).events(500)]
    other = [(t, e.type_name(), e.data()) for t, e in Stream(tenants=3, seed=8).events(500)]
    assert first == again
    assert first != other


def test_exactly_the_count_asked_for_over_the_tenants_asked_for():
    pairs = list(Stream(tenants=3).events(1001))
    assert len(pairs) == 1001
    assert len({tenant for tenant, _ in pairs}) == 3


def test_envelopes_are_valid_cloudevents_of_the_catalogue():
    for envelope in Stream().envelopes(300):
        assert envelope.type in CATALOGUE
        again = parse(envelope.to_json())
        assert (again.id, again.type, again.data) == (envelope.id, envelope.type, envelope.data)


def test_the_kpi_rules_count_the_stream_like_a_real_tenant():
    """Folded through the KPI rules (merge, then each fact's contribution), the stream has
    every figure the dashboards show, in plausible proportions."""
    states: dict[tuple, dict] = {}
    for envelope in Stream(days=90).envelopes(4000):
        event = domain.Observed(envelope.type, envelope.id, envelope.time, envelope.data)
        rule, entity = domain.target(event)
        key = (envelope.tenantid, rule.kind, entity)
        states[key] = domain.merge(states.get(key, {}), event, rule)
    totals: Counter = Counter()
    for (_, kind, _), state in states.items():
        made = domain.contribution(kind, state, "Asia/Shanghai")
        if made is not None:
            totals.update(made.counts)
    assert totals["visits_due"] > 1000
    assert 0.7 < totals["visits_completed"] / totals["visits_due"] < 0.95
    assert 0 < totals["visits_completed_on_time"] < totals["visits_completed"]
    assert 0 < totals["visits_satisfied"] < totals["visits_rated"]
    assert 0 < totals["issues_resolved"] < totals["issues_raised"]
    assert 0 < totals["audits_accurate"] < totals["audits"]
    assert 0 < totals["complaints_resolved"] <= totals["complaints"]
    assert totals["purchases"] > 0 and totals["customers"] > 0

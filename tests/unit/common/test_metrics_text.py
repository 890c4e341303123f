"""metrics.plain_text: the same bytes as prometheus-client's generate_latest, faster."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)

from kpi_service.collector import families as kpi_families
from kpi_service.domain import COUNTS
from revisit_common.metrics import plain_text


class _Fixed:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def _reference(families) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(families))
    return generate_latest(registry)


LABEL = st.text(
    alphabet=st.sampled_from(["a", "Z", "-", " ", '"', "\\", "\n", "é", "中", "{", "}", "="]),
    max_size=6,
)
ROW = st.fixed_dictionaries(
    {
        "tenant_id": LABEL,
        "kind": st.sampled_from(["visit", "issue", "audit", "purchase", "customer", "complaint"]),
        "region": LABEL,
        "department": LABEL,
        "reason": LABEL,
        "severity": LABEL,
        "channel": LABEL,
        **{name: st.integers(0, 10**9) for name in COUNTS},
    }
)


@given(st.lists(ROW, max_size=12))
def test_the_kpi_families_render_byte_for_byte_as_generate_latest(rows):
    families = kpi_families(rows)
    assert plain_text(families) == _reference(families)


def test_counters_gauges_and_values_of_every_kind():
    counter = CounterMetricFamily("revisit_x", "Help with \\ and\nnewline", labels=["b", "a"])
    counter.add_metric(["2", 'q"uote'], 0)
    counter.add_metric(["1", "\\n"], 1.5e21)
    gauge = GaugeMetricFamily("revisit_y", "A gauge", labels=[])
    gauge.add_metric([], float("nan"))
    bare = GaugeMetricFamily("revisit_z", "Unlabelled", value=-3)
    families = [counter, gauge, bare]
    assert plain_text(families) == _reference(families)
    assert b'revisit_x_total{a="q\\"uote",b="2"} 0.0\n' in plain_text(families)


def test_other_families_go_through_prometheus_client():
    histogram = HistogramMetricFamily(
        "revisit_h", "A histogram", buckets=[("1.0", 2), ("+Inf", 3)], sum_value=4.5
    )
    created = CounterMetricFamily("revisit_c", "With created", value=2, created=1700000000.0)
    timed = GaugeMetricFamily("revisit_t", "Timed", labels=["a"])
    timed.add_metric(["x"], 1, timestamp=1700000000.5)
    families = [histogram, created, timed]
    assert plain_text(families) == _reference(families)
    assert b"revisit_c_created" in plain_text(families)

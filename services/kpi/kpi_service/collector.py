"""Business metrics (CONTRACT.md §3), read from ``kpi_totals`` at every scrape.

The collector holds no numbers: each scrape reads the store, so the figures survive restarts
and every replica reports the same. Counters are the all-time counts ``GET /kpis`` reports
for the same tenant and customer region, except ``revisit_visits_due_total``: every visit
ever due, cancelled or not (``visits_due + visits_cancelled``), so that a cancellation
never lowers it; ``revisit_visits_cancelled_total`` counts the cancelled ones, and the rules
take them off the completion denominator. The policies' own KPIs (DOMAIN.md §6) have
``revisit_units_sold_total`` (purchase quantities: complaints per unit sold) and
``revisit_complaint_resolve_limits_total`` / ``revisit_complaints_resolved_within_limit_total``
(complaints with a resolve limit, and those resolved within it: on-time handling over all
complaints); counted when the complaint arrives, where ``GET /kpis`` dates them by the limit.
Counters never fall: ``revisit_complaints_resolved_total`` counts complaints resolved at
least once (``within_deadline``: their first resolution was), where ``GET /kpis`` counts
those resolved and not reopened since, and every series files a fact under the labels it
was first seen with (``GET /kpis`` groups by the newest; domain.py).
The distinct customers behind customer visit completion are per period, not a count that
only grows, so they are in ``GET /kpis`` only. Labels: ``tenant``, ``region`` (this
deployment's region) and ``customer_region`` (the customer's sales region) on every series,
then ``reason`` (visits), ``department`` (issues, complaints), ``severity`` and ``channel``
(complaints); never a staff member. Every tenant the store knows has a series of every
family from the start (all other labels empty, value 0 until something is counted there),
so gauges at zero and counters before their first increment are visible.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from revisit_common.db import Database

from . import store
from .domain import LEVELS

log = logging.getLogger(__name__)

Value = Callable[[Mapping[str, int]], int]


@dataclass(frozen=True)
class Family:
    name: str
    doc: str
    gauge: bool
    kind: str  # the fact kind whose totals feed it
    labels: tuple[str, ...]  # after tenant and region
    samples: tuple[tuple[dict[str, str], Value], ...]  # extra labels, value
    counts: tuple[str, ...]  # the counts its values read


def _due(c: Mapping[str, int]) -> int:
    return c["visits_due"] + c["visits_cancelled"]


def _one(name: str, doc: str, kind: str, labels: tuple[str, ...], count: str, gauge=False):
    return Family(name, doc, gauge, kind, labels, (({}, lambda c: c[count]),), (count,))


def _split(name: str, doc: str, kind: str, labels, label: str, part: str, total: str):
    """A family whose ``label`` is "true" for ``part`` and "false" for the rest of ``total``."""
    samples = (
        ({label: "true"}, lambda c: c[part]),
        ({label: "false"}, lambda c: c[total] - c[part]),
    )
    return Family(name, doc, False, kind, labels, samples, (part, total))


VISIT, ISSUE, COMPLAINT = ("reason",), ("department",), ("department", "severity", "channel")
RATINGS = tuple(({"satisfaction": level}, lambda c, lv=level: c[f"rated_{lv}"]) for level in LEVELS)
FAMILIES = (
    Family(
        "revisit_visits_due",
        "Visits due, cancelled ones included",
        False,
        "visit",
        VISIT,
        (({}, _due),),
        ("visits_due", "visits_cancelled"),
    ),
    _one(
        "revisit_visits_cancelled",
        "Visits cancelled before completion",
        "visit",
        VISIT,
        "visits_cancelled",
    ),
    _one("revisit_visits_completed", "Visits completed", "visit", VISIT, "visits_completed"),
    _one(
        "revisit_visits_completed_on_time",
        "Visits completed on time",
        "visit",
        VISIT,
        "visits_completed_on_time",
    ),
    Family(
        "revisit_visit_ratings",
        "Visits rated, by satisfaction",
        False,
        "visit",
        VISIT,
        RATINGS,
        tuple(f"rated_{level}" for level in LEVELS),
    ),
    _one("revisit_visits_overdue", "Visits overdue", "visit", VISIT, "visits_overdue", gauge=True),
    _split(
        "revisit_complaint_follow_ups",
        "Rated post-complaint visits, by satisfied",
        "visit",
        (),
        "satisfied",
        "complaint_follow_ups_satisfied",
        "complaint_follow_ups",
    ),
    _one("revisit_issues_raised", "Issues raised on visits", "issue", ISSUE, "issues_raised"),
    _one("revisit_issues_resolved", "Issues resolved", "issue", ISSUE, "issues_resolved"),
    _split(
        "revisit_visit_audits", "Visit audits", "audit", (), "accurate", "audits_accurate", "audits"
    ),
    _one("revisit_complaints_raised", "Complaints received", "complaint", COMPLAINT, "complaints"),
    _split(
        "revisit_complaints_resolved",
        "Complaints resolved at least once, by first resolution within deadline",
        "complaint",
        COMPLAINT,
        "within_deadline",
        "complaints_first_resolved_on_time",
        "complaints_first_resolved",
    ),
    _one(
        "revisit_complaints_open",
        "Complaints not closed",
        "complaint",
        COMPLAINT,
        "complaints_open",
        gauge=True,
    ),
    _one(
        "revisit_complaint_resolve_limits",
        "Complaints with a resolve limit",
        "complaint",
        COMPLAINT,
        "complaint_resolve_limits",
    ),
    _one(
        "revisit_complaints_resolved_within_limit",
        "Complaints with a resolve limit resolved within it",
        "complaint",
        COMPLAINT,
        "complaints_resolved_within_limit",
    ),
    _one("revisit_purchases", "Purchases recorded", "purchase", (), "purchases"),
    _one("revisit_units_sold", "Units sold (purchase quantities)", "purchase", (), "units_sold"),
    _one("revisit_customers", "Customers registered", "customer", (), "customers"),
)


def families(
    rows: Iterable[Mapping], region: str = "", tenants: Iterable[str] = ()
) -> list[Metric]:
    """The metric families for ``kpi_totals`` rows (pure: no database).

    ``region`` is this deployment's; a row's own ``region`` is the customer's and becomes
    ``customer_region``. Every tenant of ``tenants`` and of the rows gets a zero series
    (its other labels empty) in every family. Runs at every scrape: each family goes over
    the rows of its own fact kind only and sums only the counts it reports."""
    by_kind: dict[str, list[Mapping]] = {}
    known = set(tenants)
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row)
        known.add(row["tenant_id"])
    out = []
    for spec in FAMILIES:
        names = ("tenant", "region", "customer_region", *spec.labels)
        extra = tuple(spec.samples[0][0])
        make = GaugeMetricFamily if spec.gauge else CounterMetricFamily
        family = make(spec.name, spec.doc, labels=[*names, *extra])
        grouped: dict[tuple, dict[str, int]] = {
            (tenant, region, *[""] * (len(names) - 2)): dict.fromkeys(spec.counts, 0)
            for tenant in known
        }
        for row in by_kind.get(spec.kind, ()):
            key = (row["tenant_id"], region, *(row[name] for name in ("region", *spec.labels)))
            sums = grouped.get(key)
            if sums is None:
                sums = grouped[key] = dict.fromkeys(spec.counts, 0)
            for name in spec.counts:
                sums[name] += row[name]
        for key in sorted(grouped):
            for labels, value in spec.samples:
                family.add_metric([*key, *labels.values()], value(grouped[key]))
        out.append(family)
    return out


class KpiCollector:
    """A stateless collector: every ``collect`` reads the store."""

    def __init__(self, db: Database, region: str = ""):
        self.db = db
        self.region = region

    def collect(self) -> Iterable[Metric]:
        try:
            with self.db.read() as session:
                rows = store.all_totals(session)
                tenants = store.tenant_ids(session)
        except Exception:  # noqa: BLE001 - database down: report it, serve the families empty
            log.exception("kpi metrics: the store could not be read")
            rows, tenants = [], []
        yield from families(rows, self.region, tenants)

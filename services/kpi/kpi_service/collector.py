"""Business metrics (CONTRACT.md §3), read from ``kpi_totals``, rendered again only when it
has changed.

The collector holds no numbers of its own: the figures survive restarts and every replica
reports the same. Counters are the all-time counts ``GET /kpis`` reports for the same
tenant, except ``revisit_visits_due_total``: every visit ever due, cancelled or not
(``visits_due + visits_cancelled``), so that a cancellation never lowers it;
``revisit_visits_cancelled_total`` counts the cancelled ones, and the rules take them off the
completion denominator. The policies' own KPIs (DOMAIN.md §6) have
``revisit_units_sold_total`` (purchase quantities: complaints per unit sold) and
``revisit_complaint_resolve_limits_total`` / ``revisit_complaints_resolved_within_limit_total``
(complaints with a resolve limit, and those resolved within it: on-time handling over all
complaints); counted when the complaint arrives, where ``GET /kpis`` dates them by the limit.
Counters never fall: ``revisit_complaints_resolved_total`` counts complaints resolved at
least once (``within_deadline``: their first resolution was), where ``GET /kpis`` counts
those resolved and not reopened since, and every series files a fact under the labels it
was first seen with (``GET /kpis`` groups by the newest; domain.py). The distinct customers
behind customer visit completion are per period, so they are in ``GET /kpis`` only.

The cardinality budget (README "Metrics"): at most 29 + 2 x (customer regions) series per
tenant. Labels ``tenant`` and ``region`` (this deployment's) on every series; then only what
the rules, alerts and dashboard read: ``reason`` on due, cancelled and completed visits
(the rollout alerts), as ``new_customer``, ``repair`` or ``other`` (every other reason: a
fixed mapping, so a counter never moves between series); ``satisfaction``, ``accurate``,
``within_deadline``, ``satisfied`` (a fixed handful of values each); ``customer_region``
(the customer's sales region) on ``revisit_complaints_raised_total`` and
``revisit_purchases_total`` only (complaint incidence per sales region). Breakdowns by
department, severity, channel, reason and customer region of everything else are in
``GET /kpis?group_by=`` and the reports, never in label values; never a staff member.
Every tenant the store knows has a series of every family from the start, value 0 until
something is counted there: every value of its fixed-value labels, and for a family with
``customer_region`` one series with it empty until the tenant's first fact there.

Scrapes: :meth:`KpiCollector.text` reads each tenant's totals version (raised in the same
transaction as any change to its ``kpi_totals`` rows, store.py) and the tenants; it reads
and renders again only the tenants whose version moved (or new ones) and serves the lines
it kept for the others. Versions are read before the totals, so kept lines are never older
than the version they are kept under: a writer committing in between makes the next scrape
render that tenant again. Each process keeps its own lines (the web workers, the worker).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import product

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from revisit_common.db import Database
from revisit_common.metrics import plain_text

from . import store
from .domain import LEVELS

log = logging.getLogger(__name__)

Value = Callable[[Mapping[str, int]], int]

# The visit reasons the rollout rules read keep their name; every other reason is "other".
ROLLOUT_REASONS = ("new_customer", "repair")
OTHER = "other"
FIXED = {"reason": (*ROLLOUT_REASONS, OTHER)}  # a label whose values are these only


def label_value(label: str, value: str) -> str:
    """The value a ``kpi_totals`` label has on the series (a fixed mapping)."""
    if label == "reason":
        return value if value in ROLLOUT_REASONS else OTHER
    return value


@dataclass(frozen=True)
class Family:
    name: str
    doc: str
    gauge: bool
    kind: str  # the fact kind whose totals feed it
    labels: tuple[str, ...]  # kpi_totals labels after tenant and region
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


REASON, SALES = ("reason",), ("customer_region",)
RATINGS = tuple(({"satisfaction": level}, lambda c, lv=level: c[f"rated_{lv}"]) for level in LEVELS)
FAMILIES = (
    Family(
        "revisit_visits_due",
        "Visits due, cancelled ones included",
        False,
        "visit",
        REASON,
        (({}, _due),),
        ("visits_due", "visits_cancelled"),
    ),
    _one(
        "revisit_visits_cancelled",
        "Visits cancelled before completion",
        "visit",
        REASON,
        "visits_cancelled",
    ),
    _one("revisit_visits_completed", "Visits completed", "visit", REASON, "visits_completed"),
    _one(
        "revisit_visits_completed_on_time",
        "Visits completed on time",
        "visit",
        (),
        "visits_completed_on_time",
    ),
    Family(
        "revisit_visit_ratings",
        "Visits rated, by satisfaction",
        False,
        "visit",
        (),
        RATINGS,
        tuple(f"rated_{level}" for level in LEVELS),
    ),
    _one("revisit_visits_overdue", "Visits overdue", "visit", (), "visits_overdue", gauge=True),
    _split(
        "revisit_complaint_follow_ups",
        "Rated post-complaint visits, by satisfied",
        "visit",
        (),
        "satisfied",
        "complaint_follow_ups_satisfied",
        "complaint_follow_ups",
    ),
    _one("revisit_issues_raised", "Issues raised on visits", "issue", (), "issues_raised"),
    _one("revisit_issues_resolved", "Issues resolved", "issue", (), "issues_resolved"),
    _split(
        "revisit_visit_audits", "Visit audits", "audit", (), "accurate", "audits_accurate", "audits"
    ),
    _one("revisit_complaints_raised", "Complaints received", "complaint", SALES, "complaints"),
    _split(
        "revisit_complaints_resolved",
        "Complaints resolved at least once, by first resolution within deadline",
        "complaint",
        (),
        "within_deadline",
        "complaints_first_resolved_on_time",
        "complaints_first_resolved",
    ),
    _one(
        "revisit_complaints_open",
        "Complaints not closed",
        "complaint",
        (),
        "complaints_open",
        gauge=True,
    ),
    _one(
        "revisit_complaint_resolve_limits",
        "Complaints with a resolve limit",
        "complaint",
        (),
        "complaint_resolve_limits",
    ),
    _one(
        "revisit_complaints_resolved_within_limit",
        "Complaints with a resolve limit resolved within it",
        "complaint",
        (),
        "complaints_resolved_within_limit",
    ),
    _one("revisit_purchases", "Purchases recorded", "purchase", SALES, "purchases"),
    _one("revisit_units_sold", "Units sold (purchase quantities)", "purchase", (), "units_sold"),
    _one("revisit_customers", "Customers registered", "customer", (), "customers"),
)


def _columns() -> dict[str, tuple[str, ...]]:
    """Per fact kind, the ``kpi_totals`` columns its families' labels come from."""
    out: dict[str, set[str]] = {}
    for spec in FAMILIES:
        out.setdefault(spec.kind, set()).update(_source(name) for name in spec.labels)
    return {kind: tuple(sorted(names)) for kind, names in out.items()}


def read_totals(session, tenants=None) -> list[dict]:
    """The totals of ``tenants`` (None: all) summed by the labels of the families only."""
    return store.metric_totals(session, COLUMNS, {"reason": ROLLOUT_REASONS}, tenants)


def _source(label: str) -> str:
    """The ``kpi_totals`` column behind a label (``customer_region``: the row's region)."""
    return "region" if label == "customer_region" else label


COLUMNS = _columns()


def _family(spec: Family, rows: list[Mapping], region: str, known: set[str]) -> Metric:
    make = GaugeMetricFamily if spec.gauge else CounterMetricFamily
    extra = tuple(spec.samples[0][0])
    family = make(spec.name, spec.doc, labels=["tenant", "region", *spec.labels, *extra])
    grouped: dict[tuple, dict[str, int]] = {}
    for row in rows:
        values = (label_value(name, row[_source(name)]) for name in spec.labels)
        key = (row["tenant_id"], *values)
        sums = grouped.get(key)
        if sums is None:
            sums = grouped[key] = dict.fromkeys(spec.counts, 0)
        for name in spec.counts:
            sums[name] += row[name]
    seen = {key[0] for key in grouped}
    free = any(name not in FIXED for name in spec.labels)  # a label of any value
    zeros = list(product(*(FIXED.get(name, ("",)) for name in spec.labels)))
    for tenant in known:
        if free and tenant in seen:
            continue  # its own series are there: no empty one
        for values in zeros:
            grouped.setdefault((tenant, *values), dict.fromkeys(spec.counts, 0))
    for key in sorted(grouped):
        for labels, value in spec.samples:
            family.add_metric([key[0], region, *key[1:], *labels.values()], value(grouped[key]))
    return family


def families(
    rows: Iterable[Mapping], region: str = "", tenants: Iterable[str] = ()
) -> list[Metric]:
    """The metric families for ``kpi_totals`` rows (pure: no database).

    ``region`` is this deployment's; a row's own ``region`` is the customer's and becomes
    ``customer_region`` where a family has it. Every tenant of ``tenants`` and of the rows
    gets its zero series in every family (see the module's docstring). Each family goes over
    the rows of its own fact kind only and sums only the counts it reports."""
    by_kind: dict[str, list[Mapping]] = {}
    known = set(tenants)
    for row in rows:
        by_kind.setdefault(row["kind"], []).append(row)
        known.add(row["tenant_id"])
    return [_family(spec, by_kind.get(spec.kind, []), region, known) for spec in FAMILIES]


def _tenant_parts(fams: list[Metric]) -> dict[str, list[str]]:
    """Each tenant's sample lines of each family (in order), from the families' text."""
    out: dict[str, list[str]] = {}
    for index, family in enumerate(fams):
        lines = plain_text([family]).decode("utf-8").splitlines(keepends=True)[2:]  # no header
        for sample, line in zip(family.samples, lines, strict=True):
            parts = out.setdefault(sample.labels["tenant"], [""] * len(fams))
            parts[index] += line
    return out


class KpiCollector:
    """Reads the store at every scrape; renders again only the tenants whose totals changed
    (their version moved) and keeps the others' lines."""

    def __init__(self, db: Database, region: str = ""):
        self.db = db
        self.region = region
        self.lock = threading.Lock()
        self.headers = [
            plain_text([family]).decode("utf-8") for family in families([], region)
        ]  # "# HELP" and "# TYPE" of each family
        self.kept: dict[str, tuple[int, list[str]]] = {}  # tenant -> (version, lines per family)
        self.body: bytes | None = None  # the last text

    def collect(self) -> Iterable[Metric]:
        """The families, read now (no caching: tests and tools)."""
        try:
            with self.db.read() as session:
                rows = read_totals(session)
                tenants = store.tenant_ids(session)
        except Exception:  # noqa: BLE001 - database down: report it, serve the families empty
            log.exception("kpi metrics: the store could not be read")
            return families([], self.region)
        return families(rows, self.region, tenants)

    def text(self) -> bytes:
        """The families' exposition text: each tenant's lines as at the last scrape while its
        totals version is unchanged, else read and rendered now."""
        with self.lock:  # one scrape at a time renders; the next finds its work kept
            try:
                with self.db.read() as session:
                    versions = store.tenant_versions(session)  # before the totals
                    tenants = set(versions) | set(store.tenant_ids(session))
                    changed = sorted(
                        t for t in tenants if self.kept.get(t, (None,))[0] != versions.get(t, 0)
                    )
                    rows = read_totals(session, changed) if changed else []
            except Exception:  # noqa: BLE001 - database down: report it, serve the families empty
                log.exception("kpi metrics: the store could not be read")
                self.kept, self.body = {}, None
                return "".join(self.headers).encode("utf-8")
            if not changed and len(self.kept) == len(tenants) and self.body is not None:
                return self.body  # nothing changed: the last text as it is
            parts = _tenant_parts(families(rows, self.region, changed))
            for tenant in changed:
                self.kept[tenant] = (versions.get(tenant, 0), parts[tenant])
            for tenant in set(self.kept) - tenants:
                del self.kept[tenant]
            order = sorted(self.kept)
            out = []
            for index, header in enumerate(self.headers):
                out.append(header)
                out.extend(self.kept[tenant][1][index] for tenant in order)
            self.body = "".join(out).encode("utf-8")
            return self.body

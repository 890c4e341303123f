"""KPI rules with no I/O: how events merge into facts, what a fact contributes, the formulas.

Facts
-----
Every event the KPIs use belongs to one entity, a *fact*: a visit, an issue, an audit, a
purchase, a customer or a complaint (:data:`RULES`). A fact is a set of fields; each event
offers some of them, stamped with a version ``(stage, clock, event id)``: the lifecycle
stage of the event type (scheduled 0 < overdue 1 < completed/cancelled 2 for a visit; raised
0 < escalated 1 < resolved 2 < closed/reopened 3 for a complaint), then the event's own
instant (``completed_at``, ``resolved_at``, ...; the envelope time if it has none), then the
event id as a tie-break. A field keeps the value of the highest version that offered it;
a ``first_`` field (a rule's ``first`` and the metric labels) keeps the lowest. Both are
per-field extremes, so the merge is commutative, associative and idempotent: the same
events in any order, redelivered or not, give the same fact, and a field set by a later
lifecycle stage is never undone by an older event arriving late.

Semantics of the figures
------------------------
Every day is a date in the tenant's time zone (its settings copy; when the zone changes,
every fact's day is derived again). ``region`` is the business region in the event data
(the customer's), not the publishing deployment's.

* Visits are a cohort by due date. ``visits_due``: visits known to exist (any of
  VisitScheduled/Overdue/Completed/Cancelled seen) and not cancelled, due in the period; a
  completed visit counts even if a cancellation was also seen. ``visits_completed``,
  ``visits_completed_on_time`` (the visit service's ``on_time``), ``visits_rated`` (with an
  overall satisfaction) and ``visits_satisfied`` (very satisfied or satisfied) are of those.
  ``nps_responses``/``nps_promoters`` (9-10)/``nps_detractors`` (0-6) count completed
  visits with a recommend score. ``complaint_follow_ups``: completed ``post_complaint``
  visits with a satisfaction; ``..._satisfied``: of those, very satisfied or satisfied.
  ``visits_overdue`` (a gauge): VisitOverdue seen, neither completed nor cancelled.
  ``visits_cancelled``: visits cancelled and not completed, due in the period (not in
  ``visits_due``); ``visits_due + visits_cancelled`` never falls when a visit is cancelled,
  which is what the metric ``revisit_visits_due_total`` counts.
  VisitAudited does not touch the visit fact (it is an audit fact).
* Issues (source "visit") are a cohort by raised day: ``issues_raised``, and
  ``issues_resolved`` of those. IssueRaised/IssueResolved with source "complaint" are about
  a complaint: IssueResolved is that complaint's resolution, IssueRaised is logged only.
* ``audits``/``audits_accurate`` by audit day; ``purchases`` by purchase day, and
  ``units_sold`` (their quantity, 1 when absent: :func:`units`);
  ``customers`` by registration day (the API reports customers registered up to the end of
  the period). A customer's region follows its newest Customer* event.
* Complaints are a cohort by received day: ``complaints``; ``complaints_resolved`` of those
  (resolved and not reopened since); ``complaints_resolved_on_time`` (that resolution was
  within its deadline). A complaint counts for its assignee, the person handling it
  (ComplaintRaised's ``assignee``, then the newest ComplaintAssigned's; none: nobody), so
  the staff ranking and ``group_by=assignee`` include the complaints a person handles.
  ``complaints_open`` (a gauge): not closed, or reopened since.
  ``complaint_resolve_limits``: complaints with a resolve limit (``deadlines.resolve_by``);
  ``complaints_resolved_within_limit``: of those, first resolved on time (for the metrics:
  GET /kpis dates these by the limit, policy_kpis.py). ``complaints_first_resolved`` and
  ``..._on_time`` (for the metrics): complaints resolved at least once, and those whose
  first resolution was within its deadline; a reopening never takes them back.
* Metric labels: the totals (the counters of /metrics) file a fact under its labels when
  first seen (``Contribution.labels``): a customer who moves region, or a complaint
  escalated to major or handed to another department, stays where it was counted, so no
  counter series ever falls. The daily and monthly aggregates (GET /kpis) follow the newest.
* Rates are fractions 0..1, ``None`` when the denominator is 0. ``complaint_incidence_rate``
  (complaints / purchases) and ``complaint_rate`` (complaints / customers) are ratios of
  different populations, so they are >= 0 and may exceed 1. NPS is % promoters − %
  detractors over ``nps_responses``, on the −100..100 scale, ``None`` without responses.
* The policies' own KPIs (policy_kpis.py) and the reports (reports.py) need what the
  aggregates cannot sum (distinct customers, categories, resolve limits, units and amounts
  sold): they read the facts, placed by the same contributions. Facts stored before a field
  joined a rule (purchases' customer, quantity and amount; complaints' deadlines) get it
  from a rebuild (rebuild.py).

A fact contributes one vector of counts to one bucket (:class:`Contribution`); the store
keeps the contribution it applied and, on every change, subtracts the old one and adds the
new one (:func:`deltas`). What a run of events changes, facts and aggregate rows, is decided
here too (:func:`targets`, :func:`merge_all`, :func:`aggregate_rows`); projection.py applies
it through the store.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from revisit_common.calendar import DEFAULT_TIMEZONE
from revisit_common.errors import Invalid
from revisit_common.policy import Policy, setting

LEVELS = ("very_satisfied", "satisfied", "neutral", "dissatisfied", "very_dissatisfied")
SATISFIED = frozenset({"very_satisfied", "satisfied"})
DIM_MAX = 200

# The counts CONTRACT.md §1 names, then ours: NPS parts, gauges, ratings per level.
CONTRACT_COUNTS = (
    "visits_due",
    "visits_completed",
    "visits_completed_on_time",
    "visits_rated",
    "visits_satisfied",
    "issues_raised",
    "issues_resolved",
    "audits",
    "audits_accurate",
    "complaints",
    "complaints_resolved",
    "complaints_resolved_on_time",
    "complaint_follow_ups",
    "complaint_follow_ups_satisfied",
    "purchases",
    "customers",
)
EXTRA_COUNTS = (
    "nps_responses",
    "nps_promoters",
    "nps_detractors",
    "visits_overdue",
    "complaints_open",
    "visits_cancelled",
)
# Kept for the metrics only (GET /kpis reports the policies' own, dated their way).
METRIC_COUNTS = (
    "units_sold",
    "complaint_resolve_limits",
    "complaints_resolved_within_limit",
    "complaints_first_resolved",
    "complaints_first_resolved_on_time",
)
API_COUNTS = CONTRACT_COUNTS + EXTRA_COUNTS
COUNTS = API_COUNTS + tuple(f"rated_{level}" for level in LEVELS) + METRIC_COUNTS

DAILY_DIMS = ("day", "region", "department", "assignee")
MONTHLY_DIMS = ("month", "region", "department", "assignee")
GROUPS = DAILY_DIMS[1:]  # what GET /kpis may group by
TOTAL_DIMS = ("kind", "region", "department", "reason", "severity", "channel")
LABELS = TOTAL_DIMS[1:]  # the metric labels a fact has
FIRST = "first_"  # a fact field kept from the lowest version that offered it


# --------------------------------------------------------------------------- merging


@dataclass(frozen=True)
class Observed:
    """One event as the rules see it."""

    type: str
    id: str
    time: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Rule:
    """Events of one type feed fact ``kind`` (keyed by ``data[id_field]``) at ``stage``.

    ``clock`` is the data field (an instant) that orders events of one stage, the envelope
    time when absent; ``fields`` are the data fields copied into the fact; ``stamp`` is a
    fact field set to the clock's instant. ``first`` are data fields also kept as
    ``first_<name>`` from the *lowest* version that offered them, as are the metric labels
    among ``fields`` (:data:`LABELS`): what a counter is filed under never moves.
    """

    kind: str
    id_field: str
    stage: int
    clock: str
    fields: tuple[str, ...]
    stamp: str | None = None
    first: tuple[str, ...] = ()

    @cached_property
    def firsts(self) -> tuple[str, ...]:
        return (*self.first, *(name for name in LABELS if name in self.fields))


VISIT = ("customer_id", "reason", "method", "assignee", "region", "due_date")
COMPLETION = (
    "completed_at",
    "on_time",
    "satisfaction",
    "recommend_score",
    "needs",  # the visit summary's needs trends and competitor mentions (reports.py)
    "competitor_info",
    "service_feedback",  # the visit summary's suggestions
)
ISSUE = ("department", "region", "assignee", "category", "raised_at")
COMPLAINT = (
    "customer_id", "channel", "severity", "category", "department", "region", "deadlines",
    "assignee",
)  # fmt: skip
PURCHASE = ("customer_id", "region", "purchased_at", "quantity", "amount")
RESOLUTION = ("department", "region", "raised_at", "resolved_at", "within_deadline")
STATE = ("severity", "department", "region")  # what later complaint events restate
COMPLAINT_RESOLVED = "ComplaintResolved"  # IssueResolved with source "complaint"

RULES: dict[str, Rule] = {
    "VisitScheduled": Rule("visit", "visit_id", 0, "scheduled_at", VISIT),
    "VisitOverdue": Rule("visit", "visit_id", 1, "detected_at", VISIT, stamp="overdue_at"),
    "VisitCompleted": Rule("visit", "visit_id", 2, "completed_at", VISIT + COMPLETION),
    "VisitCancelled": Rule("visit", "visit_id", 2, "cancelled_at", (*VISIT, "cancelled_at")),
    "VisitAudited": Rule(
        "audit", "audit_id", 0, "audited_at", ("accurate", "assignee", "region", "audited_at")
    ),
    "IssueRaised": Rule("issue", "issue_id", 0, "raised_at", ISSUE),
    "IssueResolved": Rule(
        "issue", "issue_id", 1, "resolved_at", (*ISSUE, "resolved_at", "within_deadline")
    ),
    "CustomerRegistered": Rule(
        "customer", "customer_id", 0, "registered_at", ("region", "registered_at")
    ),
    "CustomerGraded": Rule("customer", "customer_id", 0, "graded_at", ("region",)),
    "CustomerRiskChanged": Rule("customer", "customer_id", 0, "changed_at", ("region",)),
    "PurchaseRecorded": Rule("purchase", "purchase_id", 0, "purchased_at", PURCHASE),
    "ComplaintRaised": Rule(
        "complaint", "complaint_id", 0, "received_at", (*COMPLAINT, "received_at")
    ),
    "ComplaintEscalated": Rule("complaint", "complaint_id", 1, "escalated_at", STATE),
    # a later assignment wins over the intake's (stage 1 > raised's 0), the newest of several
    "ComplaintAssigned": Rule("complaint", "complaint_id", 1, "assigned_at", (*STATE, "assignee")),
    COMPLAINT_RESOLVED: Rule(
        "complaint",
        "complaint_id",
        2,
        "resolved_at",
        RESOLUTION,
        first=("resolved_at", "within_deadline"),  # counters count the first resolution
    ),
    "ComplaintClosed": Rule("complaint", "complaint_id", 3, "closed_at", STATE, "closed_at"),
    "ComplaintReopened": Rule("complaint", "complaint_id", 3, "reopened_at", STATE, "reopened_at"),
}


def target(event: Observed) -> tuple[Rule, str] | None:
    """The rule for ``event`` and the id of the fact it feeds; None if no figure uses it."""
    name = event.type
    if name in ("IssueRaised", "IssueResolved") and event.data.get("source") == "complaint":
        if name == "IssueRaised":
            return None
        name = COMPLAINT_RESOLVED
    rule = RULES.get(name)
    if rule is None:
        return None
    entity = event.data.get(rule.id_field)
    if entity in (None, ""):
        raise ValueError(f"{event.type} {event.id} has no {rule.id_field}")
    return rule, str(entity)


# A field's version: (stage, UTC instant, event id), compared as a tuple.
Version = tuple[int, str, str]


def merge(state: Mapping[str, Any], event: Observed, rule: Rule) -> dict[str, Any]:
    """The fact ``state`` with ``event`` merged in (a new dict; ``state`` is not changed)."""
    fields, versions = decode_state(state)
    merge_into(fields, versions, event, rule)
    return encode_state(fields, versions)


def merge_into(
    fields: dict[str, Any], versions: dict[str, Version], event: Observed, rule: Rule
) -> bool:
    """``event`` merged into a fact's ``fields`` and their ``versions`` (as
    :func:`decode_state` gives them; changed in place): whether any field took its value."""
    clock = event.data.get(rule.clock) or event.time
    version = (rule.stage, utc_stamp(clock), event.id)
    offered = {name: event.data[name] for name in rule.fields if name in event.data}
    if rule.stamp:
        offered[rule.stamp] = clock
    changed = False
    for name, value in offered.items():
        if name not in versions or versions[name] < version:
            fields[name] = value
            versions[name] = version
            changed = True
    for name in rule.firsts:
        kept = FIRST + name
        if name in event.data and (kept not in versions or version < versions[kept]):
            fields[kept] = event.data[name]
            versions[kept] = version
            changed = True
    return changed


def decode_state(state: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Version]]:
    """A stored fact state as (fields, the version of each field), both new dicts.

    Stored as ``{"fields": {name: value}, "versions": {name: i}, "stamps": [[stage, instant,
    event id], ...]}``: each version once (a fact has a few, shared by many fields), a field
    naming its version by index. States written before ``stamps`` (``"versions": {name:
    [stage, instant, event id]}``, each field's version in full) are read as they are."""
    fields = dict(state.get("fields") or {})
    versions = state.get("versions") or {}
    stamps = state.get("stamps")
    if stamps is None:
        return fields, {name: tuple(version) for name, version in versions.items()}
    known = [tuple(stamp) for stamp in stamps]
    return fields, {name: known[index] for name, index in versions.items()}


def encode_state(fields: dict[str, Any], versions: Mapping[str, Version]) -> dict[str, Any]:
    """The fact state to store (see :func:`decode_state`): its stamps in version order, so
    that the same fields and versions always give the same state."""
    stamps = sorted(set(versions.values()))
    index = {stamp: i for i, stamp in enumerate(stamps)}
    return {
        "fields": fields,
        "versions": {name: index[version] for name, version in versions.items()},
        "stamps": [list(stamp) for stamp in stamps],
    }


# --------------------------------------------------------------------------- time


def parse_instant(value: Any) -> datetime:
    """An ISO 8601 instant (naive means UTC)."""
    moment = datetime.fromisoformat(str(value).strip())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def utc_stamp(value: Any) -> str:
    return parse_instant(value).astimezone(UTC).isoformat(timespec="microseconds")


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # the gateway validates zones; be safe
        return ZoneInfo(DEFAULT_TIMEZONE)


def day_of(value: Any, timezone: str) -> date:
    """The tenant-local date of an instant; a plain date is taken as it is."""
    text = str(value).strip()
    if len(text) == 10:
        return date.fromisoformat(text)
    return parse_instant(text).astimezone(zone(timezone)).date()


def _after(later: Any, earlier: Any) -> bool:
    return (
        later is not None and earlier is not None and parse_instant(later) > parse_instant(earlier)
    )


# --------------------------------------------------------------------------- contributions


@dataclass(frozen=True)
class Contribution:
    """What one fact adds to the aggregates: counts in one bucket. ``labels`` are the metric
    labels the fact had when first seen, where they differ from its dimensions now: the
    totals (the counters) stay filed under them (:func:`totals_key`)."""

    kind: str
    day: date
    region: str = ""
    department: str = ""
    assignee: str = ""
    reason: str = ""
    severity: str = ""
    channel: str = ""
    counts: Mapping[str, int] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        doc = {name: getattr(self, name) for name in TOTAL_DIMS + DAILY_DIMS}
        doc.update(day=self.day.isoformat(), counts=dict(self.counts))
        if self.labels:
            doc["labels"] = dict(self.labels)
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> Contribution | None:
        if not doc:
            return None
        dims = {name: doc.get(name, "") for name in TOTAL_DIMS + DAILY_DIMS if name != "day"}
        day, counts = date.fromisoformat(doc["day"]), dict(doc["counts"])
        return cls(day=day, counts=counts, labels=dict(doc.get("labels") or {}), **dims)


def _dim(value: Any) -> str:
    return "" if value is None else str(value)[:DIM_MAX]


def _flag(counts: dict[str, int], name: str, condition: bool) -> None:
    if condition:
        counts[name] = 1


def _set(counts: dict[str, int], name: str, value: int) -> None:
    if value:
        counts[name] = value


def _visit(f: Mapping[str, Any], tz: str) -> Contribution | None:
    completed = f.get("completed_at") is not None
    if not f.get("due_date"):
        return None
    cancelled = f.get("cancelled_at") is not None and not completed
    counts = {"visits_cancelled": 1} if cancelled else _visit_counts(f, completed)
    return Contribution(
        "visit",
        day_of(f["due_date"], tz),
        region=_dim(f.get("region")),
        assignee=_dim(f.get("assignee")),
        reason=_dim(f.get("reason")),
        counts=counts,
    )


def _visit_counts(f: Mapping[str, Any], completed: bool) -> dict[str, int]:
    counts = {"visits_due": 1}
    satisfaction = f.get("satisfaction") if completed else None
    score = f.get("recommend_score") if completed else None
    rated = satisfaction in LEVELS
    follow_up = f.get("reason") == "post_complaint" and rated
    _flag(counts, "visits_completed", completed)
    _flag(counts, "visits_completed_on_time", completed and f.get("on_time") is True)
    _flag(counts, "visits_rated", rated)
    _flag(counts, f"rated_{satisfaction}", rated)
    _flag(counts, "visits_satisfied", satisfaction in SATISFIED)
    _flag(counts, "complaint_follow_ups", follow_up)
    _flag(counts, "complaint_follow_ups_satisfied", follow_up and satisfaction in SATISFIED)
    if isinstance(score, int) and not isinstance(score, bool) and 0 <= score <= 10:
        counts["nps_responses"] = 1
        _flag(counts, "nps_promoters", score >= 9)
        _flag(counts, "nps_detractors", score <= 6)
    _flag(counts, "visits_overdue", not completed and f.get("overdue_at") is not None)
    return counts


def _issue(f: Mapping[str, Any], tz: str) -> Contribution | None:
    if not f.get("raised_at"):
        return None
    counts = {"issues_raised": 1}
    _flag(counts, "issues_resolved", f.get("resolved_at") is not None)
    return Contribution(
        "issue",
        day_of(f["raised_at"], tz),
        region=_dim(f.get("region")),
        department=_dim(f.get("department")),
        assignee=_dim(f.get("assignee")),
        counts=counts,
    )


def _audit(f: Mapping[str, Any], tz: str) -> Contribution | None:
    if not f.get("audited_at"):
        return None
    counts = {"audits": 1}
    _flag(counts, "audits_accurate", f.get("accurate") is True)
    return Contribution(
        "audit",
        day_of(f["audited_at"], tz),
        region=_dim(f.get("region")),
        assignee=_dim(f.get("assignee")),
        counts=counts,
    )


def units(value: Any) -> int:
    """Units of a purchase: its quantity, 1 when absent or not a count."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return 1


def _purchase(f: Mapping[str, Any], tz: str) -> Contribution | None:
    if not f.get("purchased_at"):
        return None
    day = day_of(f["purchased_at"], tz)
    counts = {"purchases": 1}
    _set(counts, "units_sold", units(f.get("quantity")))
    return Contribution("purchase", day, region=_dim(f.get("region")), counts=counts)


def _customer(f: Mapping[str, Any], tz: str) -> Contribution | None:
    if not f.get("registered_at"):
        return None
    day = day_of(f["registered_at"], tz)
    return Contribution("customer", day, region=_dim(f.get("region")), counts={"customers": 1})


def _complaint(f: Mapping[str, Any], tz: str) -> Contribution | None:
    received = f.get("received_at") or f.get("raised_at")
    if not received:
        return None
    reopened = f.get("reopened_at")
    resolved = f.get("resolved_at") is not None and not _after(reopened, f.get("resolved_at"))
    closed = f.get("closed_at") is not None and not _after(reopened, f.get("closed_at"))
    counts = {"complaints": 1}
    _flag(counts, "complaints_resolved", resolved)
    _flag(counts, "complaints_resolved_on_time", resolved and f.get("within_deadline") is True)
    _flag(counts, "complaints_open", not closed)
    # the counters': the first resolution, which a reopening does not undo (a fact stored
    # before first_* existed: its newest resolution stands in)
    first = (FIRST + "resolved_at") in f
    ever = f.get(FIRST + "resolved_at" if first else "resolved_at") is not None
    on_time = ever and f.get(FIRST + "within_deadline" if first else "within_deadline") is True
    limited = _has_resolve_limit(f.get("deadlines"))
    _flag(counts, "complaints_first_resolved", ever)
    _flag(counts, "complaints_first_resolved_on_time", on_time)
    _flag(counts, "complaint_resolve_limits", limited)
    _flag(counts, "complaints_resolved_within_limit", limited and on_time)
    return Contribution(
        "complaint",
        day_of(received, tz),
        region=_dim(f.get("region")),
        department=_dim(f.get("department")),
        assignee=_dim(f.get("assignee")),
        severity=_dim(f.get("severity")),
        channel=_dim(f.get("channel")),
        counts=counts,
    )


def resolve_limit_day(fields: Mapping[str, Any], timezone: str) -> date | None:
    """The tenant-local day of a complaint's resolve limit (None without one)."""
    deadlines = fields.get("deadlines")
    limit = deadlines.get("resolve_by") if isinstance(deadlines, Mapping) else None
    return day_of(limit, timezone) if limit else None


def fact_days(
    kind: str, state: Mapping[str, Any], timezone: str, made: Contribution | None
) -> dict[str, date | None]:
    """The days a period read selects a fact by (kpi_facts ``day`` and ``limit_day``): its
    contribution's day, and a complaint's resolve limit day."""
    fields = state.get("fields") or {}
    limit = resolve_limit_day(fields, timezone) if kind == "complaint" else None
    return {"day": made.day if made else None, "limit_day": limit}


def _has_resolve_limit(deadlines: Any) -> bool:
    return isinstance(deadlines, Mapping) and bool(deadlines.get("resolve_by"))


CONTRIBUTORS: dict[str, Callable[[Mapping[str, Any], str], Contribution | None]] = {
    "visit": _visit,
    "issue": _issue,
    "audit": _audit,
    "purchase": _purchase,
    "customer": _customer,
    "complaint": _complaint,
}


def contribution(kind: str, state: Mapping[str, Any], timezone: str) -> Contribution | None:
    """What a fact adds to the aggregates now (None: nothing yet, or nothing any more)."""
    fields = state.get("fields") or {}
    made = CONTRIBUTORS[kind](fields, timezone)
    if made is None:
        return None
    moved = {}
    for name in LABELS:
        if FIRST + name in fields:
            first = _dim(fields[FIRST + name])
            if first != getattr(made, name):
                moved[name] = first
    return replace(made, labels=moved) if moved else made


# The buckets' keys, spelled out (a consumer batch computes three per fact it moves):
# ``DAILY_DIMS``, ``MONTHLY_DIMS`` and ``TOTAL_DIMS`` in order (test_domain.py checks them).
def daily_key(c: Contribution) -> tuple:
    return (c.day, c.region, c.department, c.assignee)


def monthly_key(c: Contribution) -> tuple:
    return (c.day.replace(day=1), c.region, c.department, c.assignee)


def totals_key(c: Contribution) -> tuple:
    if not c.labels:
        return (c.kind, c.region, c.department, c.reason, c.severity, c.channel)
    return (c.kind, *(c.labels.get(name, getattr(c, name)) for name in LABELS))


def deltas(
    old: Contribution | None, new: Contribution | None, key: Callable[[Contribution], tuple]
) -> dict[tuple, dict[str, int]]:
    """Per bucket ``key``, the counts to add so that ``old`` becomes ``new`` (no zeros)."""
    out: dict[tuple, dict[str, int]] = {}
    for part, sign in ((old, -1), (new, 1)):
        if part is not None:
            _add(out, key(part), part.counts, sign)
    cleaned = {k: {n: v for n, v in c.items() if v} for k, c in out.items()}
    return {k: c for k, c in cleaned.items() if c}


def _add(
    sums: dict[tuple, dict[str, int]], bucket: tuple, counts: Mapping[str, int], sign: int
) -> None:
    """``counts`` times ``sign`` added to bucket ``bucket`` of ``sums``."""
    into = sums.setdefault(bucket, {})
    for name, value in counts.items():
        into[name] = into.get(name, 0) + sign * value


# --------------------------------------------------------------------------- projecting

Key = tuple[str, str, str]  # a fact: (tenant, kind, entity id)
Move = tuple[str, Contribution | None, Contribution | None]  # tenant, old, new
AGGREGATES: dict[str, tuple[tuple[str, ...], Callable[[Contribution], tuple]]] = {
    "daily": (DAILY_DIMS, daily_key),
    "monthly": (MONTHLY_DIMS, monthly_key),
    "totals": (TOTAL_DIMS, totals_key),
}


def targets(events: Iterable[tuple[str, Observed]]) -> list[tuple[Key, Observed, Rule]]:
    """The (tenant, event) pairs a figure uses, each with its fact's key and its rule."""
    out = []
    for tenant, event in events:
        found = target(event)
        if found is not None:
            rule, entity = found
            out.append(((tenant, rule.kind, entity), event, rule))
    return out


def merge_all(
    stored: Mapping[Key, Mapping[str, Any]], items: Iterable[tuple[Key, Observed, Rule]]
) -> dict[Key, dict[str, Any]]:
    """The facts ``items`` change, in key order, with their states once every event is merged
    in order (a fact seen twice merges twice): new facts, and stored ones (``stored``: key ->
    state) an event changed. ``stored`` is not changed. Each fact is decoded once and encoded
    once, however many events it takes."""
    facts: dict[Key, tuple[dict[str, Any], dict[str, Version]]] = {}
    changed: set[Key] = set()
    for key, event, rule in items:
        fact = facts.get(key)
        if fact is None:
            if key in stored:
                fact = facts[key] = decode_state(stored[key])
            else:
                fact = facts[key] = ({}, {})
                changed.add(key)
        if merge_into(*fact, event, rule):
            changed.add(key)
    return {key: encode_state(*facts[key]) for key in sorted(changed)}


def aggregate_rows(moves: Iterable[Move]) -> dict[str, list[dict[str, Any]]]:
    """Per aggregate of :data:`AGGREGATES`, the rows of counts to add so that every fact's
    contribution goes from its ``old`` to its ``new``: a bucket's keys (``tenant_id`` and the
    aggregate's dimensions) and its summed counts, in bucket order, the buckets whose moves
    cancel out left out (their row stays as it was)."""
    sums: dict[str, dict[tuple, dict[str, int]]] = {name: {} for name in AGGREGATES}
    keyed = [(sums[name], key_of) for name, (_, key_of) in AGGREGATES.items()]
    for tenant, old, new in moves:
        # summed as they come (what :func:`deltas` gives, without a dict per move; _add
        # written out: a batch makes a few thousand of these)
        for part, sign in ((old, -1), (new, 1)):
            if part is not None and part.counts:
                counts = part.counts.items()
                for into, key_of in keyed:
                    bucket = (tenant, *key_of(part))
                    summed = into.get(bucket)
                    if summed is None:
                        summed = into[bucket] = {}
                    for name, value in counts:
                        summed[name] = summed.get(name, 0) + sign * value
    return {name: _count_rows(AGGREGATES[name][0], sums[name]) for name in AGGREGATES}


def _count_rows(dims: tuple[str, ...], buckets: dict[tuple, dict]) -> list[dict[str, Any]]:
    names = ("tenant_id", *dims)
    rows = []
    for bucket in sorted(buckets):
        counts = buckets[bucket]
        if 0 in counts.values():  # some moves cancelled out (rare): their zeros left out
            counts = {name: value for name, value in counts.items() if value}
            if not counts:
                continue
        row = dict(zip(names, bucket, strict=True))
        row.update(counts)
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- formulas

RATES: dict[str, tuple[str, str]] = {
    "visit_completion_rate": ("visits_completed", "visits_due"),
    "visit_on_time_rate": ("visits_completed_on_time", "visits_completed"),
    "satisfaction_rate": ("visits_satisfied", "visits_rated"),
    "issue_resolution_rate": ("issues_resolved", "issues_raised"),
    "record_accuracy_rate": ("audits_accurate", "audits"),
    "complaint_timeliness_rate": ("complaints_resolved_on_time", "complaints_resolved"),
    "complaint_resolution_rate": ("complaints_resolved", "complaints"),
    "complaint_satisfaction_rate": ("complaint_follow_ups_satisfied", "complaint_follow_ups"),
    "complaint_incidence_rate": ("complaints", "purchases"),
    "complaint_rate": ("complaints", "customers"),
}


def ratio(numerator: int, denominator: int) -> float | None:
    return None if denominator == 0 else numerator / denominator


def nps(counts: Mapping[str, int]) -> float | None:
    """% promoters − % detractors, −100..100; None without a recommend score."""
    responses = counts.get("nps_responses", 0)
    if responses == 0:
        return None
    return 100.0 * (counts.get("nps_promoters", 0) - counts.get("nps_detractors", 0)) / responses


def figures(counts: Mapping[str, int]) -> dict[str, float | None]:
    """Every rate of DOMAIN.md §5 (and the on-time rate) plus NPS, from summed counts."""
    out = {name: ratio(counts.get(n, 0), counts.get(d, 0)) for name, (n, d) in RATES.items()}
    out["nps"] = nps(counts)
    return out


def zero_counts() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)


# --------------------------------------------------------------------------- ranking

RANKING_METRICS = (
    "visit_completion_rate",
    "satisfaction_rate",
    "visit_on_time_rate",
    "record_accuracy_rate",
    "issue_resolution_rate",
    "nps",
    "complaint_resolution_rate",
    "complaint_timeliness_rate",
    "resolution_rate",
)
RESOLUTION_RATE = "resolution_rate"  # issues and complaints a person handles, resolved


SCORE = "score"
# The composite staff score's parts (DOMAIN.md §6) and their default weights.
SCORE_WEIGHTS: dict[str, float] = {
    "visit_completion_rate": 0.4,
    "satisfaction_rate": 0.4,
    "issue_resolution_rate": 0.2,
}
# The name of each part in the tenant setting ``ranking_weights`` (:class:`KpiPolicy`).
WEIGHT_PARTS: dict[str, str] = {
    "completion": "visit_completion_rate",
    "satisfaction": "satisfaction_rate",
    "resolution": "issue_resolution_rate",
}


def _ranking_weights(value: Any) -> dict[str, float]:
    """The three weights of the composite score, each 0..1 and not all 0."""
    if not isinstance(value, Mapping):
        raise ValueError(f"must be an object of {', '.join(WEIGHT_PARTS)}, got {value!r}")
    unknown = sorted(str(key) for key in value if key not in WEIGHT_PARTS)
    missing = [part for part in WEIGHT_PARTS if part not in value]
    if unknown:
        raise ValueError(f"unknown weights {', '.join(unknown)}; known: {', '.join(WEIGHT_PARTS)}")
    if missing:
        raise ValueError(f"must give every weight; missing: {', '.join(missing)}")
    weights = {}
    for part in WEIGHT_PARTS:
        weight = value[part]
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise ValueError(f"{part} must be a number, got {weight!r}")
        if not 0 <= weight <= 1:  # (also false for NaN)
            raise ValueError(f"{part} must be between 0 and 1, got {weight!r}")
        weights[part] = float(weight)
    if not any(weights.values()):
        raise ValueError("the weights must not all be 0")
    return weights


@dataclass(frozen=True)
class KpiPolicy(Policy):
    """The per-tenant KPI settings (settings section ``kpis``, DOMAIN.md §6):
    ``ranking_weights``, the weight of the visit completion, satisfaction and issue
    resolution rates in the composite staff score (``GET /kpis/ranking?by=score``)."""

    policy_name = "kpi"
    none_is_empty = True

    ranking_weights: dict = setting(
        {part: SCORE_WEIGHTS[rate] for part, rate in WEIGHT_PARTS.items()}, "weights"
    )

    @staticmethod
    def coerce(value: Any, meta: Mapping[str, Any]) -> Any:
        return _ranking_weights(value)

    @staticmethod
    def json_value(value: Any, meta: Mapping[str, Any]) -> Any:
        return dict(value)

    def score_weights(self) -> dict[str, float]:
        """The weights keyed by the rates of the score, as :func:`staff_score` takes them."""
        return {rate: self.ranking_weights[part] for part, rate in WEIGHT_PARTS.items()}


def resolution_rate(counts: Mapping[str, int]) -> float | None:
    """The share of the issues and complaints of a person (their cohorts) that are resolved:
    (issues_resolved + complaints_resolved) / (issues_raised + complaints)."""
    return ratio(
        counts.get("issues_resolved", 0) + counts.get("complaints_resolved", 0),
        counts.get("issues_raised", 0) + counts.get("complaints", 0),
    )


def staff_score(rates: Mapping[str, float | None], weights: Mapping[str, float]) -> float | None:
    """The weighted mean (0..1) of the score's rates that are known: a rate with no
    denominator (no issues raised, say) neither helps nor hurts; None if none is known or
    the known ones weigh nothing. The resolution part (weight ``issue_resolution_rate``)
    is the person's :func:`resolution_rate` when ``rates`` has it: complaints they handle
    count with their issues."""
    parts = dict(rates)
    if RESOLUTION_RATE in rates:
        parts["issue_resolution_rate"] = rates[RESOLUTION_RATE]
    known = [(weights[name], parts[name]) for name in SCORE_WEIGHTS if parts[name] is not None]
    total = sum(weight for weight, _ in known)
    if not known or total <= 0:
        return None
    return sum(weight * rate for weight, rate in known) / total


def _descending(value: float | None) -> tuple[int, float]:
    return (1, 0.0) if value is None else (0, -value)


def rank_staff(
    staff: Iterable[tuple[str, Mapping[str, int]]],
    metric: str = "visit_completion_rate",
    weights: Mapping[str, float] | None = None,
) -> list[dict[str, Any]]:
    """Staff ordered for an assessment: ``metric`` (highest first, unknown last), then the
    satisfaction rate, then volume (visits completed). Equal on all three: the same rank
    (1, 2, 2, 4); ties keep a stable order by name. Every item has the rates of
    :func:`figures` and :func:`resolution_rate` (issues and complaints handled, resolved).
    ``metric`` :data:`SCORE` ranks on
    :func:`staff_score` with ``weights`` (default :data:`SCORE_WEIGHTS`), written as
    ``score`` on every item."""
    if metric not in (*RANKING_METRICS, SCORE):
        raise ValueError(f"unknown ranking metric {metric!r}")
    scored = []
    for name, counts in staff:
        rates = figures(counts)
        rates[RESOLUTION_RATE] = resolution_rate(counts)
        if metric == SCORE:
            rates[SCORE] = staff_score(rates, weights or SCORE_WEIGHTS)
        key = (
            _descending(rates[metric]),
            _descending(rates["satisfaction_rate"]),
            -counts.get("visits_completed", 0),
        )
        scored.append((key, name, rates, counts))
    scored.sort(key=lambda item: (item[0], item[1]))
    ranked, previous = [], None
    for position, (key, name, rates, counts) in enumerate(scored, start=1):
        rank = ranked[-1]["rank"] if key == previous else position
        previous = key
        ranked.append({"rank": rank, "assignee": name, **rates, "counts": dict(counts)})
    return ranked


# --------------------------------------------------------------------------- periods

MAX_SPAN_DAYS = 3 * 366


class PeriodError(Invalid):
    """A period that cannot be reported: ``field`` (``from`` or ``to``) and why (422)."""

    detail = "invalid period"

    def __init__(self, field_name: str, message: str):
        super().__init__({field_name: [message]})
        self.field = field_name


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


Days = tuple[date, date]


def split_period(start: date, end: date) -> tuple[Days | None, list[Days]]:
    """``start``..``end`` as its whole calendar months, (first, last) by their first days or
    None if it covers none, and the days outside them: at most two (from, to) ranges, the
    partial months at either edge. Sums over the months plus the days are the period's."""
    first = start if start.day == 1 else _after_month(start)
    last = end if end == month_end(end) else _before_month(end)
    if first is None or last is None or first > last:
        return None, [(start, end)]
    days = []
    if start < first:
        days.append((start, first - timedelta(days=1)))
    if last < end:
        days.append((last + timedelta(days=1), end))
    return (first, last.replace(day=1)), days


def _after_month(day: date) -> date | None:
    """The first day of the month after ``day``'s (None after the calendar's last month)."""
    end = month_end(day)
    return None if end == date.max else end + timedelta(days=1)


def _before_month(day: date) -> date | None:
    """The last day of the month before ``day``'s (None before the calendar's first)."""
    start = day.replace(day=1)
    return None if start == date.min else start - timedelta(days=1)


def resolve_period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The period asked for: both bounds given, or a calendar month by default (the month
    of the bound given, or of ``today``); at most :data:`MAX_SPAN_DAYS` days."""
    if start is None and end is None:
        start, end = today.replace(day=1), month_end(today)
    elif start is None:
        start = end.replace(day=1)
    elif end is None:
        end = month_end(start)
    if end < start:
        raise PeriodError("to", "must not be before from")
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        raise PeriodError("to", f"a period spans at most {MAX_SPAN_DAYS} days")
    return start, end


REPORT_SPAN_DAYS = 366


def report_period(start: date, end: date) -> tuple[date, date]:
    """The period of a report (both bounds required): ``start`` <= ``end``, at most
    :data:`REPORT_SPAN_DAYS` days."""
    if end < start:
        raise PeriodError("to", "must not be before from")
    if (end - start).days + 1 > REPORT_SPAN_DAYS:
        raise PeriodError("to", f"a report spans at most {REPORT_SPAN_DAYS} days")
    return start, end


def previous_period(start: date, end: date) -> tuple[date, date] | None:
    """The period of equal length just before ``start``..``end`` (None before the
    calendar's first day)."""
    length = end - start + timedelta(days=1)
    try:
        return start - length, start - timedelta(days=1)
    except OverflowError:
        return None

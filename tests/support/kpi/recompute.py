"""Random scenarios and the KPIs recomputed from the truth by plain loops."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from kpi_service.domain import API_COUNTS

from . import scenario
from .scenario import DEPARTMENTS, LEVELS, REASONS, REGIONS, STAFF

START = date(2025, 1, 1)
DAYS = 700


def _moment(rng: random.Random) -> datetime:
    # spread over the whole range, every hour of the day (so local days differ from UTC's)
    return datetime.combine(START, datetime.min.time(), UTC) + timedelta(
        minutes=rng.randrange(DAYS * 24 * 60)
    )


def generate(
    rng: random.Random, visits: int = 1000, timezone: str = "America/New_York"
) -> scenario.Truth:
    """``visits`` visits, with issues, audits, purchases, customers and complaints in
    proportion (3, 2.5, 4, 2 and 1.5 for every 10 visits)."""
    truth = scenario.Truth(timezone=timezone)
    for n in range(visits):
        status = rng.choices(("planned", "completed", "cancelled"), (3, 6, 1))[0]
        completed = status == "completed"
        truth.visits.append(
            scenario.Visit(
                id=f"v{n}",
                reason=rng.choice(REASONS),
                assignee=rng.choice(STAFF),
                region=rng.choice(REGIONS),
                due=START + timedelta(days=rng.randrange(DAYS)),
                status=status,
                overdue=rng.random() < 0.3,
                on_time=rng.random() < 0.7,
                satisfaction=rng.choice((*LEVELS, None)) if completed else None,
                score=rng.choice((None, *range(11))) if completed else None,
            )
        )
    for n in range(visits * 3 // 10):
        raised = _moment(rng)
        resolved = raised + timedelta(hours=rng.randrange(1, 400)) if rng.random() < 0.6 else None
        truth.issues.append(
            scenario.Issue(
                f"i{n}",
                rng.choice(DEPARTMENTS),
                rng.choice(REGIONS),
                rng.choice(STAFF),
                raised,
                resolved,
            )
        )
    for n in range(visits // 4):
        truth.audits.append(
            scenario.Audit(
                f"a{n}", rng.random() < 0.8, rng.choice(STAFF), rng.choice(REGIONS), _moment(rng)
            )
        )
    for n in range(visits * 4 // 10):
        truth.purchases.append(scenario.Purchase(f"p{n}", rng.choice(REGIONS), _moment(rng)))
    for n in range(visits // 5):
        moved = rng.choice(REGIONS) if rng.random() < 0.2 else None
        truth.customers.append(scenario.Customer(f"c{n}", rng.choice(REGIONS), _moment(rng), moved))
    for n in range(visits * 3 // 20):
        truth.complaints.append(_complaint(rng, f"k{n}"))
    return truth


def _complaint(rng: random.Random, ident: str) -> scenario.Complaint:
    received = _moment(rng)
    complaint = scenario.Complaint(
        ident,
        rng.choice(("phone", "email", "online", "in_person")),
        rng.choice(("general", "major")),
        rng.choice(DEPARTMENTS),
        rng.choice(REGIONS),
        received,
        escalated=rng.random() < 0.2,
    )
    at, state = received, "open"
    for _ in range(rng.randrange(5)):
        at += timedelta(hours=rng.randrange(1, 100))
        allowed = {"open": ("resolve",), "resolved": ("close", "reopen"), "closed": ("reopen",)}
        action = rng.choice(allowed[state])
        complaint.actions.append((action, at, rng.random() < 0.7))
        state = {"resolve": "resolved", "close": "closed", "reopen": "open"}[action]
    return complaint


# --------------------------------------------------------------------------- recomputation


def _rows(truth: scenario.Truth):
    """(local day, {dimension: value}, {count: 1}) for every entity of the truth."""
    zone = ZoneInfo(truth.timezone)

    def day(moment: datetime) -> date:
        return moment.astimezone(zone).date()

    good = ("very_satisfied", "satisfied")
    for v in truth.visits:
        if v.status == "cancelled":
            yield v.due, {"region": v.region, "assignee": v.assignee}, {"visits_cancelled": 1}
            continue
        done = v.status == "completed"
        rated = done and v.satisfaction is not None
        follow = rated and v.reason == "post_complaint"
        scored = done and v.score is not None
        counts = {
            "visits_due": 1,
            "visits_completed": done,
            "visits_completed_on_time": done and v.on_time,
            "visits_rated": rated,
            "visits_satisfied": rated and v.satisfaction in good,
            "complaint_follow_ups": follow,
            "complaint_follow_ups_satisfied": follow and v.satisfaction in good,
            "nps_responses": scored,
            "nps_promoters": scored and v.score >= 9,
            "nps_detractors": scored and v.score <= 6,
            "visits_overdue": v.overdue and not done,
        }
        yield v.due, {"region": v.region, "assignee": v.assignee}, counts
    for i in truth.issues:
        counts = {"issues_raised": 1, "issues_resolved": i.resolved_at is not None}
        dims = {"region": i.region, "department": i.department, "assignee": i.assignee}
        yield day(i.raised_at), dims, counts
    for a in truth.audits:
        counts = {"audits": 1, "audits_accurate": a.accurate}
        yield day(a.audited_at), {"region": a.region, "assignee": a.assignee}, counts
    for p in truth.purchases:
        yield day(p.purchased_at), {"region": p.region}, {"purchases": 1}
    for c in truth.customers:
        yield day(c.registered_at), {"region": c.region}, {"customers": 1}
    for k in truth.complaints:
        counts = {
            "complaints": 1,
            "complaints_resolved": k.resolved,
            "complaints_resolved_on_time": k.on_time,
            "complaints_open": k.open,
        }
        yield day(k.received_at), {"region": k.region, "department": k.department}, counts


def expected(truth: scenario.Truth, start: date, end: date, group_by: str | None = None) -> dict:
    """{group value (None without group_by): counts} as GET /kpis should report them."""
    names = API_COUNTS  # the names GET /kpis reports; the counting here is our own
    groups: dict = defaultdict(lambda: dict.fromkeys(names, 0))
    customers: dict = defaultdict(int)
    for day, dims, counts in _rows(truth):
        key = dims.get(group_by) if group_by else None
        if "customers" in counts and day <= end:
            customers[key if group_by == "region" else None] += 1
        if start <= day <= end:
            for name, value in counts.items():
                groups[key][name] += int(value)
    groups = {k: v for k, v in groups.items() if any(v.values())}
    if group_by is None:
        total = groups.get(None, dict.fromkeys(names, 0))
        total["customers"] = customers[None]
        return {None: total}
    if group_by == "region":  # customers by their region, up to the end, in every group
        empty = dict.fromkeys(names, 0)
        return {
            key: {**groups.get(key, empty), "customers": customers.get(key, 0)}
            for key in groups.keys() | customers.keys()
        }
    # purchases and customers have no department or assignee: every group shows the totals
    overall = expected(truth, start, end)[None]
    whole = {"purchases": overall["purchases"], "customers": overall["customers"]}
    return {key: {**counts, **whole} for key, counts in groups.items()}


def metric_counts(truth: scenario.Truth) -> dict:
    """{customer region: counts} as /metrics should report them, all time: the /kpis counts,
    but customers where they registered (a counter's labels are those first seen), and the
    complaints resolved at least once, with their first resolution on time or not."""
    names = (*API_COUNTS, "complaints_first_resolved", "complaints_first_resolved_on_time")
    out: dict = defaultdict(lambda: dict.fromkeys(names, 0))
    for region, counts in expected(truth, date.min, date.max, "region").items():
        out[region].update(counts, customers=0)
    for c in truth.customers:
        out[c.first_region or c.region]["customers"] += 1
    for k in truth.complaints:
        first = k.first("resolve")
        out[k.region]["complaints_first_resolved"] += first is not None
        out[k.region]["complaints_first_resolved_on_time"] += first is not None and first[2]
    return dict(out)


def rates(counts: dict) -> dict:
    def ratio(n, d):
        return None if counts[d] == 0 else counts[n] / counts[d]

    n = counts["nps_responses"]
    return {
        "visit_completion_rate": ratio("visits_completed", "visits_due"),
        "satisfaction_rate": ratio("visits_satisfied", "visits_rated"),
        "issue_resolution_rate": ratio("issues_resolved", "issues_raised"),
        "record_accuracy_rate": ratio("audits_accurate", "audits"),
        "complaint_timeliness_rate": ratio("complaints_resolved_on_time", "complaints_resolved"),
        "complaint_satisfaction_rate": ratio(
            "complaint_follow_ups_satisfied", "complaint_follow_ups"
        ),
        "complaint_incidence_rate": ratio("complaints", "purchases"),
        "complaint_rate": ratio("complaints", "customers"),
        "nps": None if n == 0 else 100 * (counts["nps_promoters"] - counts["nps_detractors"]) / n,
    }

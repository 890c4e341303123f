"""The KPI rules without a database: merging, contributions, formulas, ranking, periods."""

from __future__ import annotations

import uuid
from datetime import date
from functools import reduce

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_service import domain
from kpi_service.domain import Contribution, Observed

TZ = "Asia/Shanghai"


def obs(type_name: str, n: int = 0, **data) -> Observed:
    return Observed(type_name, f"e-{type_name}-{n}-{uuid.uuid4()}", "2026-01-01T00:00:00Z", data)


VISIT = {
    "visit_id": "v1",
    "customer_id": "c1",
    "reason": "periodic",
    "method": "phone",
    "assignee": "li.wei",
    "region": "east",
    "due_date": "2026-03-10",
}


def fold(events: list[Observed]) -> dict:
    def step(state, event):
        rule, _ = domain.target(event)
        return domain.merge(state, event, rule)

    return reduce(step, events, {})


def contribution_of(events: list[Observed], tz: str = TZ) -> Contribution | None:
    state = fold(events)
    kind = domain.target(events[0])[0].kind
    return domain.contribution(kind, state, tz)


def visit_events(completed=True, cancelled=False, overdue=True, satisfaction="satisfied"):
    out = [obs("VisitScheduled", scheduled_at="2026-03-01T02:00:00+08:00", **VISIT)]
    if overdue:
        out.append(obs("VisitOverdue", detected_at="2026-03-11T01:00:00+08:00", **VISIT))
    if cancelled:
        out.append(obs("VisitCancelled", cancelled_at="2026-03-12T09:00:00+08:00", **VISIT))
    if completed:
        done = {
            "completed_at": "2026-03-12T10:00:00+08:00",
            "on_time": False,
            "satisfaction": satisfaction,
            "recommend_score": 9,
        }
        out.append(obs("VisitCompleted", **VISIT, **done))
    return out


# --------------------------------------------------------------------------- merging


@given(st.data())
def test_any_order_with_duplicates_gives_the_same_visit(data):
    events = visit_events(
        completed=data.draw(st.booleans()),
        cancelled=data.draw(st.booleans()),
        overdue=data.draw(st.booleans()),
    )
    expected = contribution_of(events)
    stream = data.draw(st.permutations(events + data.draw(st.lists(st.sampled_from(events)))))
    assert contribution_of(stream) == expected
    assert fold(stream) == fold(events)


@given(st.data())
def test_any_order_gives_the_same_complaint(data):
    base = {"complaint_id": "k1"}
    events = [
        obs(
            "ComplaintRaised",
            channel="phone",
            severity="general",
            department="product",
            region="east",
            received_at="2026-02-01T10:00:00+08:00",
            **base,
        ),
        obs("ComplaintEscalated", severity="major", escalated_at="2026-02-02T10:00:00Z", **base),
    ]
    steps = data.draw(st.lists(st.sampled_from(("resolve", "reopen", "close")), max_size=5))
    for n, step in enumerate(steps):
        at = f"2026-02-{3 + n:02d}T10:00:00Z"
        if step == "resolve":
            events.append(
                obs(
                    "IssueResolved",
                    n,
                    source="complaint",
                    issue_id="x",
                    department="product",
                    raised_at="2026-02-01T10:00:00+08:00",
                    resolved_at=at,
                    within_deadline=n % 2 == 0,
                    **base,
                )
            )
        else:
            name = "ComplaintReopened" if step == "reopen" else "ComplaintClosed"
            stamp = "reopened_at" if step == "reopen" else "closed_at"
            events.append(obs(name, n, **{stamp: at}, **base))
    expected = contribution_of(events)
    stream = data.draw(st.permutations(events + data.draw(st.lists(st.sampled_from(events)))))
    assert contribution_of(stream) == expected
    assert expected.severity == "major"
    last = {s: max((i for i, x in enumerate(steps) if x == s), default=-1) for s in set(steps)}
    resolved = last.get("resolve", -1) > last.get("reopen", -1)
    closed = last.get("close", -1) > last.get("reopen", -1)
    assert expected.counts.get("complaints_resolved", 0) == resolved
    assert expected.counts.get("complaints_open", 0) == (not closed)
    on_time = resolved and last["resolve"] % 2 == 0
    assert expected.counts.get("complaints_resolved_on_time", 0) == on_time


def test_a_later_stage_is_not_undone_by_an_older_event():
    scheduled = obs("VisitScheduled", scheduled_at="2026-03-01T00:00:00Z", **VISIT)
    completed = obs(
        "VisitCompleted",
        **{**VISIT, "assignee": "wang.fang"},
        completed_at="2026-03-02T00:00:00Z",
        on_time=True,
        satisfaction="very_satisfied",
        recommend_score=10,
    )
    assert fold([completed, scheduled])["fields"]["assignee"] == "wang.fang"
    assert fold([scheduled, completed]) == fold([completed, scheduled])


def test_targets():
    resolved = obs("IssueResolved", source="complaint", issue_id="i", complaint_id="k")
    assert domain.target(resolved)[0].kind == "complaint"
    assert domain.target(resolved)[1] == "k"
    assert domain.target(obs("IssueRaised", source="complaint", issue_id="i")) is None
    assert domain.target(obs("IssueRaised", source="visit", issue_id="i"))[0].kind == "issue"
    assert domain.target(obs("RepairClosed", repair_id="r")) is None
    with pytest.raises(ValueError):
        domain.target(obs("VisitScheduled", visit_id=""))


# --------------------------------------------------------------------------- contributions


def test_completed_visit_counts():
    c = contribution_of(visit_events())
    assert (c.kind, c.day, c.region, c.assignee, c.reason) == (
        "visit",
        date(2026, 3, 10),
        "east",
        "li.wei",
        "periodic",
    )
    assert c.counts == {
        "visits_due": 1,
        "visits_completed": 1,
        "visits_rated": 1,
        "rated_satisfied": 1,
        "visits_satisfied": 1,
        "nps_responses": 1,
        "nps_promoters": 1,
    }


def test_cancelled_visit_is_not_due_unless_completed():
    cancelled = contribution_of(visit_events(completed=False, cancelled=True))
    assert cancelled.counts == {"visits_cancelled": 1}
    assert contribution_of(visit_events(completed=True, cancelled=True)).counts["visits_due"] == 1


def test_overdue_gauge_until_completed():
    open_visit = contribution_of(visit_events(completed=False))
    assert open_visit.counts == {"visits_due": 1, "visits_overdue": 1}
    assert "visits_overdue" not in contribution_of(visit_events()).counts


def test_follow_up_visits_and_unknown_levels():
    events = [
        obs(
            "VisitCompleted",
            **{**VISIT, "reason": "post_complaint"},
            completed_at="2026-03-09T00:00:00Z",
            on_time=True,
            satisfaction="very_satisfied",
            recommend_score=True,
        )
    ]
    counts = contribution_of(events).counts
    assert counts["complaint_follow_ups"] == counts["complaint_follow_ups_satisfied"] == 1
    assert counts["visits_completed_on_time"] == 1
    assert "nps_responses" not in counts  # a boolean is not a score
    odd = [
        obs(
            "VisitCompleted",
            **VISIT,
            completed_at="2026-03-09T00:00:00Z",
            on_time=True,
            satisfaction="ecstatic",
            recommend_score=6,
        )
    ]
    counts = contribution_of(odd).counts
    assert "visits_rated" not in counts
    assert counts["nps_detractors"] == 1


def test_days_are_the_tenants_local_dates():
    assert domain.day_of("2026-01-31T16:30:00Z", "Asia/Shanghai") == date(2026, 2, 1)
    assert domain.day_of("2026-02-01T03:00:00Z", "America/New_York") == date(2026, 1, 31)
    assert domain.day_of("2026-02-01T03:00:00", "UTC") == date(2026, 2, 1)  # naive is UTC
    assert domain.day_of("2026-02-01", "America/New_York") == date(2026, 2, 1)
    assert domain.day_of("2026-02-01T03:00:00Z", "Not/AZone") == date(2026, 2, 1)


def test_other_facts():
    issue = [
        obs(
            "IssueRaised",
            issue_id="i",
            source="visit",
            department="product",
            region="east",
            assignee="li",
            raised_at="2026-01-31T17:00:00Z",
        )
    ]
    c = contribution_of(issue)
    assert (c.day, c.department, c.counts) == (date(2026, 2, 1), "product", {"issues_raised": 1})
    audit = [
        obs(
            "VisitAudited",
            audit_id="a",
            accurate=False,
            region="w",
            assignee="li",
            audited_at="2026-01-01T00:00:00Z",
        )
    ]
    assert contribution_of(audit).counts == {"audits": 1}
    customer = [
        obs(
            "CustomerRegistered",
            customer_id="c",
            region="east",
            registered_at="2026-01-01T00:00:00Z",
        ),
        obs("CustomerGraded", customer_id="c", region="west", graded_at="2026-02-01T00:00:00Z"),
    ]
    c = contribution_of(customer)
    assert (c.region, c.counts) == ("west", {"customers": 1})
    assert contribution_of(customer[1:]) is None  # not registered (yet)
    assert contribution_of(list(reversed(customer))) == contribution_of(customer)


def test_deltas_move_a_contribution():
    old = Contribution("visit", date(2026, 1, 1), assignee="a", counts={"visits_due": 1})
    new = Contribution("visit", date(2026, 1, 1), assignee="b", counts={"visits_due": 1})
    assert domain.deltas(old, new, domain.daily_key) == {
        (date(2026, 1, 1), "", "", "a"): {"visits_due": -1},
        (date(2026, 1, 1), "", "", "b"): {"visits_due": 1},
    }
    assert domain.deltas(old, new, domain.totals_key) == {}
    assert domain.deltas(None, None, domain.daily_key) == {}
    assert Contribution.from_json(new.to_json()) == new


def test_merge_all_keeps_only_the_facts_a_run_changes():
    scheduled = obs("VisitScheduled", **VISIT)
    items = domain.targets([("t", scheduled), ("t", obs("PurchaseRecorded", purchase_id="p1"))])
    assert [key for key, _, _ in items] == [("t", "visit", "v1"), ("t", "purchase", "p1")]
    stored = {("t", "visit", "v1"): fold([scheduled])}
    changed = domain.merge_all(stored, items)
    assert list(changed) == [("t", "purchase", "p1")]  # the stored visit is as it was
    assert stored == {("t", "visit", "v1"): fold([scheduled])}
    twice = domain.merge_all({}, items + items[:1])
    assert list(twice) == [("t", "purchase", "p1"), ("t", "visit", "v1")]
    assert twice["t", "visit", "v1"] == fold([scheduled])


def test_aggregate_rows_sum_moves_per_bucket():
    day = date(2026, 1, 15)
    a = Contribution("visit", day, assignee="a", counts={"visits_due": 1})
    b = Contribution("visit", day, assignee="b", counts={"visits_due": 1})
    rows = domain.aggregate_rows([("t", None, a), ("t", a, b), ("t", None, a)])
    assert rows["daily"] == [
        {"tenant_id": "t", "day": day, "region": "", "department": "", "assignee": "a"}
        | {"visits_due": 1},
        {"tenant_id": "t", "day": day, "region": "", "department": "", "assignee": "b"}
        | {"visits_due": 1},
    ]
    assert rows["monthly"][0]["month"] == date(2026, 1, 1)
    totals = {"tenant_id": "t", "kind": "visit", "region": "", "department": ""}
    assert rows["totals"] == [
        totals | {"reason": "", "severity": "", "channel": ""} | {"visits_due": 2}
    ]
    assert domain.aggregate_rows([("t", a, a)]) == {"daily": [], "monthly": [], "totals": []}


_contributions = st.builds(
    Contribution,
    kind=st.sampled_from(("visit", "complaint")),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 3, 31)),
    region=st.sampled_from(("", "east")),
    assignee=st.sampled_from(("a", "b")),
    severity=st.sampled_from(("", "major")),
    counts=st.dictionaries(st.sampled_from(domain.COUNTS[:4]), st.integers(0, 2), max_size=3),
    labels=st.sampled_from(({}, {"region": "west"})),
)
_moves = st.lists(
    st.tuples(st.sampled_from(("t", "u")), st.none() | _contributions, st.none() | _contributions),
    max_size=12,
)


@given(_contributions)
def test_bucket_keys_are_their_aggregates_dimensions_in_order(made):
    """The key functions are spelled out (they run three times per fact a batch moves):
    each is its aggregate's dimensions read in order, a month by its first day, a total's
    labels as the fact had them when first seen."""
    assert domain.daily_key(made) == tuple(getattr(made, n) for n in domain.DAILY_DIMS)
    month = {"month": made.day.replace(day=1)}
    expected = tuple(month[n] if n in month else getattr(made, n) for n in domain.MONTHLY_DIMS)
    assert domain.monthly_key(made) == expected
    expected = tuple(made.labels.get(n, getattr(made, n)) for n in domain.TOTAL_DIMS)
    assert domain.totals_key(made) == expected


@given(_moves)
def test_aggregate_rows_are_every_moves_deltas_summed_per_bucket(moves):
    for name, (dims, key_of) in domain.AGGREGATES.items():
        expected: dict[tuple, dict[str, int]] = {}
        for tenant, old, new in moves:
            for bucket, counts in domain.deltas(old, new, key_of).items():
                into = expected.setdefault((tenant, *bucket), {})
                for count, value in counts.items():
                    into[count] = into.get(count, 0) + value
        rows = [
            {"tenant_id": bucket[0], **dict(zip(dims, bucket[1:], strict=True)), **nonzero}
            for bucket, counts in sorted(expected.items())
            if (nonzero := {n: v for n, v in counts.items() if v})
        ]
        assert domain.aggregate_rows(moves)[name] == rows


# --------------------------------------------------------------------------- formulas


def _consistent(counts: dict) -> dict:
    """Numerators no larger than their denominators (as the contributions guarantee)."""
    for _ in range(3):  # chains such as on time <= completed <= due
        counts = {**counts, **{n: min(counts[n], counts[d]) for n, d in domain.RATES.values()}}
    return counts


counts_strategy = st.fixed_dictionaries({name: st.integers(0, 50) for name in domain.COUNTS}).map(
    _consistent
)


@given(counts_strategy)
def test_rates_are_null_exactly_without_denominator(counts):
    rates = domain.figures(counts)
    for name, (_, denominator) in domain.RATES.items():
        assert (rates[name] is None) == (counts[denominator] == 0)
    cohort = set(domain.RATES) - {"complaint_incidence_rate", "complaint_rate"}
    for name in cohort:
        assert rates[name] is None or 0 <= rates[name] <= 1


@given(
    st.lists(st.sampled_from(["very_satisfied", "satisfied", "neutral", None]), max_size=8),
    st.lists(st.one_of(st.none(), st.integers(0, 10)), max_size=8),
)
def test_rates_from_real_visits_stay_in_range(levels, scores):
    total = {}
    for n, (level, score) in enumerate(zip(levels, scores, strict=False)):
        events = [
            obs(
                "VisitCompleted",
                **{**VISIT, "visit_id": f"v{n}"},
                on_time=n % 2 == 0,
                completed_at="2026-03-09T00:00:00Z",
                satisfaction=level,
                recommend_score=score,
            )
        ]
        for name, value in contribution_of(events).counts.items():
            total[name] = total.get(name, 0) + value
    rates = domain.figures(total)
    for name in ("visit_completion_rate", "satisfaction_rate", "visit_on_time_rate"):
        assert rates[name] is None or 0 <= rates[name] <= 1
    assert rates["nps"] is None or -100 <= rates["nps"] <= 100
    assert (rates["nps"] is None) == (not any(s is not None for s in scores[: len(levels)]))


def test_nps_scale():
    assert domain.nps({"nps_responses": 0}) is None
    counts = {"nps_responses": 4, "nps_promoters": 2, "nps_detractors": 1}
    assert domain.nps(counts) == 25.0
    assert domain.nps({"nps_responses": 2, "nps_detractors": 2}) == -100.0


def test_formulas_follow_domain():
    counts = domain.zero_counts() | {
        "visits_due": 4,
        "visits_completed": 3,
        "visits_rated": 2,
        "visits_satisfied": 1,
        "issues_raised": 5,
        "issues_resolved": 2,
        "audits": 10,
        "audits_accurate": 9,
        "complaints": 3,
        "complaints_resolved": 2,
        "complaints_resolved_on_time": 1,
        "complaint_follow_ups": 4,
        "complaint_follow_ups_satisfied": 3,
        "purchases": 30,
        "customers": 12,
    }
    rates = domain.figures(counts)
    assert rates["visit_completion_rate"] == 0.75
    assert rates["satisfaction_rate"] == 0.5
    assert rates["issue_resolution_rate"] == 0.4
    assert rates["record_accuracy_rate"] == 0.9
    assert rates["complaint_timeliness_rate"] == 0.5
    assert rates["complaint_satisfaction_rate"] == 0.75
    assert rates["complaint_incidence_rate"] == 0.1
    assert rates["complaint_rate"] == 0.25
    assert rates["nps"] is None


# --------------------------------------------------------------------------- ranking, periods


def staff(due, completed, rated=0, satisfied=0):
    return {
        "visits_due": due,
        "visits_completed": completed,
        "visits_rated": rated,
        "visits_satisfied": satisfied,
    }


def test_ranking_composite_and_ties():
    ranked = domain.rank_staff(
        [
            ("a", staff(10, 5)),
            ("b", staff(10, 9, 2, 1)),
            ("c", staff(10, 9, 2, 2)),
            ("d", staff(20, 18, 2, 2)),  # same rates as c, more volume
            ("e", staff(0, 0)),  # no rate: last
            ("f", staff(10, 9, 2, 2)),  # ties with c
        ]
    )
    assert [(r["assignee"], r["rank"]) for r in ranked] == [
        ("d", 1),
        ("c", 2),
        ("f", 2),
        ("b", 4),
        ("a", 5),
        ("e", 6),
    ]
    by_satisfaction = domain.rank_staff(
        [("a", staff(1, 1, 1, 1)), ("b", staff(9, 9, 2, 1))], "satisfaction_rate"
    )
    assert [r["assignee"] for r in by_satisfaction] == ["a", "b"]
    with pytest.raises(ValueError):
        domain.rank_staff([], "nonsense")


def test_periods():
    today = date(2024, 2, 14)
    assert domain.resolve_period(None, None, today) == (date(2024, 2, 1), date(2024, 2, 29))
    assert domain.resolve_period(date(2025, 4, 3), None, today) == (
        date(2025, 4, 3),
        date(2025, 4, 30),
    )
    assert domain.resolve_period(None, date(2025, 4, 3), today) == (
        date(2025, 4, 1),
        date(2025, 4, 3),
    )
    one_day = domain.resolve_period(date(2025, 4, 3), date(2025, 4, 3), today)
    assert one_day == (date(2025, 4, 3), date(2025, 4, 3))
    with pytest.raises(domain.PeriodError):
        domain.resolve_period(date(2025, 4, 3), date(2025, 4, 2), today)
    with pytest.raises(domain.PeriodError):
        domain.resolve_period(date(2020, 1, 1), date(2023, 1, 4), today)
    assert domain.resolve_period(date(2020, 1, 1), date(2023, 1, 1), today)

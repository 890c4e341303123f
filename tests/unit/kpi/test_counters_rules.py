"""Counters never decrease (CONTRACT.md §4.2): whatever a complaint, customer or visit goes
through, delivered in the order it happened, no counter sample of /metrics falls. Pure: the
rules' totals rows are summed in memory and rendered by the collector's families."""

from __future__ import annotations

import uuid
from collections import defaultdict

from hypothesis import given
from hypothesis import strategies as st

from kpi_service import domain
from kpi_service.collector import families
from kpi_service.domain import Observed

TZ = "Asia/Shanghai"
TOTALS = domain.AGGREGATES["totals"][0]


def at(n: int) -> str:
    return f"2026-02-{1 + n // 24:02d}T{n % 24:02d}:00:00Z"


class Totals:
    """The facts and totals rows of one tenant, applied event by event as the store does."""

    def __init__(self):
        self.states: dict = {}
        self.applied: dict = {}
        self.rows: dict = defaultdict(lambda: defaultdict(int))

    def apply(self, event: Observed) -> None:
        found = domain.target(event)
        assert found is not None, event.type
        rule, entity = found
        key = ("t1", rule.kind, entity)
        state = domain.merge(self.states.get(key, {}), event, rule)
        self.states[key] = state
        new = domain.contribution(rule.kind, state, TZ)
        moves = [("t1", self.applied.get(key), new)]
        self.applied[key] = new
        for row in domain.aggregate_rows(moves)["totals"]:
            bucket = tuple(row[name] for name in ("tenant_id", *TOTALS))
            for name in domain.COUNTS:
                self.rows[bucket][name] += row.get(name, 0)

    def counters(self) -> dict[tuple, float]:
        rows = [
            {"tenant_id": bucket[0], **dict(zip(TOTALS, bucket[1:], strict=True)), **counts}
            for bucket, counts in self.rows.items()
        ]
        rows = [{**row, **{n: row.get(n, 0) for n in domain.COUNTS}} for row in rows]
        out = {}
        for family in families(rows, "cn-east"):
            if family.type != "counter":
                continue
            for sample in family.samples:
                out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return out


def ev(type_name: str, n: int, **data) -> Observed:
    return Observed(type_name, f"e{n}-{uuid.uuid4()}", at(n), data)


DEPARTMENTS = ("product", "sales", "service")
REGIONS = ("east", "west")


@st.composite
def complaint_life(draw) -> list[Observed]:
    """A complaint's events in the order they happen: raised, then any of escalation,
    assignment (to another department), resolution (on time or late), reopening, closing."""
    base = {"complaint_id": "k1", "customer_id": "c1", "region": draw(st.sampled_from(REGIONS))}
    state = {
        "severity": draw(st.sampled_from(("general", "major"))),
        "department": draw(st.sampled_from(DEPARTMENTS)),
    }
    raised = {
        "channel": "phone",
        "category": "quality",
        "deadlines": {"resolve_by": at(200)},
        "received_at": at(0),
    }
    events = [ev("ComplaintRaised", 0, **base, **state, **raised)]
    status = "open"
    steps = draw(st.lists(st.sampled_from(("escalate", "assign", "resolve", "reopen", "close"))))
    for n, step in enumerate(steps, start=1):
        if step == "escalate":
            state["severity"] = "major"
            events.append(ev("ComplaintEscalated", n, **base, **state, escalated_at=at(n)))
        elif step == "assign":
            state["department"] = draw(st.sampled_from(DEPARTMENTS))
            events.append(
                ev("ComplaintAssigned", n, **base, **state, assignee="li", assigned_at=at(n))
            )
        elif step == "resolve" and status == "open":
            within = draw(st.booleans())
            resolved = {"source": "complaint", "issue_id": "i1", "raised_at": at(0)}
            data = {
                **base,
                **resolved,
                "department": state["department"],
                "within_deadline": within,
            }
            events.append(ev("IssueResolved", n, **data, resolved_at=at(n)))
            status = "resolved"
        elif step == "reopen" and status in ("resolved", "closed"):
            events.append(ev("ComplaintReopened", n, **base, **state, reopened_at=at(n)))
            status = "open"
        elif step == "close" and status == "resolved":
            events.append(ev("ComplaintClosed", n, **base, **state, closed_at=at(n)))
            status = "closed"
    return events


@st.composite
def customer_life(draw) -> list[Observed]:
    """A customer registered in one region, re-graded or re-rated in others later."""
    base = {"customer_id": "c1"}
    events = [ev("CustomerRegistered", 0, **base, region="east", registered_at=at(0))]
    for n, region in enumerate(draw(st.lists(st.sampled_from(REGIONS), max_size=4)), start=1):
        kind = draw(st.sampled_from(("CustomerGraded", "CustomerRiskChanged")))
        clock = "graded_at" if kind == "CustomerGraded" else "changed_at"
        events.append(ev(kind, n, **base, region=region, **{clock: at(n)}))
    return events


@st.composite
def visit_life(draw) -> list[Observed]:
    """A visit scheduled, perhaps overdue, then completed or cancelled, its customer's region
    changing on the way."""
    base = {"visit_id": "v1", "customer_id": "c1", "reason": "periodic", "method": "phone"}
    base.update(assignee="li", due_date="2026-02-03")
    events = [ev("VisitScheduled", 0, **base, region="east", scheduled_at=at(0))]
    if draw(st.booleans()):
        events.append(ev("VisitOverdue", 1, **base, region="east", detected_at=at(1)))
    region = draw(st.sampled_from(REGIONS))
    if draw(st.booleans()):
        events.append(ev("VisitCancelled", 2, **base, region=region, cancelled_at=at(2)))
    else:
        done = {"completed_at": at(3), "on_time": False, "satisfaction": "satisfied"}
        events.append(ev("VisitCompleted", 3, **base, region=region, **done))
    return events


def assert_never_falls(events: list[Observed]) -> Totals:
    totals, seen = Totals(), {}
    for event in events:
        totals.apply(event)
        now = totals.counters()
        for sample, value in seen.items():
            assert now.get(sample, 0) >= value, (event.type, sample)
        seen = now
    return totals


@given(complaint_life())
def test_no_counter_falls_whatever_a_complaint_goes_through(events):
    assert_never_falls(events)


@given(customer_life())
def test_no_counter_falls_when_a_customer_moves_region(events):
    assert_never_falls(events)


@given(visit_life())
def test_no_counter_falls_whatever_a_visit_goes_through(events):
    assert_never_falls(events)


def resolved(n: int, within: bool) -> Observed:
    data = {"complaint_id": "k1", "source": "complaint", "issue_id": "i1", "region": "east"}
    return ev("IssueResolved", n, **data, within_deadline=within, resolved_at=at(n))


def test_the_counters_count_the_first_resolution_and_keep_the_first_labels():
    raised = {"channel": "phone", "severity": "general", "department": "product"}
    events = [
        ev("ComplaintRaised", 0, complaint_id="k1", region="east", received_at=at(0), **raised),
        resolved(1, within=True),
        ev("ComplaintReopened", 2, complaint_id="k1", reopened_at=at(2)),
        ev("ComplaintEscalated", 3, complaint_id="k1", severity="major", escalated_at=at(3)),
        resolved(4, within=False),
    ]
    totals = assert_never_falls(events)
    ((bucket, counts),) = totals.rows.items()
    assert bucket == ("t1", "complaint", "east", "product", "", "general", "phone")
    assert counts["complaints_first_resolved"] == counts["complaints_first_resolved_on_time"] == 1
    assert counts["complaints_resolved"] == 1 and counts["complaints_resolved_on_time"] == 0
    state = totals.states[("t1", "complaint", "k1")]["fields"]
    assert state["severity"] == "major" and state["first_severity"] == "general"
    assert state["within_deadline"] is False and state["first_within_deadline"] is True

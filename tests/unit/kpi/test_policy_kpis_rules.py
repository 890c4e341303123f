"""The policies' own KPIs without a database: counts from facts, rates, previous periods."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kpi_service import domain, policy_kpis

TZ = "Asia/Shanghai"
JAN = (date(2026, 1, 1), date(2026, 1, 31))
DEC = (date(2025, 12, 1), date(2025, 12, 31))


def visit(customer, due, completed=False, cancelled=False, reason="periodic"):
    fields = {"customer_id": customer, "due_date": due, "region": "east", "reason": reason}
    if completed:
        fields["completed_at"] = f"{due}T04:00:00+00:00"
    if cancelled:
        fields["cancelled_at"] = f"{due}T01:00:00+00:00"
    return ("visit", {"fields": fields})


def complaint(resolve_by=None, resolved=None, within=None, reopened=None):
    fields = {"received_at": "2025-12-20T02:00:00+00:00", "deadlines": {}}
    if resolve_by:
        fields["deadlines"] = {"resolve_by": resolve_by}
    if resolved:
        fields.update(resolved_at=resolved, within_deadline=within)
    if reopened:
        fields["reopened_at"] = reopened
    return ("complaint", {"fields": fields})


def purchase(at, amount="100.00", quantity=None, customer="c1"):
    fields = {"purchased_at": at, "amount": amount, "customer_id": customer}
    if quantity is not None:
        fields["quantity"] = quantity
    return ("purchase", {"fields": fields})


def counts(*facts, period=JAN, previous=DEC):
    return policy_kpis.policy_counts(facts, TZ, period, previous)


def test_visit_completion_counts_customers_not_visits():
    got = counts(
        visit("c1", "2026-01-05", completed=True),
        visit("c1", "2026-01-20"),  # c1 twice: due once, visited once
        visit("c2", "2026-01-06"),
        visit("c3", "2026-01-07", cancelled=True),  # cancelled: not due
        visit("c4", "2026-02-01", completed=True),  # another period
    )
    assert (got["customers_due"], got["customers_visited"]) == (2, 1)


def test_repair_and_new_customers_visited_are_counted_apart():
    got = counts(
        visit("c1", "2026-01-05", completed=True, reason="repair"),
        visit("c1", "2026-01-09", reason="repair"),  # c1 visited once: visited
        visit("c2", "2026-01-06", reason="repair"),
        visit("c3", "2026-01-07", reason="new_customer"),
        visit("c4", "2026-01-08", completed=True, reason="new_customer"),
        visit("c5", "2026-01-08", completed=True, reason="care"),
        visit("c6", "2026-02-08", completed=True, reason="repair"),  # another period
    )
    assert (got["repair_customers_due"], got["repair_customers_visited"]) == (2, 1)
    assert (got["new_customers_due"], got["new_customers_visited"]) == (2, 1)
    assert (got["customers_due"], got["customers_visited"]) == (5, 3)


def test_rollout_against_the_targets():
    got = policy_kpis.rollout(
        base(repair_customers_due=4, repair_customers_visited=2, new_customers_due=0),
        {"repair": 0.5, "new_customer": 0.1},
    )
    assert got == {
        "repair": {
            "customers_due": 4,
            "customers_visited": 2,
            "rate": 0.5,
            "target": 0.5,
            "met": True,
        },
        "new_customer": {
            "customers_due": 0,
            "customers_visited": 0,
            "rate": None,
            "target": 0.1,
            "met": None,
        },
    }
    below = policy_kpis.rollout(
        base(repair_customers_due=4, repair_customers_visited=1), {"repair": 0.5, "new_customer": 1}
    )
    assert below["repair"]["met"] is False


@pytest.mark.parametrize(
    ("settings", "targets"),
    [
        ({}, {"repair": 0.5, "new_customer": 0.1}),
        (
            {"rollout_target_repair": 1, "rollout_target_new_customer": 0.25},
            {"repair": 1.0, "new_customer": 0.25},
        ),
        (
            {"rollout_target_repair": True, "rollout_target_new_customer": "x"},
            {"repair": 0.5, "new_customer": 0.1},
        ),
    ],
)
def test_rollout_targets_come_from_the_visit_settings(settings, targets):
    assert policy_kpis.rollout_targets(settings) == targets


def test_a_cancelled_visit_that_was_completed_still_counts():
    got = counts(visit("c1", "2026-01-05", completed=True, cancelled=True))
    assert (got["customers_due"], got["customers_visited"]) == (1, 1)


def test_on_time_counts_complaints_by_their_resolve_limit():
    got = counts(
        complaint("2026-01-10T02:00:00+00:00", "2026-01-09T02:00:00+00:00", True),
        complaint("2026-01-11T02:00:00+00:00", "2026-01-12T02:00:00+00:00", False),  # late
        complaint("2026-01-12T02:00:00+00:00"),  # unresolved
        complaint(  # resolved in time, then reopened: not handled
            "2026-01-13T02:00:00+00:00",
            "2026-01-09T02:00:00+00:00",
            True,
            reopened="2026-01-10T02:00:00+00:00",
        ),
        complaint("2026-01-31T17:00:00+00:00", "2026-01-30T02:00:00+00:00", True),  # Feb 1 local
        complaint(),  # no resolve limit: in neither count
    )
    assert got["complaints_resolve_due"] == 4
    assert got["complaints_resolved_within_limit"] == 1


def test_units_and_amounts_with_the_previous_period():
    got = counts(
        purchase("2026-01-03T02:00:00+00:00", "100.50", quantity=3),
        purchase("2026-01-04T02:00:00+00:00", "20"),  # no quantity: one unit
        purchase("2025-12-31T17:00:00+00:00", "7", quantity=5),  # Jan 1 local
        purchase("2025-12-15T02:00:00+00:00", "50.25", quantity=9),  # previous period
        purchase("2025-11-15T02:00:00+00:00", "999"),  # neither
    )
    assert got["units_sold"] == 9
    assert got["sales_amount"] == Decimal("127.50")
    assert got["previous_sales_amount"] == Decimal("50.25")


@pytest.mark.parametrize(
    ("value", "units"), [(None, 1), (4, 4), (0, 0), (True, 1), ("3", 1), (-2, 1)]
)
def test_quantity(value, units):
    assert policy_kpis.quantity(value) == units


@pytest.mark.parametrize(("value", "sum_"), [("12.30", "12.30"), (None, "0"), ("x", "0")])
def test_amount(value, sum_):
    assert policy_kpis.amount(value) == Decimal(sum_)


def base(**values):
    counts = dict.fromkeys(policy_kpis.INT_COUNTS, 0)
    counts.update(sales_amount=Decimal(0), previous_sales_amount=Decimal(0))
    return {**counts, **values}


def test_every_rate_is_null_without_a_denominator():
    assert policy_kpis.policy_figures(base()) == dict.fromkeys(policy_kpis.FIGURES, None)


def test_formulas():
    figures = policy_kpis.policy_figures(
        base(
            customers_due=4,
            customers_visited=3,
            complaints_resolve_due=5,
            complaints_resolved_within_limit=2,
            complaints=3,
            units_sold=12,
            customers=6,
            sales_amount=Decimal("150"),
            previous_sales_amount=Decimal("100"),
            visits_rated=4,
            visits_satisfied=3,
            previous_visits_rated=5,
            previous_visits_satisfied=2,
            repair_customers_due=4,
            repair_customers_visited=1,
            new_customers_due=5,
            new_customers_visited=1,
        )
    )
    assert figures == {
        "customer_visit_completion_rate": 0.75,
        "repair_customer_visit_rate": 0.25,
        "new_customer_visit_rate": 0.2,
        "complaint_on_time_rate": 0.4,
        "complaint_incidence_per_unit": 0.25,
        "customer_complaint_rate": 0.5,
        "sales_growth_rate": 0.5,
        "satisfaction_change": pytest.approx(0.35),
    }


def test_growth_and_change():
    assert policy_kpis.growth(Decimal(50), Decimal(100)) == -0.5
    assert policy_kpis.growth(Decimal(50), Decimal(0)) is None
    assert policy_kpis.change(0.5, None) is None
    assert policy_kpis.change(0.5, 0.75) == -0.25


def test_previous_period_has_equal_length():
    assert domain.previous_period(*JAN) == DEC
    assert domain.previous_period(date(2026, 3, 1), date(2026, 3, 31)) == (
        date(2026, 1, 29),
        date(2026, 2, 28),
    )
    assert domain.previous_period(date.min, date(1, 1, 5)) is None


def test_report_period():
    assert domain.report_period(*JAN) == JAN
    with pytest.raises(domain.PeriodError):
        domain.report_period(JAN[1], JAN[0])
    with pytest.raises(domain.PeriodError):
        domain.report_period(date(2025, 1, 1), date(2026, 1, 2))  # 367 days
    assert domain.report_period(date(2024, 1, 1), date(2024, 12, 31))  # 366 days


def test_purchase_facts_keep_what_the_policies_count():
    rule = domain.RULES["PurchaseRecorded"]
    assert {"customer_id", "quantity", "amount"} <= set(rule.fields)
    assert "deadlines" in domain.RULES["ComplaintRaised"].fields


def test_staff_score():
    rates = {"visit_completion_rate": 1.0, "satisfaction_rate": 0.5, "issue_resolution_rate": 0.0}
    assert domain.staff_score(rates, domain.SCORE_WEIGHTS) == pytest.approx(0.6)
    no_issues = {**rates, "issue_resolution_rate": None}  # neither helps nor hurts
    assert domain.staff_score(no_issues, domain.SCORE_WEIGHTS) == pytest.approx(0.75)
    nothing = dict.fromkeys(rates)
    assert domain.staff_score(nothing, domain.SCORE_WEIGHTS) is None
    only_resolution = {
        "visit_completion_rate": 0,
        "satisfaction_rate": 0,
        "issue_resolution_rate": 1,
    }
    assert domain.staff_score(rates, only_resolution) == 0.0
    assert domain.staff_score(no_issues, only_resolution) is None


def test_rank_staff_by_score():
    staff = [
        ("a", {"visits_due": 2, "visits_completed": 2, "visits_rated": 2, "visits_satisfied": 1}),
        ("b", {"visits_due": 2, "visits_completed": 1, "visits_rated": 1, "visits_satisfied": 1}),
        ("c", {"issues_raised": 0}),
    ]
    ranked = domain.rank_staff(staff, domain.SCORE)
    # a and b score 0.75 each; the satisfaction rate decides (b 1.0 over a 0.5)
    assert [(i["rank"], i["assignee"], i["score"]) for i in ranked] == [
        (1, "b", pytest.approx(0.75)),
        (2, "a", pytest.approx(0.75)),
        (3, "c", None),
    ]
    weighted = domain.rank_staff(
        staff, domain.SCORE, {**domain.SCORE_WEIGHTS, "satisfaction_rate": 0}
    )
    assert [(i["assignee"], i["score"]) for i in weighted] == [("a", 1.0), ("b", 0.5), ("c", None)]

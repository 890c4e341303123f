"""The pure supervision rules (supervision.py) and the ``supervisors`` setting of the
complaint policy: which complaints are reported upward and why, what stays watched, the
next deadline the watchers see."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from complaint_service.domain import Clock, ComplaintPolicy, Deadlines, PolicyError
from complaint_service.supervision import (
    MAJOR,
    SEVERAL_DEPARTMENTS,
    departments_touched,
    next_deadline,
    upward_reason,
    watched,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- departments


def test_departments_touched_lead_first_then_each_assisting_once():
    assert departments_touched("product") == ("product",)
    assert departments_touched("product", []) == ("product",)
    assert departments_touched("product", ["logistics", "product", "sales", "logistics"]) == (
        "product",
        "logistics",
        "sales",
    )
    assert departments_touched("sales", ["sales", "sales"]) == ("sales",)


# --------------------------------------------------------------------------- the reason


@pytest.mark.parametrize(
    ("severity", "departments", "reason"),
    [
        ("major", ["product"], MAJOR),
        ("major", ["product", "logistics"], MAJOR),  # major wins when both apply
        ("general", ["product", "logistics"], SEVERAL_DEPARTMENTS),
        ("general", ["product", "logistics", "sales"], SEVERAL_DEPARTMENTS),
        ("general", ["product"], None),
        ("general", ["product", "product"], None),  # the same department twice is one
        ("general", [], None),
    ],
)
def test_upward_reason(severity, departments, reason):
    assert upward_reason(severity, departments) == reason


def test_reasons_are_the_event_values():
    assert (MAJOR, SEVERAL_DEPARTMENTS) == ("major", "several_departments")


@pytest.mark.parametrize(
    ("reason", "status", "on_list"),
    [
        ("major", "received", True),
        ("major", "waiting_customer", True),
        ("major", "resolved", True),  # still waiting for the customer's satisfaction
        ("major", "reopened", True),
        ("several_departments", "implementing", True),
        ("major", "closed", False),
        ("several_departments", "closed", False),
        (None, "received", False),
    ],
)
def test_watched_until_closed(reason, status, on_list):
    assert watched(reason, status) is on_list


# --------------------------------------------------------------------------- next deadline


def deadlines(hours_first=4, hours_plan=48, hours_resolve=240) -> Deadlines:
    return Deadlines(
        first_response_by=T0 + timedelta(hours=hours_first),
        plan_by=T0 + timedelta(hours=hours_plan),
        resolve_by=T0 + timedelta(hours=hours_resolve),
    )


def test_next_deadline_is_the_first_unmet_limit():
    d = deadlines()
    assert next_deadline(Clock(d)) == ("first_response", d.first_response_by)
    assert next_deadline(Clock(d, met={"first_response": T0})) == ("plan", d.plan_by)
    met_two = {"first_response": T0, "plan": T0}
    assert next_deadline(Clock(d, met=met_two)) == ("resolve", d.resolve_by)
    assert next_deadline(Clock(d, met={**met_two, "resolve": T0})) is None


def test_next_deadline_of_a_general_complaint_is_its_resolve_limit():
    d = Deadlines(resolve_by=T0)
    assert next_deadline(Clock(d)) == ("resolve", T0)
    assert next_deadline(Clock(d, met={"resolve": T0})) is None


def test_next_deadline_takes_the_earliest_even_out_of_order():
    d = deadlines(hours_first=50, hours_plan=48)  # a first response limit later than the plan
    assert next_deadline(Clock(d)) == ("plan", d.plan_by)
    tie = deadlines(hours_first=48, hours_plan=48)
    assert next_deadline(Clock(tie)) == ("first_response", tie.first_response_by)


def test_next_deadline_while_paused_is_the_one_before_the_pause():
    d = deadlines()
    assert next_deadline(Clock(d, paused=True)) == ("first_response", d.first_response_by)


# --------------------------------------------------------------------------- the setting


def test_supervisors_default_empty_and_round_trip():
    assert ComplaintPolicy().supervisors == ()
    assert ComplaintPolicy().to_dict()["supervisors"] == []
    policy = ComplaintPolicy.from_dict({"supervisors": ["li.ming", "boss@example.com"]})
    assert policy.supervisors == ("li.ming", "boss@example.com")
    assert policy.to_dict()["supervisors"] == ["li.ming", "boss@example.com"]
    assert ComplaintPolicy.from_dict(policy.to_dict()) == policy
    assert ComplaintPolicy.from_dict({"supervisors": []}).supervisors == ()


def test_supervisors_bounds_are_inclusive():
    longest = "x" * 200
    assert ComplaintPolicy.from_dict({"supervisors": [longest]}).supervisors == (longest,)
    fifty = [f"s{i}" for i in range(50)]
    assert len(ComplaintPolicy.from_dict({"supervisors": fifty}).supervisors) == 50
    assert ComplaintPolicy.from_dict({"supervisors": ["王芳"]}).supervisors == ("王芳",)


@pytest.mark.parametrize(
    "value",
    [
        "li.ming",  # a string, not a list
        None,
        {"li.ming": True},
        [""],
        ["   "],
        ["x" * 201],
        [f"s{i}" for i in range(51)],
        [1],
        [None],
        ["li.ming", "li.ming"],
    ],
)
def test_supervisors_rejects_bad_values(value):
    with pytest.raises(PolicyError) as info:
        ComplaintPolicy.from_dict({"supervisors": value})
    assert list(info.value.errors) == ["supervisors"]

"""The pure rules of RULES.md 3.4 beyond category and customer: a complaint touching several
departments is major (triage.py ``derive_severity``), escalation raises a general one
(``escalated_severity``), and a complaint made major only by its departments is still
reported upward for them (supervision.py ``upward_reason``)."""

from __future__ import annotations

import pytest

from complaint_service.domain import ComplaintPolicy
from complaint_service.supervision import upward_reason
from complaint_service.triage import (
    SEVERITY_REASONS,
    Severity,
    derive_severity,
    escalated_severity,
)

POLICY = ComplaintPolicy.from_dict({"major_categories": ["safety"]})


@pytest.mark.parametrize(
    "departments",
    [("product", "logistics"), ("product", "logistics", "sales"), ["sales", "product"]],
)
def test_several_departments_raise_general_to_major(departments):
    assert derive_severity("general", "late_delivery", POLICY, departments=departments) == (
        Severity("major", "general", "several_departments")
    )


@pytest.mark.parametrize("departments", [(), ("product",), ("product", "product")])
def test_one_department_leaves_general_as_it_is(departments):
    assert derive_severity("general", "late_delivery", POLICY, departments=departments) == (
        Severity("general", "general", "given")
    )


def test_the_first_rule_that_applies_is_the_reason_and_major_is_never_lowered():
    several = ("product", "logistics")
    assert derive_severity("major", "late_delivery", POLICY, departments=several) == Severity(
        "major", "major", "given"
    )
    assert derive_severity("general", "safety", POLICY, departments=several).reason == "category"
    assert (
        derive_severity("general", "x", POLICY, size_tier="large", departments=several).reason
        == "customer"
    )


def test_escalation_raises_general_only():
    assert escalated_severity("general") == "escalated"
    assert escalated_severity("major") is None


def test_the_reasons_are_the_api_values():
    assert SEVERITY_REASONS == (
        "given",
        "category",
        "customer",
        "several_departments",
        "escalated",
    )


@pytest.mark.parametrize(
    ("severity_reason", "departments", "reason"),
    [
        ("several_departments", ["product", "logistics"], "several_departments"),
        ("category", ["product", "logistics"], "major"),  # major for another reason wins
        ("given", ["product", "logistics"], "major"),
        ("escalated", ["product"], "major"),
        (None, ["product", "logistics"], "major"),  # the reason unknown: as before
    ],
)
def test_upward_reason_of_a_major_complaint_by_what_made_it_major(
    severity_reason, departments, reason
):
    assert upward_reason("major", departments, severity_reason) == reason

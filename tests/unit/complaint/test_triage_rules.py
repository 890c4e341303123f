"""The pure triage rules (triage.py): severity derived from the given one, the category and
the customer; the handling department from the category; the coordinator; and their
settings in the complaint policy."""

from __future__ import annotations

import pytest

from complaint_service.domain import ComplaintPolicy, PolicyError
from complaint_service.triage import (
    DepartmentRequired,
    Severity,
    coordinator_of,
    derive_severity,
    handling_department,
)

POLICY = ComplaintPolicy.from_dict(
    {
        "major_categories": ["safety", "legal"],
        "departments_by_category": {"late_delivery": "sales", "product_quality": "product"},
    }
)


# --------------------------------------------------------------------------- severity


def test_a_general_complaint_of_an_ordinary_customer_stays_general():
    assert derive_severity("general", "late_delivery", POLICY) == Severity(
        "general", "general", "given"
    )
    assert derive_severity(
        "general", "late_delivery", POLICY, size_tier="small", grade="B"
    ) == Severity("general", "general", "given")


def test_a_given_major_is_kept_and_its_reason_is_given_even_when_others_apply():
    assert derive_severity("major", "late_delivery", POLICY) == Severity("major", "major", "given")
    assert derive_severity("major", "safety", POLICY, size_tier="large") == Severity(
        "major", "major", "given"
    )


@pytest.mark.parametrize("category", ["safety", "legal"])
def test_a_major_category_raises_general_to_major(category):
    assert derive_severity("general", category, POLICY) == Severity("major", "general", "category")


def test_the_category_wins_over_the_customer():
    derived = derive_severity("general", "legal", POLICY, size_tier="large", grade="A")
    assert derived.reason == "category"


def test_categories_match_exactly():
    assert derive_severity("general", "Safety", POLICY).value == "general"
    assert derive_severity("general", "safety ", POLICY).value == "general"


def test_no_category_is_major_by_default():
    for category in ("safety", "legal", "product_quality"):
        assert derive_severity("general", category, ComplaintPolicy()).value == "general"


def test_a_large_customer_raises_general_to_major():
    assert derive_severity("general", "late_delivery", POLICY, size_tier="large") == Severity(
        "major", "general", "customer"
    )


def test_a_grade_a_customer_raises_general_to_major():
    assert derive_severity("general", "late_delivery", POLICY, grade="A") == Severity(
        "major", "general", "customer"
    )


def test_an_unknown_size_tier_and_grade_leave_it_general():
    assert derive_severity("general", "x", POLICY, size_tier=None, grade=None).value == "general"
    assert derive_severity("general", "x", POLICY, size_tier="medium", grade="C").value == "general"


def test_customer_rules_follow_the_settings():
    policy = ComplaintPolicy.from_dict(
        {"major_customer_size_tiers": ["medium", "large"], "major_customer_grades": []}
    )
    assert derive_severity("general", "x", policy, size_tier="medium").reason == "customer"
    assert derive_severity("general", "x", policy, grade="A").value == "general"
    off = ComplaintPolicy.from_dict({"major_customer_size_tiers": [], "major_customer_grades": []})
    assert derive_severity("general", "x", off, size_tier="large", grade="A").value == "general"


# --------------------------------------------------------------------------- department


def test_a_named_department_is_kept_even_when_the_mapping_has_another():
    assert handling_department("late_delivery", "logistics", POLICY) == "logistics"
    assert handling_department("unmapped", "technical", POLICY) == "technical"


def test_the_mapping_fills_a_missing_department():
    assert handling_department("late_delivery", None, POLICY) == "sales"
    assert handling_department("product_quality", "", POLICY) == "product"


def test_no_department_and_no_mapping_is_department_required():
    with pytest.raises(DepartmentRequired, match="department required") as caught:
        handling_department("billing", None, POLICY)
    assert caught.value.category == "billing"
    with pytest.raises(DepartmentRequired):
        handling_department("late_delivery", None, ComplaintPolicy())


# --------------------------------------------------------------------------- coordinator


def test_customer_service_coordinates_other_departments():
    for department in ("sales", "product", "technical", "logistics"):
        assert coordinator_of(department, POLICY) == "customer_service"


def test_customer_service_handling_itself_has_no_separate_coordinator():
    assert coordinator_of("customer_service", POLICY) is None


def test_the_coordinator_follows_the_setting():
    policy = ComplaintPolicy.from_dict({"coordinator_department": "quality"})
    assert coordinator_of("customer_service", policy) == "quality"
    assert coordinator_of("quality", policy) is None


# --------------------------------------------------------------------------- settings


def test_triage_settings_default_and_round_trip():
    default = ComplaintPolicy()
    assert default.major_categories == ()
    assert default.major_customer_size_tiers == ("large",)
    assert default.major_customer_grades == ("A",)
    assert default.departments_by_category == {}
    assert default.coordinator_department == "customer_service"
    assert ComplaintPolicy.from_dict(POLICY.to_dict()) == POLICY
    assert POLICY.to_dict()["major_categories"] == ["safety", "legal"]
    assert POLICY.to_dict()["departments_by_category"] == {
        "late_delivery": "sales",
        "product_quality": "product",
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("major_categories", "safety"),  # a string, not a list
        ("major_categories", ["safety", "safety"]),
        ("major_categories", [" "]),
        ("major_categories", ["x" * 101]),
        ("major_categories", [f"c{i}" for i in range(101)]),
        ("major_customer_size_tiers", [1]),
        ("major_customer_grades", ["ABCDEFGHI"]),
        ("departments_by_category", ["sales"]),
        ("departments_by_category", {"late": "Sales"}),
        ("departments_by_category", {"late": "sales.east"}),
        ("departments_by_category", {"late": None}),
        ("departments_by_category", {"": "sales"}),
        ("departments_by_category", {"x" * 101: "sales"}),
        ("departments_by_category", {f"c{i}": "sales" for i in range(101)}),
        ("coordinator_department", ""),
        ("coordinator_department", "Customer Service"),
        ("coordinator_department", None),
    ],
)
def test_bad_triage_settings_are_refused(key, value):
    with pytest.raises(PolicyError) as caught:
        ComplaintPolicy.from_dict({key: value})
    assert list(caught.value.errors) == [key]


def test_triage_setting_bounds_are_inclusive():
    hundred = {f"c{i}": "sales" for i in range(100)}
    assert (
        len(ComplaintPolicy.from_dict({"departments_by_category": hundred}).departments_by_category)
        == 100
    )
    longest = "x" * 100
    assert ComplaintPolicy.from_dict({"major_categories": [longest]}).major_categories == (longest,)

"""Unit tests of the customer classification rules (DOMAIN.md §1 "Customers")."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_service.domain import (
    GRADES,
    RISK_LEVELS,
    SATISFACTION_LEVELS,
    SIZE_TIERS,
    Classification,
    ClassificationPolicy,
    CustomerFacts,
    PolicyError,
    RiskIndicators,
    assess_risk,
    classify,
    composite_score,
    cooperation_points,
    cooperation_tier,
    cooperation_years,
    grade_for_score,
    measures_for,
    purchase_amount_points,
    purchase_trend,
    raises_warning,
    risk_changed,
    sales_performance_points,
    satisfaction_points,
    size_tier,
)

DEFAULT = ClassificationPolicy()
TODAY = date(2026, 11, 22)
# Puts the whole score on the purchase amount, so the score is 100 * amount / 1,000,000.
AMOUNT_ONLY = ClassificationPolicy.from_dict(
    {
        "weight_purchase_amount": 1,
        "weight_cooperation": 0,
        "weight_sales_performance": 0,
        "weight_satisfaction": 0,
    }
)


def facts(**overrides) -> CustomerFacts:
    values = {
        "type": "dealer",
        "annual_purchase_amount": Decimal("500000"),
        "cooperation_start": date(2023, 1, 1),
    }
    values.update(overrides)
    return CustomerFacts(**values)


# --------------------------------------------------------------------------- policy


def test_default_policy_has_the_numbers_of_domain_md():
    assert DEFAULT.large_amount_threshold == Decimal("1000000")
    assert DEFAULT.medium_amount_threshold == Decimal("100000")
    assert (DEFAULT.long_cooperation_years, DEFAULT.medium_cooperation_years) == (5, 2)
    assert (DEFAULT.grade_a_min, DEFAULT.grade_b_min) == (80, 60)
    assert DEFAULT.weights() == {
        "purchase_amount": Decimal("0.35"),
        "cooperation": Decimal("0.25"),
        "sales_performance": Decimal("0.20"),
        "satisfaction": Decimal("0.20"),
    }
    assert (DEFAULT.risk_high_overdue_days, DEFAULT.risk_medium_overdue_days) == (90, 30)
    assert (DEFAULT.risk_high_complaints, DEFAULT.risk_medium_complaints) == (5, 2)
    assert DEFAULT.risk_medium_purchase_drop == Decimal("0.3")
    assert DEFAULT.satisfaction_default_score == 50


def test_to_dict_is_json_and_round_trips_through_from_dict():
    policy = ClassificationPolicy.from_dict(
        {
            "medium_amount_threshold": "123456.78",
            "weight_cooperation": 0.3,
            "weight_satisfaction": 0.15,
        }
    )
    stored = json.loads(json.dumps(policy.to_dict()))
    assert ClassificationPolicy.from_dict(stored) == policy
    assert stored["medium_amount_threshold"] == "123456.78"
    assert stored["weight_cooperation"] == 0.3
    assert stored["grade_a_min"] == 80
    assert set(stored) == {f.name for f in dataclasses.fields(ClassificationPolicy)}


def test_to_dict_gives_money_as_exact_strings_and_counts_as_ints():
    data = DEFAULT.to_dict()
    assert data["large_amount_threshold"] == "1000000"
    assert data["medium_amount_threshold"] == "100000"
    assert data["long_cooperation_years"] == 5
    assert isinstance(data["risk_high_overdue_days"], int)
    assert data["weight_purchase_amount"] == 0.35


def test_from_dict_with_partial_overrides_keeps_the_other_defaults():
    policy = ClassificationPolicy.from_dict({"grade_a_min": 75})
    assert policy.grade_a_min == 75
    assert policy == dataclasses.replace(DEFAULT, grade_a_min=Decimal(75))
    assert ClassificationPolicy.from_dict({}) == DEFAULT


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2000000, Decimal("2000000")),
        ("2000000.50", Decimal("2000000.50")),
        (2000000.5, Decimal("2000000.5")),
        (Decimal("2000000"), Decimal("2000000")),
        (" 2000000 ", Decimal("2000000")),
    ],
)
def test_from_dict_accepts_json_numbers_and_numeric_strings_for_money(value, expected):
    policy = ClassificationPolicy.from_dict({"large_amount_threshold": value})
    assert policy.large_amount_threshold == expected
    assert isinstance(policy.large_amount_threshold, Decimal)


def test_from_dict_applies_overrides_on_a_given_base_policy():
    base = ClassificationPolicy.from_dict({"grade_a_min": 90, "grade_b_min": 70})
    patched = ClassificationPolicy.from_dict({"grade_b_min": 65}, base=base)
    assert (patched.grade_a_min, patched.grade_b_min) == (90, 65)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"colour": "red"}, "colour"),
        ({"medium_amount_threshold": -1}, "medium_amount_threshold"),
        ({"large_amount_threshold": "-5"}, "large_amount_threshold"),
        ({"large_amount_threshold": 0}, "large_amount_threshold"),
        ({"medium_amount_threshold": 2000000}, "medium_amount_threshold"),
        ({"large_amount_threshold": "lots"}, "large_amount_threshold"),
        ({"large_amount_threshold": "NaN"}, "large_amount_threshold"),
        ({"large_amount_threshold": float("inf")}, "large_amount_threshold"),
        ({"large_amount_threshold": None}, "large_amount_threshold"),
        ({"large_amount_threshold": True}, "large_amount_threshold"),
        ({"weight_purchase_amount": 0.4}, "_schema"),
        ({"weight_purchase_amount": 0.35 + 2e-6}, "_schema"),
        ({"weight_purchase_amount": 1.35, "weight_cooperation": -0.75}, "weight_purchase_amount"),
        ({"weight_cooperation": -0.05, "weight_satisfaction": 0.5}, "weight_cooperation"),
        ({"grade_b_min": 85}, "grade_b_min"),
        ({"grade_a_min": 101}, "grade_a_min"),
        ({"grade_b_min": -1}, "grade_b_min"),
        ({"medium_cooperation_years": 6}, "medium_cooperation_years"),
        ({"long_cooperation_years": 0}, "long_cooperation_years"),
        ({"long_cooperation_years": 5.5}, "long_cooperation_years"),
        ({"long_cooperation_years": "5"}, "long_cooperation_years"),
        ({"medium_cooperation_years": -1}, "medium_cooperation_years"),
        ({"risk_medium_overdue_days": 120}, "risk_medium_overdue_days"),
        ({"risk_high_overdue_days": 0}, "risk_high_overdue_days"),
        ({"risk_medium_complaints": 6}, "risk_medium_complaints"),
        ({"risk_medium_complaints": 0}, "risk_medium_complaints"),
        ({"risk_medium_purchase_drop": 0}, "risk_medium_purchase_drop"),
        ({"risk_medium_purchase_drop": 1.5}, "risk_medium_purchase_drop"),
        ({"sales_growth_for_full_score": 0}, "sales_growth_for_full_score"),
        ({"purchase_count_for_full_score": 0}, "purchase_count_for_full_score"),
        ({"satisfaction_default_score": 120}, "satisfaction_default_score"),
    ],
)
def test_from_dict_rejects_invalid_settings_naming_the_setting(data, field):
    with pytest.raises(ValueError) as info:
        ClassificationPolicy.from_dict(data)
    assert isinstance(info.value, PolicyError)
    assert field in info.value.errors
    assert field in str(info.value)


def test_weights_may_miss_one_by_less_than_a_millionth():
    policy = ClassificationPolicy.from_dict({"weight_purchase_amount": "0.3500005"})
    assert policy.weight_purchase_amount == Decimal("0.3500005")


def test_policy_error_collects_every_problem_with_readable_messages():
    with pytest.raises(PolicyError) as info:
        ClassificationPolicy.from_dict({"large_amount_threshold": -1, "grade_a_min": "high"})
    assert info.value.errors == {
        "large_amount_threshold": ["must be greater than 0, got -1"],
        "grade_a_min": ["must be a number, got 'high'"],
    }


def test_cross_field_message_names_both_settings():
    with pytest.raises(PolicyError) as info:
        ClassificationPolicy.from_dict({"grade_b_min": 85})
    assert info.value.errors == {"grade_b_min": ["must not exceed grade_a_min (80), got 85"]}


def test_weight_sum_message_gives_the_sum():
    with pytest.raises(PolicyError) as info:
        ClassificationPolicy.from_dict({"weight_purchase_amount": 0.4})
    assert info.value.errors == {
        "_schema": ["the four weight_* settings must sum to 1, they sum to 1.05"]
    }


def test_from_dict_rejects_something_other_than_an_object():
    with pytest.raises(PolicyError) as info:
        ClassificationPolicy.from_dict([("grade_a_min", 70)])  # type: ignore[arg-type]
    assert "_schema" in info.value.errors


def test_constructor_and_replace_validate_too():
    with pytest.raises(PolicyError):
        ClassificationPolicy(grade_a_min=Decimal(50))
    with pytest.raises(PolicyError):
        dataclasses.replace(DEFAULT, medium_amount_threshold=Decimal("5000000"))


# --------------------------------------------------------------------------- size tier


@pytest.mark.parametrize(
    ("amount", "tier"),
    [
        ("0", "small"),
        ("99999.99", "small"),
        ("100000", "medium"),
        ("100000.00", "medium"),
        ("999999.99", "medium"),
        ("1000000", "large"),
        ("25000000", "large"),
    ],
)
def test_size_tier_boundaries(amount, tier):
    assert size_tier(Decimal(amount), DEFAULT) == tier
    assert classify(facts(annual_purchase_amount=Decimal(amount)), DEFAULT, TODAY).size_tier == tier


def test_size_tier_thresholds_are_per_tenant():
    policy = ClassificationPolicy.from_dict(
        {"large_amount_threshold": "500000", "medium_amount_threshold": "50000"}
    )
    assert size_tier(Decimal("500000"), policy) == "large"
    assert size_tier(Decimal("499999.99"), policy) == "medium"
    assert size_tier(Decimal("50000"), policy) == "medium"
    assert size_tier(Decimal("49999.99"), policy) == "small"
    assert size_tier(Decimal("500000"), DEFAULT) == "medium"


# --------------------------------------------------------------------------- cooperation


@pytest.mark.parametrize(
    ("start", "today", "years"),
    [
        (date(2021, 11, 23), date(2026, 11, 22), 4),
        (date(2021, 11, 23), date(2026, 11, 23), 5),
        (date(2021, 11, 23), date(2021, 11, 23), 0),
        (date(2021, 11, 23), date(2022, 11, 22), 0),
        (date(2021, 11, 23), date(2022, 11, 23), 1),
        (date(2021, 12, 31), date(2022, 1, 1), 0),
        (date(2020, 2, 29), date(2021, 2, 28), 0),
        (date(2020, 2, 29), date(2021, 3, 1), 1),
        (date(2020, 2, 29), date(2022, 2, 28), 1),
        (date(2020, 2, 29), date(2022, 3, 1), 2),
        (date(2020, 2, 29), date(2024, 2, 28), 3),
        (date(2020, 2, 29), date(2024, 2, 29), 4),
        (date(2020, 2, 29), date(2025, 2, 28), 4),
        (date(2020, 2, 29), date(2025, 3, 1), 5),
        (date(2023, 3, 1), date(2024, 2, 29), 0),
        (date(2027, 1, 1), date(2026, 11, 22), 0),
    ],
)
def test_cooperation_years_count_full_calendar_years(start, today, years):
    assert cooperation_years(start, today) == years


@pytest.mark.parametrize(
    ("start", "today", "tier"),
    [
        (date(2024, 11, 23), date(2026, 11, 22), "short"),
        (date(2024, 11, 23), date(2026, 11, 23), "medium"),
        (date(2021, 11, 23), date(2026, 11, 22), "medium"),
        (date(2021, 11, 23), date(2026, 11, 23), "long"),
        (date(2020, 2, 29), date(2022, 2, 28), "short"),
        (date(2020, 2, 29), date(2022, 3, 1), "medium"),
        (date(2020, 2, 29), date(2025, 2, 28), "medium"),
        (date(2020, 2, 29), date(2025, 3, 1), "long"),
        (date(2026, 12, 1), date(2026, 11, 22), "short"),
    ],
)
def test_cooperation_tier_boundaries_at_two_and_five_years(start, today, tier):
    result = classify(facts(cooperation_start=start), DEFAULT, today)
    assert result.cooperation_tier == tier
    assert result.cooperation_years == cooperation_years(start, today)


def test_cooperation_tier_thresholds_are_per_tenant():
    policy = ClassificationPolicy.from_dict(
        {"long_cooperation_years": 3, "medium_cooperation_years": 1}
    )
    assert [cooperation_tier(y, policy) for y in (0, 1, 2, 3)] == [
        "short",
        "medium",
        "medium",
        "long",
    ]
    assert [cooperation_tier(y, DEFAULT) for y in (1, 2, 4, 5)] == [
        "short",
        "medium",
        "medium",
        "long",
    ]


def test_cooperation_years_rejects_datetimes():
    with pytest.raises(ValueError, match="today must be a date"):
        cooperation_years(date(2020, 1, 1), datetime(2026, 1, 1, 12, 0))


# --------------------------------------------------------------------------- components


@pytest.mark.parametrize(
    ("amount", "points"),
    [("0", 0), ("250000", 25), ("999999.99", "99.999999"), ("1000000", 100), ("7000000", 100)],
)
def test_purchase_amount_points_relative_to_large_threshold_capped(amount, points):
    assert purchase_amount_points(Decimal(amount), DEFAULT) == Decimal(points)


def test_purchase_amount_points_follow_the_tenant_large_threshold():
    policy = ClassificationPolicy.from_dict({"large_amount_threshold": 400000})
    assert purchase_amount_points(Decimal("100000"), policy) == 25
    assert purchase_amount_points(Decimal("400000"), policy) == 100


@pytest.mark.parametrize(("years", "points"), [(0, 0), (1, 20), (4, 80), (5, 100), (30, 100)])
def test_cooperation_points_relative_to_long_threshold_capped(years, points):
    assert cooperation_points(years, DEFAULT) == points


@pytest.mark.parametrize(
    ("last", "prev", "points"),
    [
        ("0", "100", 0),
        ("50", "100", 25),
        ("70", "100", 35),
        ("100", "100", 50),
        ("125", "100", 75),
        ("150", "100", 100),
        ("400", "100", 100),
    ],
)
def test_sales_performance_from_growth_when_there_is_a_previous_year(last, prev, points):
    # The purchase count is ignored when there is a previous year to compare with.
    assert sales_performance_points(Decimal(last), Decimal(prev), 40, DEFAULT) == points


@pytest.mark.parametrize(("count", "points"), [(0, 0), (3, 25), (6, 50), (12, 100), (50, 100)])
def test_sales_performance_from_purchase_frequency_without_previous_year(count, points):
    assert sales_performance_points(Decimal("9999"), Decimal(0), count, DEFAULT) == points


def test_sales_performance_scales_are_per_tenant():
    policy = ClassificationPolicy.from_dict(
        {"sales_growth_for_full_score": 1, "purchase_count_for_full_score": 4}
    )
    assert sales_performance_points(Decimal(150), Decimal(100), 0, policy) == 75
    assert sales_performance_points(Decimal(200), Decimal(100), 0, policy) == 100
    assert sales_performance_points(Decimal(10), Decimal(0), 2, policy) == 50


@pytest.mark.parametrize(
    ("levels", "points"),
    [
        (("very_satisfied",), 100),
        (("satisfied",), 75),
        (("neutral",), 50),
        (("dissatisfied",), 25),
        (("very_dissatisfied",), 0),
        (("very_satisfied", "dissatisfied"), Decimal("62.5")),
        (("satisfied", "satisfied", "very_dissatisfied", "very_satisfied"), Decimal("62.5")),
    ],
)
def test_satisfaction_points_average_the_recorded_levels(levels, points):
    assert satisfaction_points(levels, DEFAULT) == points


def test_satisfaction_points_default_to_neutral_and_the_default_is_per_tenant():
    assert satisfaction_points((), DEFAULT) == 50
    policy = ClassificationPolicy.from_dict({"satisfaction_default_score": 70})
    assert satisfaction_points((), policy) == 70
    assert satisfaction_points(("neutral",), policy) == 50


def test_satisfaction_points_reject_an_unknown_level():
    with pytest.raises(ValueError, match="happy"):
        satisfaction_points(("happy",), DEFAULT)


def test_composite_score_weights_the_components():
    components = {
        "purchase_amount": Decimal(100),
        "cooperation": Decimal(40),
        "sales_performance": Decimal(50),
        "satisfaction": Decimal(75),
    }
    # 0.35*100 + 0.25*40 + 0.20*50 + 0.20*75 = 35 + 10 + 10 + 15
    assert composite_score(components, DEFAULT) == Decimal("70.0")
    satisfaction_heavy = ClassificationPolicy.from_dict(
        {"weight_purchase_amount": 0.1, "weight_satisfaction": 0.45}
    )
    # 10 + 10 + 10 + 33.75 = 63.75, rounded half-up
    assert composite_score(components, satisfaction_heavy) == Decimal("63.8")


def test_composite_score_stays_within_0_and_100():
    too_high = dict.fromkeys(("purchase_amount", "cooperation", "sales_performance"), 150)
    assert composite_score({**too_high, "satisfaction": 100}, DEFAULT) == Decimal("100.0")
    too_low = dict.fromkeys(("purchase_amount", "cooperation", "sales_performance"), -20)
    assert composite_score({**too_low, "satisfaction": 0}, DEFAULT) == Decimal("0.0")


def test_classify_reports_the_components_behind_the_score():
    result = classify(
        facts(
            annual_purchase_amount=Decimal("1200000"),
            cooperation_start=date(2020, 1, 1),
            purchases_last_12m=Decimal(100),
            purchases_prev_12m=Decimal(100),
            satisfaction_scores=("satisfied",),
        ),
        DEFAULT,
        TODAY,
    )
    assert result.components == {
        "purchase_amount": 100.0,
        "cooperation": 100.0,
        "sales_performance": 50.0,
        "satisfaction": 75.0,
    }
    assert result.score == 85.0
    assert result.grade == "A"


# --------------------------------------------------------------------------- grade


@pytest.mark.parametrize(
    ("score", "grade"),
    [(100, "A"), (80, "A"), (79.9, "B"), (60, "B"), (59.9, "C"), (0, "C")],
)
def test_grade_cut_offs(score, grade):
    assert grade_for_score(score, DEFAULT) == grade


def test_grade_cut_offs_are_per_tenant():
    policy = ClassificationPolicy.from_dict({"grade_a_min": 90, "grade_b_min": 50})
    assert [grade_for_score(s, policy) for s in (90, 89.9, 50, 49.9)] == ["A", "B", "B", "C"]


def _large_five_year_customer(**overrides) -> CustomerFacts:
    values = {
        "annual_purchase_amount": Decimal("1000000"),
        "cooperation_start": date(2021, 11, 22),
        "purchases_last_12m": Decimal(100),
        "purchases_prev_12m": Decimal(100),
    }
    values.update(overrides)
    return facts(**values)


def test_score_exactly_80_is_grade_a():
    # 0.35*100 (large) + 0.25*100 (5 years) + 0.20*50 (flat sales) + 0.20*50 (no rating)
    result = classify(_large_five_year_customer(), DEFAULT, TODAY)
    assert (result.score, result.grade) == (80.0, "A")
    one_day_earlier = classify(_large_five_year_customer(), DEFAULT, date(2026, 11, 21))
    assert (one_day_earlier.score, one_day_earlier.grade) == (75.0, "B")


def test_score_exactly_60_is_grade_b():
    # 35 + 25 + 0 (sales stopped) + 0 (very dissatisfied)
    customer = _large_five_year_customer(
        purchases_last_12m=Decimal(0), satisfaction_scores=("very_dissatisfied",)
    )
    result = classify(customer, DEFAULT, TODAY)
    assert (result.score, result.grade) == (60.0, "B")
    # with 4 full years the cooperation component is 80: 35 + 20 = 55
    four_years = classify(customer, DEFAULT, date(2026, 11, 21))
    assert (four_years.score, four_years.grade) == (55.0, "C")


@pytest.mark.parametrize(
    ("amount", "score", "grade"),
    [
        ("799500", 80.0, "A"),  # 79.95 rounds half up to 80.0
        ("799499.99", 79.9, "B"),
        ("600000", 60.0, "B"),
        ("599499.99", 59.9, "C"),
        ("642500", 64.3, "B"),  # 64.25: half up, not half even
        ("641500", 64.2, "B"),  # 64.15
    ],
)
def test_grade_is_read_from_the_rounded_score(amount, score, grade):
    result = classify(facts(annual_purchase_amount=Decimal(amount)), AMOUNT_ONLY, TODAY)
    assert (result.score, result.grade) == (score, grade)


def test_policy_overrides_change_the_grade_of_the_same_customer():
    customer = _large_five_year_customer(cooperation_start=date(2023, 11, 22))
    # 35 + 15 (3 years) + 10 + 10 = 70
    assert classify(customer, DEFAULT, TODAY).grade == "B"
    lenient = ClassificationPolicy.from_dict({"grade_a_min": 70})
    assert classify(customer, lenient, TODAY).grade == "A"
    short_memory = ClassificationPolicy.from_dict({"long_cooperation_years": 3})
    assert classify(customer, short_memory, TODAY).score == 80.0
    assert classify(customer, short_memory, TODAY).cooperation_tier == "long"


# --------------------------------------------------------------------------- risk


@pytest.mark.parametrize(
    ("indicators", "level", "reasons"),
    [
        ({}, "low", []),
        ({"legal_dispute": True}, "high", ["legal_dispute"]),
        ({"overdue_payment_days": 29}, "low", []),
        ({"overdue_payment_days": 30}, "medium", ["overdue_payment_days>=30"]),
        ({"overdue_payment_days": 89}, "medium", ["overdue_payment_days>=30"]),
        ({"overdue_payment_days": 90}, "high", ["overdue_payment_days>=90"]),
        ({"credit_rating": "good"}, "low", []),
        ({"credit_rating": "fair"}, "medium", ["credit_rating=fair"]),
        ({"credit_rating": "poor"}, "high", ["credit_rating=poor"]),
        ({"complaints_12m": 1}, "low", []),
        ({"complaints_12m": 2}, "medium", ["complaints_12m>=2"]),
        ({"complaints_12m": 4}, "medium", ["complaints_12m>=2"]),
        ({"complaints_12m": 5}, "high", ["complaints_12m>=5"]),
        ({"purchase_trend": None}, "low", []),
        ({"purchase_trend": Decimal("1.5")}, "low", []),
        ({"purchase_trend": Decimal("0.71")}, "low", []),
        ({"purchase_trend": Decimal("0.7")}, "medium", ["purchase_drop>=0.3"]),
        ({"purchase_trend": Decimal("0")}, "medium", ["purchase_drop>=0.3"]),
    ],
)
def test_each_risk_rule_and_its_reason(indicators, level, reasons):
    assert assess_risk(RiskIndicators(**indicators), DEFAULT) == (level, reasons)


def test_risk_reasons_list_every_indicator_in_a_fixed_order():
    indicators = RiskIndicators(
        overdue_payment_days=45,
        legal_dispute=True,
        credit_rating="fair",
        complaints_12m=7,
        purchase_trend=Decimal("0.5"),
    )
    assert assess_risk(indicators, DEFAULT) == (
        "high",
        [
            "legal_dispute",
            "overdue_payment_days>=30",
            "credit_rating=fair",
            "complaints_12m>=5",
            "purchase_drop>=0.3",
        ],
    )


def test_medium_reasons_alone_give_medium():
    indicators = RiskIndicators(
        overdue_payment_days=30, credit_rating="fair", purchase_trend=Decimal("0.6")
    )
    assert assess_risk(indicators, DEFAULT) == (
        "medium",
        ["overdue_payment_days>=30", "credit_rating=fair", "purchase_drop>=0.3"],
    )


def test_risk_thresholds_are_per_tenant_and_named_in_the_reasons():
    policy = ClassificationPolicy.from_dict(
        {
            "risk_high_overdue_days": 60,
            "risk_medium_overdue_days": 15,
            "risk_high_complaints": 3,
            "risk_medium_complaints": 1,
            "risk_medium_purchase_drop": "0.50",
        }
    )
    assert assess_risk(RiskIndicators(overdue_payment_days=60), policy) == (
        "high",
        ["overdue_payment_days>=60"],
    )
    assert assess_risk(RiskIndicators(overdue_payment_days=15), policy) == (
        "medium",
        ["overdue_payment_days>=15"],
    )
    assert assess_risk(RiskIndicators(complaints_12m=3), policy) == ("high", ["complaints_12m>=3"])
    assert assess_risk(RiskIndicators(complaints_12m=1), policy) == (
        "medium",
        ["complaints_12m>=1"],
    )
    assert assess_risk(RiskIndicators(purchase_trend=Decimal("0.6")), policy) == ("low", [])
    assert assess_risk(RiskIndicators(purchase_trend=Decimal("0.5")), policy) == (
        "medium",
        ["purchase_drop>=0.5"],
    )
    # the same indicators under the defaults
    assert assess_risk(RiskIndicators(overdue_payment_days=60), DEFAULT)[0] == "medium"
    assert assess_risk(RiskIndicators(complaints_12m=1), DEFAULT)[0] == "low"


def test_purchase_trend_compares_the_last_12_months_with_the_12_before():
    assert purchase_trend(Decimal("70000"), Decimal("100000")) == Decimal("0.7")
    assert purchase_trend(Decimal("150"), Decimal("100")) == Decimal("1.5")
    assert purchase_trend(Decimal("500"), Decimal("0")) is None
    with pytest.raises(ValueError, match="purchases_prev_12m"):
        purchase_trend(Decimal("1"), Decimal("-1"))


def test_classify_reports_the_risk_of_its_indicators():
    trend = purchase_trend(Decimal("70000"), Decimal("100000"))
    customer = facts(
        purchases_last_12m=Decimal("70000"),
        purchases_prev_12m=Decimal("100000"),
        risk=RiskIndicators(purchase_trend=trend, complaints_12m=2),
    )
    result = classify(customer, DEFAULT, TODAY)
    assert result.risk_level == "medium"
    assert result.risk_reasons == ["complaints_12m>=2", "purchase_drop>=0.3"]


@pytest.mark.parametrize(
    ("old", "new", "changed", "warning"),
    [
        ("low", "low", False, False),
        ("low", "medium", True, True),
        ("low", "high", True, True),
        ("medium", "low", True, False),
        ("medium", "medium", False, False),
        ("medium", "high", True, True),
        ("high", "low", True, False),
        ("high", "medium", True, False),
        ("high", "high", False, False),
        (None, "low", True, False),
        (None, "medium", True, True),
        (None, "high", True, True),
    ],
)
def test_risk_changes_and_early_warnings(old, new, changed, warning):
    assert risk_changed(old, new) is changed
    assert raises_warning(old, new) is warning


@pytest.mark.parametrize(
    "call",
    [
        lambda: risk_changed("low", "severe"),
        lambda: risk_changed("HIGH", "low"),
        lambda: raises_warning("low", None),
        lambda: raises_warning("critical", "high"),
        lambda: measures_for("urgent"),
    ],
)
def test_unknown_risk_levels_are_rejected(call):
    with pytest.raises(ValueError, match="risk level must be one of low, medium, high"):
        call()


# --------------------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"type": "reseller"}, "type must be one of dealer, agent, end_user"),
        ({"annual_purchase_amount": Decimal("-0.01")}, "annual_purchase_amount must not be"),
        ({"annual_purchase_amount": "a lot"}, "annual_purchase_amount must be a number"),
        ({"annual_purchase_amount": Decimal("NaN")}, "annual_purchase_amount must be a finite"),
        ({"purchases_last_12m": -5}, "purchases_last_12m must not be negative"),
        ({"purchase_count_12m": -1}, "purchase_count_12m must be a whole number"),
        ({"cooperation_start": "2020-01-01"}, "cooperation_start must be a date"),
        ({"cooperation_start": datetime(2020, 1, 1)}, "cooperation_start must be a date"),
        ({"satisfaction_scores": ("happy",)}, "satisfaction_scores item must be one of"),
        ({"satisfaction_scores": "satisfied"}, "not a string"),
        ({"risk": {"legal_dispute": True}}, "risk must be RiskIndicators"),
    ],
)
def test_customer_facts_reject_invalid_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        facts(**overrides)


def test_customer_facts_normalise_amounts_and_levels():
    customer = facts(
        annual_purchase_amount="1000000",
        purchases_last_12m=12,
        satisfaction_scores=["satisfied", "neutral"],
    )
    assert customer.annual_purchase_amount == Decimal("1000000")
    assert isinstance(customer.purchases_last_12m, Decimal)
    assert customer.satisfaction_scores == ("satisfied", "neutral")
    assert classify(customer, DEFAULT, TODAY).size_tier == "large"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"overdue_payment_days": -1}, "overdue_payment_days"),
        ({"overdue_payment_days": True}, "overdue_payment_days"),
        ({"overdue_payment_days": 3.5}, "overdue_payment_days"),
        ({"complaints_12m": -2}, "complaints_12m"),
        ({"legal_dispute": "yes"}, "legal_dispute must be a bool"),
        ({"credit_rating": "excellent"}, "credit_rating must be one of good, fair, poor"),
        ({"purchase_trend": Decimal("-0.1")}, "purchase_trend must not be negative"),
    ],
)
def test_risk_indicators_reject_invalid_values(overrides, message):
    with pytest.raises(ValueError, match=message):
        RiskIndicators(**overrides)


def test_classify_rejects_a_datetime_as_today():
    with pytest.raises(ValueError, match="today must be a date"):
        classify(facts(), DEFAULT, datetime(2026, 11, 22, 9, 30))


def test_classification_to_dict_is_json_ready():
    result = classify(
        facts(risk=RiskIndicators(credit_rating="poor"), satisfaction_scores=("satisfied",)),
        DEFAULT,
        TODAY,
    )
    data = json.loads(json.dumps(result.to_dict()))
    assert data["risk_level"] == "high"
    assert data["risk_reasons"] == ["credit_rating=poor"]
    assert data["size_tier"] == "medium"
    assert data["cooperation_tier"] == "medium"
    assert data["score"] == result.score
    assert data["components"]["satisfaction"] == 75.0
    assert isinstance(result, Classification)


# --------------------------------------------------------------------------- properties

money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def policies(draw) -> ClassificationPolicy:
    parts = draw(
        st.lists(st.integers(0, 100), min_size=3, max_size=3).filter(lambda p: sum(p) <= 100)
    )
    weights = [Decimal(p) / 100 for p in [*parts, 100 - sum(parts)]]
    large = draw(st.decimals(min_value=1, max_value=10**8, places=2))
    medium = draw(st.decimals(min_value=0, max_value=large, places=2))
    long_years = draw(st.integers(1, 30))
    grade_a = draw(st.integers(0, 100))
    return ClassificationPolicy(
        large_amount_threshold=large,
        medium_amount_threshold=medium,
        long_cooperation_years=long_years,
        medium_cooperation_years=draw(st.integers(0, long_years)),
        weight_purchase_amount=weights[0],
        weight_cooperation=weights[1],
        weight_sales_performance=weights[2],
        weight_satisfaction=weights[3],
        sales_growth_for_full_score=draw(st.decimals(min_value="0.01", max_value=10, places=2)),
        purchase_count_for_full_score=draw(st.integers(1, 100)),
        satisfaction_default_score=draw(st.integers(0, 100)),
        grade_a_min=grade_a,
        grade_b_min=draw(st.integers(0, grade_a)),
    )


risk_indicators = st.builds(
    RiskIndicators,
    overdue_payment_days=st.integers(0, 400),
    legal_dispute=st.booleans(),
    credit_rating=st.sampled_from(["good", "fair", "poor"]),
    complaints_12m=st.integers(0, 20),
    purchase_trend=st.none() | st.decimals(min_value=0, max_value=5, places=3),
)

customer_facts = st.builds(
    CustomerFacts,
    type=st.sampled_from(["dealer", "agent", "end_user"]),
    annual_purchase_amount=money,
    cooperation_start=days,
    purchases_last_12m=money,
    purchases_prev_12m=money,
    purchase_count_12m=st.integers(0, 500),
    satisfaction_scores=st.lists(st.sampled_from(SATISFACTION_LEVELS), max_size=8).map(tuple),
    risk=risk_indicators,
)


@given(customer_facts, policies(), days)
def test_score_is_always_within_0_and_100_with_one_decimal(customer, policy, today):
    result = classify(customer, policy, today)
    assert 0 <= result.score <= 100
    assert Decimal(repr(result.score)) == Decimal(repr(result.score)).quantize(Decimal("0.1"))
    assert all(0 <= value <= 100 for value in result.components.values())
    assert result.grade == grade_for_score(result.score, policy)


@given(customer_facts, policies(), days, money, money)
def test_a_higher_purchase_amount_never_lowers_score_or_size(customer, policy, today, a, b):
    low, high = sorted((a, b))
    lower = classify(dataclasses.replace(customer, annual_purchase_amount=low), policy, today)
    higher = classify(dataclasses.replace(customer, annual_purchase_amount=high), policy, today)
    assert higher.score >= lower.score
    assert SIZE_TIERS.index(higher.size_tier) >= SIZE_TIERS.index(lower.size_tier)


scores = st.decimals(min_value=0, max_value=100, places=1)


@given(policies(), scores, scores)
def test_grade_is_monotonic_in_score(policy, a, b):
    low, high = sorted((a, b))
    assert GRADES.index(grade_for_score(high, policy)) >= GRADES.index(grade_for_score(low, policy))


@given(policies())
def test_any_valid_policy_round_trips_through_json(policy):
    assert ClassificationPolicy.from_dict(json.loads(json.dumps(policy.to_dict()))) == policy


def _anniversary(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February in a common year: the day after 28 February
        return date(start.year + years, 3, 1)


@given(days, days)
def test_cooperation_years_are_the_anniversaries_passed(start, today):
    years = cooperation_years(start, today)
    if today < start:
        assert years == 0
    else:
        assert _anniversary(start, years) <= today < _anniversary(start, years + 1)
        assert cooperation_years(start, today + timedelta(days=1)) - years in (0, 1)


@given(risk_indicators, st.integers(0, 400), st.integers(0, 20))
def test_more_overdue_days_or_complaints_never_lower_the_risk(indicators, extra_days, extra):
    worse = dataclasses.replace(
        indicators,
        overdue_payment_days=indicators.overdue_payment_days + extra_days,
        complaints_12m=indicators.complaints_12m + extra,
    )
    before, _ = assess_risk(indicators, DEFAULT)
    after, _ = assess_risk(worse, DEFAULT)
    assert RISK_LEVELS.index(after) >= RISK_LEVELS.index(before)


@given(risk_indicators)
def test_measures_are_asked_for_exactly_when_the_risk_is_not_low(indicators):
    level, reasons = assess_risk(indicators, DEFAULT)
    assert (level == "low") == (reasons == [])
    assert bool(measures_for(level)) == (level != "low")

"""Unit tests of the re-grading rules (DOMAIN.md §6 "Re-grading"): the annual amount from
recorded purchases and when a customer is due for re-grading."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customer_service.domain import (
    ClassificationPolicy,
    PolicyError,
    annual_amount,
    regrade_cutoff,
    regrade_due,
)

DEFAULT = ClassificationPolicy()
NOW = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)


def test_without_purchases_the_typed_amount_stands():
    assert annual_amount(Decimal("1500000"), Decimal(0), False) == Decimal("1500000")


def test_with_purchases_their_last_12_months_are_the_amount():
    assert annual_amount(Decimal("1500000"), Decimal("200000.50"), True) == Decimal("200000.50")
    assert annual_amount(Decimal("1500000"), Decimal(0), True) == Decimal(0)


def test_annual_amount_converts_and_checks():
    assert annual_amount(1000, "12.5", True) == Decimal("12.5")
    with pytest.raises(ValueError, match="purchases_last_12m"):
        annual_amount(Decimal(1), Decimal(-1), True)
    with pytest.raises(ValueError, match="annual_purchase_amount"):
        annual_amount("lots", Decimal(0), False)
    with pytest.raises(ValueError, match="has_purchases"):
        annual_amount(Decimal(1), Decimal(1), 1)


def test_the_default_period_is_30_days():
    assert DEFAULT.regrade_every_days == 30
    assert DEFAULT.to_dict()["regrade_every_days"] == 30


def test_never_graded_is_due():
    assert regrade_due(None, NOW, DEFAULT)


@pytest.mark.parametrize(
    ("age", "due"),
    [
        (timedelta(0), False),
        (timedelta(days=29, hours=23, minutes=59), False),
        (timedelta(days=30), True),
        (timedelta(days=400), True),
        (-timedelta(days=1), False),  # graded "in the future" (a clock step back): not yet
    ],
)
def test_due_from_the_age_of_the_last_grading(age, due):
    assert regrade_due(NOW - age, NOW, DEFAULT) is due


def test_the_period_is_the_policys():
    weekly = ClassificationPolicy.from_dict({"regrade_every_days": 7})
    assert regrade_due(NOW - timedelta(days=7), NOW, weekly)
    assert not regrade_due(NOW - timedelta(days=6, hours=23), NOW, weekly)
    assert regrade_cutoff(NOW, weekly) == NOW - timedelta(days=7)


def test_instants_in_other_offsets_compare_as_instants():
    shanghai = NOW.astimezone(datetime.fromisoformat("2026-01-01T00:00:00+08:00").tzinfo)
    assert regrade_due(shanghai - timedelta(days=30), NOW, DEFAULT)


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="now"):
        regrade_due(None, NOW.replace(tzinfo=None), DEFAULT)
    with pytest.raises(ValueError, match="graded_at"):
        regrade_due(NOW.replace(tzinfo=None), NOW, DEFAULT)
    with pytest.raises(ValueError, match="now"):
        regrade_cutoff("2026-06-01", DEFAULT)


@pytest.mark.parametrize("days", [0, -1, 367, "30", 7.5, True, None])
def test_out_of_range_periods_are_refused(days):
    with pytest.raises(PolicyError):
        ClassificationPolicy.from_dict({"regrade_every_days": days})


@pytest.mark.parametrize("days", [1, 366])
def test_the_bounds_are_allowed(days):
    assert ClassificationPolicy.from_dict({"regrade_every_days": days}).regrade_every_days == days


@given(
    days=st.integers(min_value=1, max_value=366),
    age=st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)),
)
def test_due_exactly_when_the_last_grading_is_at_or_before_the_cutoff(days, age):
    policy = ClassificationPolicy.from_dict({"regrade_every_days": days})
    graded = NOW - age
    assert regrade_due(graded, NOW, policy) is (graded <= regrade_cutoff(NOW, policy))

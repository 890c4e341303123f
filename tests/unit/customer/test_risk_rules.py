"""The measures each risk level asks for (DOMAIN.md §1 and §6 "Risk"): pure rules."""

from __future__ import annotations

from customer_service.domain import HIGH_RISK_MEASURES, MEDIUM_RISK_MEASURES, measures_for


def test_medium_risk_asks_for_a_watch_plan():
    assert measures_for("medium") == ["watch_plan"]


def test_high_risk_asks_for_credit_line_payment_terms_and_guarantees():
    assert measures_for("high") == [
        "lower_credit_line",
        "shorten_payment_terms",
        "require_guarantees",
    ]


def test_low_risk_asks_for_nothing():
    assert measures_for("low") == []


def test_the_watch_plan_is_not_a_high_risk_measure_and_the_other_way_round():
    assert set(MEDIUM_RISK_MEASURES).isdisjoint(HIGH_RISK_MEASURES)


def test_the_measures_returned_are_a_fresh_list():
    for level in ("medium", "high"):
        measures_for(level).append("mutated")
        assert "mutated" not in measures_for(level)

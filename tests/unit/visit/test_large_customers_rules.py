"""Large customers are visited on site (DOMAIN.md §2/§6): ``on_site_size_tiers`` and the
method a visit defaults to."""

from __future__ import annotations

import pytest

from visit_service.domain import PolicyError, VisitPolicy, parse_size_tiers

DEFAULT = VisitPolicy()


def test_large_customers_default_to_the_key_account_method():
    assert DEFAULT.on_site_size_tiers == ("large",)
    assert DEFAULT.method_for("repair", "large") == "on_site"
    assert DEFAULT.method_for("repair", "medium") == "phone"
    assert DEFAULT.method_for("repair", None) == "phone"  # size not known
    assert DEFAULT.method_for("key_account", "small") == "on_site"
    assert DEFAULT.method_for("care") == "phone"


def test_the_tiers_and_the_method_are_settings():
    policy = VisitPolicy.from_dict(
        {"on_site_size_tiers": ["large", "medium"], "key_account_method": "phone"}
    )
    assert policy.on_site_size_tiers == ("medium", "large")
    assert policy.method_for("periodic", "medium") == "phone"
    none = VisitPolicy.from_dict({"on_site_size_tiers": []})
    assert none.method_for("periodic", "large") == "phone"
    assert none.to_dict()["on_site_size_tiers"] == []
    assert VisitPolicy.from_dict(policy.to_dict()) == policy


def test_size_tiers_parse_in_order():
    assert parse_size_tiers(["large", "small"]) == ("small", "large")
    assert parse_size_tiers(()) == ()


@pytest.mark.parametrize("value", ["large", ["huge"], ["large", "large"], [None], 3])
def test_bad_size_tiers_are_rejected(value):
    with pytest.raises(PolicyError) as caught:
        VisitPolicy.from_dict({"on_site_size_tiers": value})
    assert list(caught.value.errors) == ["on_site_size_tiers"]

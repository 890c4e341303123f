"""KpiPolicy (settings section ``kpis``): the ranking weights of the composite staff score."""

from __future__ import annotations

import pytest

from kpi_service.domain import SCORE_WEIGHTS, KpiPolicy
from revisit_common.policy import PolicyError
from revisit_common.settings_section import SectionError, check_section

DEFAULTS = {"completion": 0.4, "satisfaction": 0.4, "resolution": 0.2}


def test_defaults_are_domains_weights():
    policy = KpiPolicy()
    assert policy.to_dict() == {"ranking_weights": DEFAULTS}
    assert policy.score_weights() == SCORE_WEIGHTS
    assert KpiPolicy.from_dict(None) == policy
    assert KpiPolicy.from_dict(policy.to_dict()) == policy


def test_weights_of_the_tenant():
    policy = KpiPolicy.from_dict(
        {"ranking_weights": {"completion": 1, "satisfaction": 0, "resolution": 0.5}}
    )
    assert policy.to_dict() == {
        "ranking_weights": {"completion": 1.0, "satisfaction": 0.0, "resolution": 0.5}
    }
    assert policy.score_weights() == {
        "visit_completion_rate": 1.0,
        "satisfaction_rate": 0.0,
        "issue_resolution_rate": 0.5,
    }


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"completion": 0, "satisfaction": 0, "resolution": 0}, "must not all be 0"),
        ({"completion": 1.5, "satisfaction": 0.4, "resolution": 0.2}, "between 0 and 1"),
        ({"completion": -0.1, "satisfaction": 0.4, "resolution": 0.2}, "between 0 and 1"),
        ({"completion": float("nan"), "satisfaction": 0.4, "resolution": 0.2}, "between 0"),
        ({"completion": True, "satisfaction": 0.4, "resolution": 0.2}, "must be a number"),
        ({"completion": "0.4", "satisfaction": 0.4, "resolution": 0.2}, "must be a number"),
        ({"completion": 0.4}, "missing: satisfaction, resolution"),
        ({**DEFAULTS, "speed": 0.1}, "unknown weights speed"),
        ([0.4, 0.4, 0.2], "must be an object"),
    ],
)
def test_bad_weights(weights, message):
    with pytest.raises(PolicyError) as raised:
        KpiPolicy.from_dict({"ranking_weights": weights})
    assert list(raised.value.errors) == ["ranking_weights"]
    assert message in raised.value.errors["ranking_weights"][0]


def test_unknown_setting():
    with pytest.raises(PolicyError) as raised:
        KpiPolicy.from_dict({"score_weights": DEFAULTS})
    assert raised.value.errors == {"score_weights": ["unknown setting"]}


def test_section_check_sets_and_resets_the_weights():
    weights = {"completion": 0.5, "satisfaction": 0.5, "resolution": 0}
    result = check_section(KpiPolicy, {}, {"ranking_weights": weights})
    assert result.overrides == {"ranking_weights": {**weights, "resolution": 0.0}}
    assert result.effective["ranking_weights"]["resolution"] == 0.0
    reset = check_section(KpiPolicy, result.overrides, {"ranking_weights": None})
    assert reset.overrides == {}
    assert reset.effective == KpiPolicy().to_dict()
    with pytest.raises(SectionError) as raised:
        check_section(
            KpiPolicy, {}, {"ranking_weights": {**weights, "completion": 0, "satisfaction": 0}}
        )
    assert list(raised.value.errors) == ["ranking_weights"]

"""The settings document: validation, merge and defaults, with the real validators (each
section checked as its owner checks it, here in process)."""

from __future__ import annotations

import copy

import pytest

from complaint_service.domain import ComplaintPolicy
from customer_service.domain import ClassificationPolicy
from gateway_service import settings_document
from gateway_service.settings_document import SettingsError
from kpi_service.domain import KpiPolicy
from notify_service.notification_rules import NotificationPolicy
from revisit_common.calendar import WorkCalendar
from revisit_common.settings_section import check_section
from visit_service.domain import VisitPolicy

VALIDATORS = {
    "classification": ClassificationPolicy,
    "calendar": WorkCalendar,
    "visits": VisitPolicy,
    "complaints": ComplaintPolicy,
    "kpis": KpiPolicy,
    "notifications": NotificationPolicy,
}


def check(section, base, changes):
    return check_section(VALIDATORS[section], base, changes)


def apply_patch(overrides, patch):
    return settings_document.apply_patch(overrides, patch, check).overrides


def effective_settings(overrides):
    return settings_document.effective_settings(overrides, check)


def test_sections_and_their_owners():
    assert settings_document.SECTION_OWNERS == {
        "classification": "customer",
        "calendar": None,
        "visits": "visit",
        "complaints": "complaint",
        "kpis": "kpi",
        "notifications": "notify",
    }
    assert settings_document.SECTIONS == (
        "classification",
        "calendar",
        "visits",
        "complaints",
        "kpis",
        "notifications",
    )


def test_patch_gives_the_effective_sections_it_names():
    patched = settings_document.apply_patch(
        {"visits": {"repair_days": 7}}, {"classification": {"grade_a_min": 85}}, check
    )
    assert list(patched.effective) == ["classification"]
    assert patched.effective["classification"]["grade_a_min"] == 85
    assert patched.effective["classification"]["grade_b_min"] == 60
    assert patched.overrides == {
        "visits": {"repair_days": 7},
        "classification": {"grade_a_min": 85},
    }


def test_stored_effective_sections_are_not_asked_again():
    asked = []

    def counting(section, base, changes):
        asked.append(section)
        return check(section, base, changes)

    known = {"classification": {"grade_a_min": 85}}
    doc = settings_document.effective_settings({}, counting, known)
    assert doc["classification"] == {"grade_a_min": 85}
    assert asked == ["calendar", "visits", "complaints", "kpis", "notifications"]


def test_effective_defaults_are_the_validators_defaults():
    doc = effective_settings({})
    assert doc == {
        "classification": ClassificationPolicy().to_dict(),
        "calendar": WorkCalendar().to_dict(),
        "visits": VisitPolicy().to_dict(),
        "complaints": ComplaintPolicy().to_dict(),
        "kpis": KpiPolicy().to_dict(),
        "notifications": NotificationPolicy().to_dict(),
    }
    assert doc["classification"]["grade_a_min"] == 80
    assert doc["calendar"]["weekend"] == [5, 6]


def test_initial_overrides_carry_the_tenant_time_zone():
    doc = effective_settings(settings_document.initial_overrides("Europe/Berlin"))
    assert doc["calendar"]["timezone"] == "Europe/Berlin"
    assert settings_document.settings_timezone(doc) == "Europe/Berlin"
    assert doc["classification"] == ClassificationPolicy().to_dict()


def test_patch_merges_per_key_and_keeps_other_sections():
    current = {"calendar": {"timezone": "Asia/Shanghai", "holidays": ["2026-10-01"]}}
    new = apply_patch(current, {"classification": {"grade_a_min": 85}})
    assert new["classification"] == {"grade_a_min": 85}
    assert new["calendar"] == current["calendar"]
    new2 = apply_patch(new, {"classification": {"grade_b_min": 65}})
    assert new2["classification"] == {"grade_a_min": 85, "grade_b_min": 65}
    doc = effective_settings(new2)
    assert doc["classification"]["grade_a_min"] == 85
    assert doc["classification"]["grade_b_min"] == 65
    assert doc["classification"]["large_amount_threshold"] == "1000000"  # default kept
    assert doc["calendar"]["holidays"] == ["2026-10-01"]


def test_patch_does_not_mutate_its_inputs():
    current = {"classification": {"grade_a_min": 85}}
    patch = {"classification": {"grade_a_min": 90}}
    before = copy.deepcopy((current, patch))
    apply_patch(current, patch)
    assert (current, patch) == before


def test_values_are_stored_normalised():
    new = apply_patch(
        {},
        {
            "classification": {"large_amount_threshold": 2000000},
            "calendar": {
                "holidays": ["2026-10-02", "2026-10-01"],
                "work_periods": [["09:00", "17:30"]],
            },
        },
    )
    assert new["classification"]["large_amount_threshold"] == "2000000"  # money: a string
    assert new["calendar"]["holidays"] == ["2026-10-01", "2026-10-02"]
    assert new["calendar"]["work_periods"] == [["09:00", "17:30"]]


def test_null_returns_a_key_to_its_default():
    current = {"classification": {"grade_a_min": 85, "grade_b_min": 65}}
    new = apply_patch(current, {"classification": {"grade_a_min": None}})
    assert new == {"classification": {"grade_b_min": 65}}
    assert effective_settings(new)["classification"]["grade_a_min"] == 80


def test_null_section_returns_it_to_defaults():
    current = {"classification": {"grade_a_min": 85}, "calendar": {"timezone": "UTC"}}
    new = apply_patch(current, {"classification": None})
    assert new == {"calendar": {"timezone": "UTC"}}
    new = apply_patch(new, {"calendar": {"timezone": None}})
    assert new == {}


def test_unknown_section_is_an_error():
    with pytest.raises(SettingsError) as exc:
        apply_patch({}, {"no_such_section": {"cadence": 3}})
    assert list(exc.value.errors) == ["no_such_section"]


def test_unknown_keys_are_errors_per_field():
    with pytest.raises(SettingsError) as exc:
        apply_patch({}, {"classification": {"grade_z_min": 1}, "calendar": {"weekends": [6]}})
    assert set(exc.value.errors) == {"classification.grade_z_min", "calendar.weekends"}
    assert "unknown" in exc.value.errors["calendar.weekends"][0]


def test_bad_values_are_errors_per_field_and_all_are_collected():
    with pytest.raises(SettingsError) as exc:
        apply_patch(
            {},
            {
                "classification": {"grade_a_min": 150, "long_cooperation_years": "five"},
                "calendar": {"timezone": "Mars/Olympus", "holidays": ["2026-02-30"]},
            },
        )
    errors = exc.value.errors
    assert set(errors) == {
        "classification.grade_a_min",
        "classification.long_cooperation_years",
        "calendar.timezone",
        "calendar.holidays",
    }
    assert all(
        isinstance(m, list) and m and all(isinstance(x, str) for x in m) for m in errors.values()
    )


def test_relations_between_keys_are_checked_against_the_stored_values():
    # grade_b_min 85 alone is fine, but not above a stored grade_a_min of 82
    current = {"classification": {"grade_a_min": 82}}
    with pytest.raises(SettingsError) as exc:
        apply_patch(current, {"classification": {"grade_b_min": 85}})
    assert "classification.grade_b_min" in exc.value.errors
    # weights that do not sum to 1: a section-level error
    with pytest.raises(SettingsError) as exc:
        apply_patch({}, {"classification": {"weight_purchase_amount": 0.9}})
    assert list(exc.value.errors) == ["classification"]


def test_calendar_cross_key_error_is_reported_on_the_section():
    # 2026-10-10 is a Saturday: a valid make-up day alone and a valid holiday alone
    with pytest.raises(SettingsError) as exc:
        apply_patch(
            {}, {"calendar": {"holidays": ["2026-10-10"], "makeup_workdays": ["2026-10-10"]}}
        )
    assert list(exc.value.errors) == ["calendar"]
    assert "2026-10-10" in exc.value.errors["calendar"][0]


def test_a_section_must_be_an_object():
    with pytest.raises(SettingsError) as exc:
        apply_patch({}, {"calendar": ["weekend"]})
    assert list(exc.value.errors) == ["calendar"]
    with pytest.raises(SettingsError):
        apply_patch({}, ["calendar"])


def test_empty_patch_changes_nothing():
    current = {"calendar": {"timezone": "UTC"}}
    assert apply_patch(current, {}) == current
    assert apply_patch(current, {"classification": {}}) == current

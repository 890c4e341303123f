"""GET/PATCH /api/v1/settings, its validation and its TenantSettingsChanged event."""

from __future__ import annotations

import pytest

from complaint_service.domain import ComplaintPolicy
from customer_service.domain import ClassificationPolicy
from kpi_service.domain import KpiPolicy
from notify_service.notification_rules import NotificationPolicy
from revisit_common.calendar import WorkCalendar
from tests.support.gateway import auth
from visit_service.domain import VisitPolicy

PROBLEM = "application/problem+json"


def settings_events(gateway) -> list[dict]:
    return [e for e in gateway.outbox() if e["type"] == "TenantSettingsChanged"]


def test_get_settings_gives_the_effective_document(gateway, admin):
    resp = gateway.client.get("/api/v1/settings", headers=auth(admin))
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["version"] == 1
    assert body["timezone"] == "Asia/Shanghai"
    assert body["updated_at"]
    assert body["settings"] == {
        "classification": ClassificationPolicy().to_dict(),
        "calendar": WorkCalendar().to_dict(),
        "visits": VisitPolicy().to_dict(),
        "complaints": ComplaintPolicy().to_dict(),
        "kpis": KpiPolicy().to_dict(),
        "notifications": NotificationPolicy().to_dict(),
    }


@pytest.mark.parametrize(
    ("role", "status"), [("manager", 200), ("agent", 403), ("auditor", 403), ("viewer", 403)]
)
def test_who_may_read_settings(gateway, admin, role, status):
    key = gateway.create_key(admin, role)["key"]
    assert gateway.client.get("/api/v1/settings", headers=auth(key)).status_code == status


def test_department_may_not_read_settings(gateway, admin):
    key = gateway.create_key(admin, "department", "product")["key"]
    resp = gateway.client.get("/api/v1/settings", headers=auth(key))
    assert resp.status_code == 403
    assert resp.content_type == PROBLEM


def test_patch_settings(gateway, tenant, admin):
    resp = gateway.client.patch(
        "/api/v1/settings",
        json={
            "classification": {"grade_a_min": 85, "large_amount_threshold": 2000000},
            "calendar": {"holidays": ["2026-10-01", "2026-10-02"]},
        },
        headers=auth(admin, **{"X-Request-ID": "patch-1"}),
    )
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["version"] == 2
    doc = body["settings"]
    assert doc["classification"]["grade_a_min"] == 85
    assert doc["classification"]["large_amount_threshold"] == "2000000"
    assert doc["classification"]["grade_b_min"] == 60  # untouched default
    assert doc["calendar"]["holidays"] == ["2026-10-01", "2026-10-02"]
    assert doc["calendar"]["weekend"] == [5, 6]
    # what GET shows afterwards
    again = gateway.client.get("/api/v1/settings", headers=auth(admin)).get_json()
    assert again["version"] == 2
    assert again["settings"] == doc
    # a second, partial change keeps the first
    resp = gateway.client.patch(
        "/api/v1/settings", json={"classification": {"grade_b_min": 65}}, headers=auth(admin)
    )
    body = resp.get_json()
    assert body["version"] == 3
    assert body["settings"]["classification"]["grade_a_min"] == 85
    assert body["settings"]["classification"]["grade_b_min"] == 65


def test_patch_publishes_tenant_settings_changed(gateway, tenant, admin):
    resp = gateway.client.patch(
        "/api/v1/settings",
        json={"classification": {"grade_a_min": 90}},
        headers=auth(admin, **{"X-Request-ID": "corr-42"}),
    )
    assert resp.status_code == 200
    [event] = settings_events(gateway)
    assert event["routing_key"] == "tenant.settings_changed"
    assert event["source"] == "revisit/gateway"
    assert event["tenantid"] == tenant["id"]
    assert event["correlationid"] == "corr-42"
    assert event["data"]["tenant_id"] == tenant["id"]
    assert event["data"]["settings_version"] == 2
    assert event["data"]["timezone"] == "Asia/Shanghai"
    # the whole effective document, not just the change
    assert event["data"]["settings"] == resp.get_json()["settings"]
    assert event["data"]["settings"]["calendar"] == WorkCalendar().to_dict()


def test_invalid_patch_is_422_per_field_and_changes_nothing(gateway, admin):
    resp = gateway.client.patch(
        "/api/v1/settings",
        json={
            "classification": {"grade_a_min": 150, "no_such_key": 1},
            "calendar": {"weekend": [0, 1, 2, 3, 4, 5, 6]},
        },
        headers=auth(admin, **{"X-Request-ID": "bad-settings"}),
    )
    assert resp.status_code == 422
    assert resp.content_type == PROBLEM
    assert resp.headers["X-Request-ID"] == "bad-settings"
    errors = resp.get_json()["errors"]
    assert set(errors) == {
        "classification.grade_a_min",
        "classification.no_such_key",
        "calendar.weekend",
    }
    assert gateway.client.get("/api/v1/settings", headers=auth(admin)).get_json()["version"] == 1
    assert settings_events(gateway) == []


def test_unknown_section_is_422(gateway, admin):
    resp = gateway.client.patch(
        "/api/v1/settings", json={"marketing": {"budget": 1}}, headers=auth(admin)
    )
    assert resp.status_code == 422
    assert "marketing" in resp.get_json()["errors"]


@pytest.mark.parametrize(
    "body",
    [
        {"calendar": "weekends"},
        {"calendar": {"holidays": ["2026-10-01"] * 1001}},
        {"classification": {"k" * 101: 1}},
        {"calendar": {"timezone": "x" * 300}},
    ],
)
def test_section_shape_and_size_are_bounded(gateway, admin, body):
    resp = gateway.client.patch("/api/v1/settings", json=body, headers=auth(admin))
    assert resp.status_code == 422
    assert resp.content_type == PROBLEM
    assert resp.get_json()["errors"]


def test_null_resets_to_defaults(gateway, admin):
    gateway.client.patch(
        "/api/v1/settings",
        json={"classification": {"grade_a_min": 85, "grade_b_min": 65}},
        headers=auth(admin),
    )
    resp = gateway.client.patch(
        "/api/v1/settings", json={"classification": {"grade_a_min": None}}, headers=auth(admin)
    )
    doc = resp.get_json()["settings"]["classification"]
    assert (doc["grade_a_min"], doc["grade_b_min"]) == (80, 65)
    resp = gateway.client.patch(
        "/api/v1/settings", json={"classification": None}, headers=auth(admin)
    )
    assert resp.get_json()["settings"]["classification"] == ClassificationPolicy().to_dict()
    assert resp.get_json()["version"] == 4


def test_unchanged_document_keeps_its_version(gateway, admin):
    for body in ({}, {"classification": {"grade_a_min": 80}}, {"calendar": {}}):
        resp = gateway.client.patch("/api/v1/settings", json=body, headers=auth(admin))
        assert resp.status_code == 200
        assert resp.get_json()["version"] == 1
    assert settings_events(gateway) == []


def test_calendar_timezone_is_the_tenants(gateway, admin):
    resp = gateway.client.patch(
        "/api/v1/settings", json={"calendar": {"timezone": "Europe/Paris"}}, headers=auth(admin)
    )
    assert resp.get_json()["timezone"] == "Europe/Paris"
    current = gateway.client.get("/api/v1/tenants/current", headers=auth(admin)).get_json()
    assert current["timezone"] == "Europe/Paris"
    assert settings_events(gateway)[-1]["data"]["timezone"] == "Europe/Paris"


def test_tenant_timezone_seeds_the_calendar(gateway):
    body = gateway.create_tenant("Berlin", timezone="Europe/Berlin")
    resp = gateway.client.get("/api/v1/settings", headers=auth(body["admin_key"]))
    assert resp.get_json()["settings"]["calendar"]["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize("role", ["manager", "agent", "auditor", "viewer"])
def test_only_admins_patch_settings(gateway, admin, role):
    key = gateway.create_key(admin, role)["key"]
    resp = gateway.client.patch(
        "/api/v1/settings", json={"classification": {"grade_a_min": 85}}, headers=auth(key)
    )
    assert resp.status_code == 403
    assert resp.content_type == PROBLEM
    assert settings_events(gateway) == []


def test_settings_are_per_tenant(gateway, admin):
    other = gateway.create_tenant("Other")["admin_key"]
    gateway.client.patch(
        "/api/v1/settings", json={"classification": {"grade_a_min": 95}}, headers=auth(admin)
    )
    theirs = gateway.client.get("/api/v1/settings", headers=auth(other)).get_json()
    assert theirs["version"] == 1
    assert theirs["settings"]["classification"]["grade_a_min"] == 80


def test_put_on_settings_is_405(gateway, admin):
    resp = gateway.client.put("/api/v1/settings", json={}, headers=auth(admin))
    assert resp.status_code == 405
    assert resp.content_type == PROBLEM

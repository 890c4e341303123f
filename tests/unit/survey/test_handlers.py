"""Events the survey service consumes: the customer copy behind segments, and settings."""

from __future__ import annotations

import sqlalchemy as sa

from revisit_common import tenant_settings
from revisit_common.events import CustomerGraded, CustomerRegistered, TenantSettingsChanged
from revisit_common.messaging.envelope import wrap
from tests.support.surveys import invite


def registered(
    cid,
    *,
    grade="B",
    type="dealer",
    region="east",
    tenant="tenant-a",
    at="2026-11-01T08:00:00+00:00",
):
    event = CustomerRegistered(
        customer_id=cid,
        name=f"Customer {cid}",
        type=type,
        region=region,
        owner=None,
        grade=grade,
        size_tier="small",
        cooperation_tier="short",
        risk_level="low",
        registered_at=at,
    )
    return wrap(event, tenant_id=tenant, region="test")


def graded(cid, grade, *, region="east", tenant="tenant-a", at="2026-11-10T08:00:00+00:00"):
    event = CustomerGraded(
        customer_id=cid,
        region=region,
        owner=None,
        grade=grade,
        previous_grade=None,
        score=50.0,
        size_tier="small",
        cooperation_tier="short",
        graded_at=at,
    )
    return wrap(event, tenant_id=tenant, region="test")


def invite_segment(client, survey_id, segment):
    r = client.post(f"/api/v1/surveys/{survey_id}/invitations", {"segment": segment})
    assert r.status_code == 201, r.json
    return r.json


def test_segment_invitations_come_from_the_customer_copy(client, survey, runtime):
    for event in (
        registered("a1", grade="A", type="dealer", region="east"),
        registered("a2", grade="A", type="agent", region="west"),
        registered("b1", grade="B", type="dealer", region="east"),
        registered("x1", grade="A", type="dealer", region="east", tenant="tenant-b"),
    ):
        assert runtime.consumer.apply(event) == "applied"
    sid = survey["id"]
    out = invite_segment(client, sid, {"grade": "A"})
    assert sorted(i["customer_id"] for i in out["items"]) == ["a1", "a2"]
    assert all(i["token"] for i in out["items"]) and out["more"] is False
    # the ones already invited are not invited again
    out = invite_segment(client, sid, {"type": "dealer", "region": "east"})
    assert [i["customer_id"] for i in out["items"]] == ["b1"]
    assert invite_segment(client, sid, {"region": "north"})["items"] == []


def test_grade_change_moves_a_customer_between_segments(client, survey, runtime):
    runtime.consumer.apply(registered("c1", grade="C"))
    runtime.consumer.apply(graded("c1", "A", region="south"))
    out = invite_segment(client, survey["id"], {"grade": "A", "region": "south"})
    assert [i["customer_id"] for i in out["items"]] == ["c1"]


def test_out_of_order_events_keep_the_newest_grade(client, survey, runtime):
    runtime.consumer.apply(graded("c1", "A", at="2026-11-10T08:00:00+00:00"))
    runtime.consumer.apply(
        registered("c1", grade="C", type="agent", at="2026-11-01T08:00:00+00:00")
    )
    out = invite_segment(client, survey["id"], {"grade": "A", "type": "agent"})
    assert [i["customer_id"] for i in out["items"]] == ["c1"]


def test_redelivered_event_applies_once(runtime):
    event = registered("c1")
    assert runtime.consumer.apply(event) == "applied"
    assert runtime.consumer.apply(event) == "duplicate"


def test_large_segment_is_invited_in_batches(client, survey, runtime, monkeypatch):
    from survey_service import service

    monkeypatch.setattr(service, "MAX_INVITATIONS", 3)
    for i in range(7):
        runtime.consumer.apply(registered(f"c{i}", grade="A"))
    seen = []
    for expected_more in (True, True, False):
        out = invite_segment(client, survey["id"], {"grade": "A"})
        assert out["more"] is expected_more
        seen += [i["customer_id"] for i in out["items"]]
    assert sorted(seen) == [f"c{i}" for i in range(7)]
    assert invite_segment(client, survey["id"], {"grade": "A"})["items"] == []


def test_segment_and_visit_invitations_of_one_customer_coexist(client, survey, runtime):
    runtime.consumer.apply(registered("c1", grade="A"))
    invite(client, survey["id"], ["c1"], visit_ids={"c1": "v1"})
    out = invite_segment(client, survey["id"], {"grade": "A"})
    assert [i["customer_id"] for i in out["items"]] == ["c1"]


def test_settings_copy_is_kept(runtime):
    event = wrap(
        TenantSettingsChanged(
            tenant_id="tenant-a", timezone="Europe/Berlin", settings={"x": {}}, settings_version=3
        ),
        tenant_id="tenant-a",
        region="test",
    )
    assert runtime.consumer.apply(event) == "applied"
    with runtime.db.read() as session:
        copy = tenant_settings.load(session, "tenant-a")
        count = session.scalar(
            sa.select(sa.func.count()).select_from(tenant_settings.settings_table)
        )
    assert (copy.version, copy.timezone, count) == (3, "Europe/Berlin", 1)

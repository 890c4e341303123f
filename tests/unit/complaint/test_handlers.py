"""Events the complaint service consumes: visit answers, settings, customers."""

from __future__ import annotations

import uuid

from revisit_common.events import CustomerRegistered, VisitCompleted
from revisit_common.messaging.envelope import wrap
from tests.support.client import TENANT
from tests.support.complaints import PATHS, ComplaintClient, drive
from tests.support.events import envelope, settings_changed
from tests.support.outbox import envelopes

# What the visit service says of a post-complaint visit, but for the complaint and answer.
VISIT = {"customer_id": "cust-1", "reason": "post_complaint", "method": "phone"}
VISIT |= {"assignee": "li.wei", "region": "east", "due_date": "2026-11-25", "on_time": True}
VISIT |= {"completed_at": "2026-11-24T10:00:00+00:00", "issue_ids": []}
VISIT |= {"recommend_score": None, "repurchase_intent": None}

# What the customer service says of a registered customer, but for its id and region.
CUSTOMER = {"name": "Acme", "type": "dealer", "owner": None, "grade": "A"}
CUSTOMER |= {"size_tier": "large", "cooperation_tier": "long", "risk_level": "low"}
CUSTOMER |= {"registered_at": "2026-11-20T10:00:00+00:00"}


def visit_completed(complaint_id, satisfaction, tenant=TENANT, visit_id="visit-1"):
    answer = {"complaint_id": complaint_id, "satisfaction": satisfaction, "visit_id": visit_id}
    event = VisitCompleted(**VISIT, **answer)
    return wrap(event, tenant_id=tenant, region="test", correlation_id="visit-req")


def customer_registered(customer_id, region, tenant=TENANT):
    event = CustomerRegistered(**CUSTOMER, customer_id=customer_id, region=region)
    return wrap(event, tenant_id=tenant, region="test")


def resolved_complaint(client) -> str:
    cid = client.create()["id"]
    drive(client, cid, PATHS["resolved"])
    return cid


def test_satisfied_follow_up_closes(client, runtime):
    cid = resolved_complaint(client)
    assert runtime.consumer.apply(visit_completed(cid, "very_satisfied")) == "applied"
    body = client.get(f"/api/v1/complaints/{cid}").json
    assert body["status"] == "closed"
    assert body["satisfied"] is True
    entry = body["ledger"][-1]
    assert (entry["action"], entry["by"]) == ("close", "visit:visit-1")
    assert entry["note"] == "post-complaint visit: customer very_satisfied"
    [closed] = envelopes(runtime, "ComplaintClosed")
    assert closed.data["satisfied"] is True
    assert closed.data["visit_id"] == "visit-1"
    assert closed.correlationid == "visit-req"


def test_dissatisfied_follow_up_reopens_and_handling_starts_again(client, runtime):
    cid = resolved_complaint(client)
    assert runtime.consumer.apply(visit_completed(cid, "dissatisfied")) == "applied"
    body = client.get(f"/api/v1/complaints/{cid}").json
    assert body["status"] == "reopened"
    assert body["round"] == 2
    assert body["satisfied"] is False
    [reopened] = envelopes(runtime, "ComplaintReopened")
    assert reopened.data["why"] == "post-complaint visit: customer dissatisfied"
    assert reopened.data["visit_id"] == "visit-1"
    drive(client, cid, ["investigate", "propose", "implement", "resolve"])
    assert len(envelopes(runtime, "IssueResolved")) == 2  # a new post-complaint visit
    assert runtime.consumer.apply(visit_completed(cid, "satisfied", visit_id="v2")) == "applied"
    assert client.get(f"/api/v1/complaints/{cid}").json["status"] == "closed"


def test_neutral_answer_reopens(client, runtime):
    cid = resolved_complaint(client)
    runtime.consumer.apply(visit_completed(cid, "neutral"))
    assert client.get(f"/api/v1/complaints/{cid}").json["status"] == "reopened"


def test_follow_up_on_a_complaint_not_resolved_is_ignored(client, runtime):
    cid = client.create()["id"]
    before = len(envelopes(runtime))
    assert runtime.consumer.apply(visit_completed(cid, "dissatisfied")) == "applied"
    assert client.get(f"/api/v1/complaints/{cid}").json["status"] == "received"
    closed = resolved_complaint(client)
    event = visit_completed(closed, "satisfied")
    runtime.consumer.apply(event)
    runtime.consumer.apply(visit_completed(closed, "dissatisfied", visit_id="late"))
    assert client.get(f"/api/v1/complaints/{closed}").json["status"] == "closed"
    assert runtime.consumer.apply(event) == "duplicate"
    assert len(envelopes(runtime, "ComplaintClosed")) == 1
    assert len(envelopes(runtime, "ComplaintReopened")) == 0
    assert len(envelopes(runtime)) > before


def test_visits_without_complaint_or_answer_or_of_other_tenants_change_nothing(client, runtime):
    cid = resolved_complaint(client)
    assert runtime.consumer.apply(visit_completed(None, "dissatisfied")) == "applied"
    assert runtime.consumer.apply(visit_completed(cid, None)) == "applied"
    assert runtime.consumer.apply(visit_completed(cid, "satisfied", tenant="tenant-b")) == (
        "applied"
    )
    assert runtime.consumer.apply(visit_completed(str(uuid.uuid4()), "satisfied")) == "applied"
    assert client.get(f"/api/v1/complaints/{cid}").json["status"] == "resolved"


def test_settings_change_the_time_limits(client, runtime):
    before = client.create()["deadlines"]["resolve_by"]
    settings = {"complaints": {"general_resolve_working_days": 1}}
    assert runtime.consumer.apply(settings_changed(1, settings)) == "applied"
    after = client.create()["deadlines"]["resolve_by"]
    assert after < before
    assert runtime.consumer.apply(settings_changed(1, {})) == "applied"  # same version: kept
    assert client.create()["deadlines"]["resolve_by"] == after
    other = ComplaintClient(client.http.application, "tenant-b").create()["deadlines"]["resolve_by"]
    assert other == before  # other tenants keep the defaults


def test_customer_copy_gives_the_region(client, runtime, customers):
    customers.add("cust-9", "east", tenant=TENANT)
    early = client.create(customer_id="cust-9")["id"]  # read from the customer service
    assert client.get(f"/api/v1/complaints/{early}").json["region"] == "east"
    assert runtime.consumer.apply(customer_registered("cust-9", "north")) == "applied"
    assert client.create(customer_id="cust-9")["region"] == "north"  # the event moved it
    runtime.consumer.apply(customer_registered("cust-9", "west", tenant="tenant-b"))
    assert client.create(customer_id="cust-9")["region"] == "north"
    assert customers.calls == [(TENANT, "cust-9")]  # asked once, then the copy answers


def test_unknown_event_types_are_ignored(runtime):
    assert runtime.consumer.apply(envelope("SomethingElse", {})) == "ignored"

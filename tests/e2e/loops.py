"""The loops the issues ask to see working end to end, run against any system.

Each takes an :class:`Api` for a fresh tenant and the time events may take to propagate
(2 s standalone, per CONTRACT.md; more over real servers and processes).
"""

from __future__ import annotations

import uuid

from urllib3 import encode_multipart_formdata

from tests.support.client import Api
from tests.support.complaints import COMPLAINT
from tests.support.polling import wait_until
from tests.support.system import CUSTOMER

ALL_TIME = "from=2026-01-01&to=2028-12-31"  # the longest period /kpis takes


def counts(api: Api, window: str = ALL_TIME) -> dict:
    r = api.get(f"/kpis?{window}")
    assert r.status_code == 200, r.json
    return r.json["counts"]


def one_more(counted: dict, *names: str) -> dict:
    """The counts ``names`` one higher than in ``counted``."""
    return {name: counted[name] + 1 for name in names}


def wait_for_counts(api: Api, expected: dict, timeout: float, window: str = ALL_TIME) -> dict:
    """Wait until every named count has the expected value."""

    seen: list[dict] = []

    def check():
        seen.append(counts(api, window))
        return all(seen[-1][k] == v for k, v in expected.items()) and seen[-1]

    try:
        return wait_until(check, timeout=timeout)
    except AssertionError:
        got = {k: seen[-1].get(k) for k in expected} if seen else None
        raise AssertionError(f"counts {got} never reached {expected}") from None


def new_customer(api: Api, **fields) -> str:
    r = api.post("/customers", {**CUSTOMER, "owner": "li.wei", **fields})
    assert r.status_code == 201, r.json
    return r.json["id"]


def planned_visit(api: Api, customer_id: str, reason: str, timeout: float) -> dict:
    def find():
        items = api.get(f"/visits?customer_id={customer_id}&reason={reason}&status=planned")
        return items.json["items"][0] if items.json["items"] else None

    return wait_until(find, timeout=timeout)


def follow_up_loop(api: Api, kpi_timeout: float) -> None:
    """First purchase → a new_customer visit; completing it with a rating and an issue moves
    the satisfaction and issue figures; resolving the issue and auditing the record move
    theirs."""
    cid = new_customer(api)
    r = api.post(
        f"/customers/{cid}/purchases",
        {"amount": 2000, "product": "Pump X", "purchased_at": "2026-11-20T09:30:00+08:00"},
    )
    assert r.status_code == 201
    visit = planned_visit(api, cid, "new_customer", kpi_timeout)
    assert visit["assignee"] == "li.wei"  # the customer's owner
    assert visit["due_date"] == "2026-12-21"  # 30 days on is a Sunday: next working day
    # registering graded the customer too: its periodic visit is due as well
    planned = wait_until(
        lambda: len(api.get("/visits?limit=500").json["items"]) >= 2, timeout=kpi_timeout
    )
    listed = len(api.get("/visits?limit=500").json["items"])
    assert planned and listed == 2
    before = wait_for_counts(api, {"visits_due": listed, "purchases": 1}, kpi_timeout)

    r = api.post(
        f"/visits/{visit['id']}/complete",
        {
            "satisfaction": "satisfied",
            "recommend_score": 9,
            "repurchase_intent": True,
            "issues": [
                {
                    "category": "product_quality",
                    "description": "seal leaks",
                    "department": "product",
                }
            ],
        },
    )
    assert r.status_code == 200, r.json
    assert r.json["status"] == "completed"
    issue_id = r.json["issues"][0]["id"]
    counted = ("visits_completed", "visits_satisfied", "issues_raised")
    after = wait_for_counts(api, one_more(before, *counted), kpi_timeout)
    kpis = api.get(f"/kpis?{ALL_TIME}").json
    assert kpis["satisfaction_rate"] == 1.0
    assert kpis["nps"] == 100
    assert kpis["issue_resolution_rate"] == 0.0

    resolved = api.post(f"/issues/{issue_id}/resolve", {"resolution": "seal replaced"})
    assert resolved.status_code == 200
    assert api.post(f"/issues/{issue_id}/resolve", {"resolution": "again"}).status_code == 409
    assert api.post(f"/visits/{visit['id']}/audit", {"accurate": True}).status_code == 200
    counted = ("issues_resolved", "audits", "audits_accurate")
    wait_for_counts(api, one_more(after, *counted), kpi_timeout)
    kpis = api.get(f"/kpis?{ALL_TIME}").json
    assert kpis["issue_resolution_rate"] == 1.0
    assert kpis["record_accuracy_rate"] == 1.0


def _resolve(api: Api, complaint_id: str, first: str) -> None:
    steps = [first, "propose", "implement"] if first else ["propose", "implement"]
    for action in steps:
        r = api.post(f"/complaints/{complaint_id}/transitions", {"action": action})
        assert r.status_code == 200, (action, r.json)
    r = api.post(
        f"/complaints/{complaint_id}/transitions",
        {"action": "resolve", "resolution": "replaced the pump", "note": "done"},
    )
    assert r.status_code == 200, r.json
    assert r.json["status"] == "resolved"


def complaint_loop(api: Api, timeout: float) -> None:
    """A complaint resolved → a post_complaint visit; a dissatisfied answer reopens the
    complaint, a satisfied one after the second resolution closes it."""
    cid = new_customer(api)
    r = api.post(
        "/complaints",
        {
            "customer_id": cid,
            "channel": "phone",
            "severity": "general",
            "category": "product_quality",
            "department": "product",
            "description": "The pump stopped after two days.",
        },
    )
    assert r.status_code == 201, r.json
    complaint = r.json
    assert complaint["number"].startswith("CMP-")
    assert complaint["deadlines"]["resolve_by"]
    assert (
        api.post(
            f"/complaints/{complaint['id']}/transitions", {"action": "acknowledge"}
        ).status_code
        == 200
    )
    _resolve(api, complaint["id"], "investigate")

    visit = planned_visit(api, cid, "post_complaint", timeout)
    r = api.post(f"/visits/{visit['id']}/complete", {"satisfaction": "dissatisfied"})
    assert r.status_code == 200, r.json
    wait_until(
        lambda: api.get(f"/complaints/{complaint['id']}").json["status"] == "reopened",
        timeout=timeout,
    )

    _resolve(api, complaint["id"], "investigate")
    second = wait_until(
        lambda: (
            (v := planned_visit(api, cid, "post_complaint", timeout))["id"] != visit["id"] and v
        ),
        timeout=timeout,
    )
    r = api.post(f"/visits/{second['id']}/complete", {"satisfaction": "very_satisfied"})
    assert r.status_code == 200, r.json
    closed = wait_until(
        lambda: (c := api.get(f"/complaints/{complaint['id']}").json)["status"] == "closed" and c,
        timeout=timeout,
    )
    assert [e["action"] for e in closed["ledger"]].count("resolve") == 2
    wait_for_counts(
        api,
        {"complaints": 1, "complaint_follow_ups": 2, "complaint_follow_ups_satisfied": 1},
        timeout=timeout,
    )


def survey_loop(api: Api, timeout: float) -> None:
    """An online_survey visit is completed by its customer's answer to the invitation."""
    cid = new_customer(api)
    r = api.post(
        "/visits",
        {"customer_id": cid, "reason": "post_event", "method": "online_survey"},
    )
    if r.status_code == 404:  # the visit service learns of the customer from its event
        r = wait_until(
            lambda: (
                (
                    x := api.post(
                        "/visits",
                        {"customer_id": cid, "reason": "post_event", "method": "online_survey"},
                    )
                ).status_code
                == 201
                and x
            ),
            timeout=timeout,
        )
    assert r.status_code == 201, r.json
    visit_id = r.json["id"]
    survey = api.post(
        "/surveys",
        {
            "title": "After the trade fair",
            "questions": [
                {"id": "overall", "kind": "satisfaction", "text": "How satisfied are you?"},
                {"id": "nps", "kind": "nps", "text": "Would you recommend us?"},
                {"id": "service", "kind": "rating", "text": "Our service"},
            ],
        },
    )
    assert survey.status_code == 201, survey.json
    sid = survey.json["id"]
    r = api.post(
        f"/surveys/{sid}/invitations", {"customer_ids": [cid], "visit_ids": {cid: visit_id}}
    )
    assert r.status_code == 201, r.json
    token = r.json["items"][0]["token"]
    assert len(token) >= 22  # at least 128 bits, URL-safe

    anonymous = Api(api.http)
    answers = {"answers": {"overall": "very_satisfied", "nps": 10, "service": 5}}
    assert anonymous.post(f"/survey-responses/{token}", answers).status_code == 201
    assert anonymous.post(f"/survey-responses/{token}", answers).status_code == 409
    assert anonymous.post("/survey-responses/not-a-token", answers).status_code == 404

    done = wait_until(
        lambda: (v := api.get(f"/visits/{visit_id}").json)["status"] == "completed" and v,
        timeout=timeout,
    )
    assert done["satisfaction"] == "very_satisfied"
    assert done["recommend_score"] == 10
    results = api.get(f"/surveys/{sid}/results").json
    assert results["responses"] == 1
    assert results["nps"] == 100
    assert results["average_rating"] == 5


def policy_inputs_loop(api: Api, timeout: float) -> None:
    """Issue #13: a completed project plans a post_project visit, a marketing event one
    post_event visit per attendee (5 working days on), a purchase's quantity reaches the KPI
    store's units sold; a major complaint joins the supervisors' watch list."""
    first, second = new_customer(api), new_customer(api, name="Second Co")
    r = api.post(
        f"/customers/{first}/projects",
        {"name": "Line 3 retrofit", "completed_at": "2026-11-20T10:00:00+08:00"},
    )
    assert r.status_code == 201, r.json
    visit = planned_visit(api, first, "post_project", timeout)
    assert visit["due_date"] == "2026-11-27"  # Friday + 5 working days

    held = {"name": "Open day", "held_on": "2026-11-25", "attendees": [first, second]}
    assert (
        api.post("/marketing-events", {**held, "attendees": [first, "nobody"]}).status_code == 404
    )
    r = api.post("/marketing-events", held)
    assert r.status_code == 201, r.json
    for customer_id in (first, second):
        visit = planned_visit(api, customer_id, "post_event", timeout)
        assert visit["due_date"] == "2026-12-02"  # Wednesday + 5 working days

    r = api.post(
        f"/customers/{second}/purchases",
        {
            "amount": 300,
            "product": "Seal kit",
            "quantity": 3,
            "purchased_at": "2026-11-26T10:00:00+08:00",
        },
    )
    assert r.status_code == 201, r.json
    assert r.json["quantity"] == 3
    wait_for_counts(api, {"units_sold": 3, "purchases": 1}, timeout)

    r = api.post("/complaints", {**COMPLAINT, "customer_id": first, "severity": "major"})
    assert r.status_code == 201, r.json
    watched = api.get("/complaints/watch").json["items"]
    assert [(w["id"], w["reason"]) for w in watched] == [(r.json["id"], "major")]


CUSTOMERS_CSV = (
    "外部编号,客户名称,类型,区域,年采购额,合作开始日期\n"
    "ERP-1,华东贸易有限公司,经销商,east,1500000,2019-03-01\n"
    "ERP-2,北方机械,agent,north,20000,2024-01-01\n"
)


def day_at_work_loop(api: Api, mailbox, timeout: float) -> None:
    """Issue #14: people and a key acting as one, customers imported from a spreadsheet, a
    major complaint assigned to the person and emailed to the supervisor (from the event,
    by the notify worker, to a real SMTP server), the person's lists, an export."""
    boss, rep = f"zhao.{uuid.uuid4().hex[:6]}", f"wang.{uuid.uuid4().hex[:6]}"
    email = f"{boss}@acme.example"
    assert api.post("/staff", {"id": boss, "name": "赵磊", "email": email}).status_code == 201
    assert api.post("/staff", {"id": rep, "name": "王芳", "manager": boss}).status_code == 201
    r = api.post("/api-keys", {"name": "rep", "role": "agent", "staff": rep})
    assert (r.status_code, r.json["staff"]) == (201, rep)
    mine = api.as_key(r.json["key"])
    r = api.patch("/settings", {"notifications": {"supervisors": [boss], "locale": "en"}})
    assert r.status_code == 200, r.json
    body, content_type = encode_multipart_formdata(
        {"file": ("customers.csv", CUSTOMERS_CSV.encode("utf-8-sig"), "text/csv")}
    )
    r = api.post("/customers/import", data=body, content_type=content_type)
    assert (r.status_code, r.json) == (200, {"created": 2, "updated": 0, "errors": []})
    names = {c["name"]: c["id"] for c in api.get("/customers?limit=200").json["items"]}
    customer = names["华东贸易有限公司"]
    complaint = {**COMPLAINT, "customer_id": customer, "severity": "major", "assignee": rep}
    r = api.post("/complaints", complaint)
    assert r.status_code == 201, r.json
    number = r.json["number"]
    assigned = mine.get("/complaints?assignee=me").json["items"]
    assert [c["id"] for c in assigned] == [r.json["id"]]
    ledger = mine.post(f"/complaints/{r.json['id']}/transitions", {"action": "acknowledge"})
    assert (ledger.status_code, ledger.json["ledger"][-1]["by"]) == (200, rep)
    agenda = mine.get("/me/agenda")
    assert agenda.status_code == 200, agenda.json
    assert agenda.json["staff"] == rep
    assert {"visits_due_today", "visits_overdue", "complaints_due_soon", "issues_open"} <= set(
        agenda.json
    )
    [message] = wait_until(lambda: mailbox.to(email), timeout=timeout, interval=0.2)
    assert number in message["Subject"]
    sent = wait_until(
        lambda: api.get("/notifications?status=sent").json["items"], timeout=timeout, interval=0.2
    )
    assert [n["recipient"] for n in sent] == [email]
    export = api.get("/customers/export?format=csv")
    assert export.status_code == 200
    text = export.get_data().decode("utf-8-sig")
    assert "华东贸易有限公司" in text and "北方机械" in text

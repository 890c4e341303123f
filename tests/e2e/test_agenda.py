"""GET /me/agenda through the whole system in this process (gateway + services, SQLite), on a
pinned clock: the calling person's visits due today and overdue, complaints due soon, open
issues; nobody else's; 422 for a key that acts as nobody."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from revisit_runner.standalone import build, prepare_settings
from tests.support.client import ADMIN, Api
from tests.support.clock import FakeClock
from tests.support.settings import make_settings
from tests.support.system import CUSTOMER

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def clock():
    return FakeClock(sh(2, 20, 10))  # a Friday


@pytest.fixture
def system(tmp_path, unique_prefix, clock):
    settings = make_settings(
        data_dir=tmp_path,
        admin_token=ADMIN,
        queue_prefix=unique_prefix,
        environment={"REVISIT_RATE_LIMIT": "off", "REVISIT_RATE_LIMIT_ANONYMOUS": "off"},
    )
    system = build(prepare_settings(settings), clock)  # no workers: every read is synchronous
    yield system
    system.close()


def created(response) -> dict:
    assert response.status_code == 201, response.json
    return response.json


def person_key(admin: Api, staff: str, role: str = "agent", department: str | None = None):
    body = {"name": staff, "role": role, "staff": staff}
    if department:
        body["department"] = department
    return admin.as_key(created(admin.post("/api-keys", body))["key"])


def test_my_agenda(system, clock):
    admin = Api(system).new_tenant()  # Asia/Shanghai
    for staff in ("wang.fang", "li.ming"):
        created(admin.post("/staff", {"id": staff, "name": staff.title()}))
    wang = person_key(admin, "wang.fang")
    cid = created(admin.post("/customers", CUSTOMER))["id"]

    def visit(assignee: str, due: str, trigger: str) -> str:
        body = {
            "customer_id": cid,
            "reason": "key_account",
            "method": "phone",
            "due_date": due,
            "assignee": assignee,
            "trigger": trigger,
        }
        return created(admin.post("/visits", body))["id"]

    today = visit("wang.fang", "2026-03-02", "t1")
    late = visit("wang.fang", "2026-02-26", "t2")
    visit("li.ming", "2026-03-02", "t3")  # someone else's
    visit("wang.fang", "2026-03-03", "t4")  # tomorrow: neither
    done = visit("wang.fang", "2026-02-24", "t5")
    issue = {"category": "technical", "description": "seal leaks", "department": "quality"}
    completed = admin.post(
        f"/visits/{done}/complete", {"satisfaction": "neutral", "issues": [issue]}
    )
    assert completed.status_code == 200, completed.json
    issue_id = completed.json["issues"][0]["id"]

    def complaint(severity: str, assignee: str) -> str:
        body = {
            "customer_id": cid,
            "channel": "phone",
            "severity": severity,
            "category": "delivery",
            "department": "logistics",
            "description": "Late.",
            "assignee": assignee,
        }
        return created(admin.post("/complaints", body))["id"]

    general = complaint("general", "wang.fang")  # resolve by 27 Feb: missed by 2 March
    clock.at = sh(3, 2, 9)  # Monday 09:00
    major = complaint("major", "wang.fang")  # first response by 13:00 today
    complaint("major", "li.ming")
    later = complaint("general", "wang.fang")  # resolve within 5 working days: not soon

    resp = wang.get("/me/agenda")
    assert resp.status_code == 200, resp.json
    agenda = resp.json
    assert agenda["staff"] == "wang.fang" and agenda["date"] == "2026-03-02"
    assert [v["id"] for v in agenda["visits_due_today"]] == [today]
    assert [v["id"] for v in agenda["visits_overdue"]] == [late]
    assert [c["id"] for c in agenda["complaints_due_soon"]] == [general, major]
    assert later not in [c["id"] for c in agenda["complaints_due_soon"]]
    assert [i["id"] for i in agenda["issues_open"]] == [issue_id]

    # late in the day in Shanghai is still the same day (the tenant's zone, not UTC's)
    clock.at = sh(3, 2, 23)
    assert wang.get("/me/agenda").json["date"] == "2026-03-02"

    # the issue resolved: no longer open
    assert admin.post(f"/issues/{issue_id}/resolve", {"resolution": "fixed"}).status_code == 200
    assert wang.get("/me/agenda").json["issues_open"] == []

    # someone else's agenda holds none of it
    li = person_key(admin, "li.ming", role="viewer").get("/me/agenda").json
    assert li["visits_due_today"] != [] and li["visits_overdue"] == []
    assert [v["id"] for v in li["visits_due_today"]] != [today]

    # a department key sees its department's parts only (no visits: its role reads none)
    created(admin.post("/staff", {"id": "zhao.lei", "name": "Zhao"}))
    dept = person_key(admin, "zhao.lei", role="department", department="quality")
    mine = dept.get("/me/agenda")
    assert mine.status_code == 200, mine.json
    assert mine.json["visits_due_today"] == [] and mine.json["visits_overdue"] == []

    # a key of nobody
    nobody = admin.get("/me/agenda")
    assert nobody.status_code == 422
    assert nobody.content_type == "application/problem+json"

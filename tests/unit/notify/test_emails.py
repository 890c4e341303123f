"""Email notifications end to end inside the notify service: events applied by its
consumer, the digest and sender jobs run at instants the test pins, a real SMTP server
(aiosmtpd) receiving. On SQLite, and the email path once on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notify_service import jobs
from notify_service.bootstrap import SPEC
from revisit_common.events import (
    ComplaintEscalated,
    ComplaintReportedUpward,
    CustomerRegistered,
    CustomerRiskChanged,
    StaffChanged,
    TenantSettingsChanged,
    VisitCancelled,
    VisitScheduled,
)
from revisit_common.messaging.envelope import wrap
from tests.support.client import TENANT, Client
from tests.support.clock import FakeClock
from tests.support.events import settings_changed
from tests.support.service import service_runtime
from tests.support.smtp import SmtpServer, running_smtp

PROBLEM = "application/problem+json"
# 18:00 in Shanghai (the tenant's zone in settings_changed): the default digest hour.
AT_DIGEST_HOUR = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
TOMORROW = "2026-03-06"


@pytest.fixture
def clock():
    return FakeClock(AT_DIGEST_HOUR)


def start(tmp_path, clock, smtp_url, **settings):
    environment = {
        "REVISIT_SMTP_URL": smtp_url,
        "REVISIT_SMTP_BACKOFF": "10",
        "REVISIT_SMTP_MAX_ATTEMPTS": "3",
    }
    return service_runtime(SPEC, tmp_path, clock=clock, environment=environment, **settings)


@pytest.fixture
def smtp_server():
    with running_smtp() as server:
        yield server


@pytest.fixture
def runtime(tmp_path, clock, smtp_server):
    with start(tmp_path, clock, smtp_server.url) as rt:
        yield rt


@pytest.fixture
def admin(runtime):
    return Client(runtime.create_app())


def apply(runtime, event, tenant=TENANT):
    envelope = wrap(event, tenant_id=tenant, region="test")
    assert runtime.consumer.apply(envelope) == "applied"
    return envelope


def notifications_settings(runtime, version=1, **section):
    assert runtime.consumer.apply(settings_changed(version, {"notifications": section})) in (
        "applied",
    )


STAFF = {
    "staff_id": "li.wei",
    "name": "Li Wei",
    "email": "x@example.com",
    "phone": None,
    "region": None,
    "department": None,
    "manager": None,
    "active": True,
    "changed_at": "2026-03-01T08:00:00+08:00",
}


def person(runtime, staff_id, email, name=None, active=True, at="2026-03-01T08:00:00+08:00"):
    changed = {"staff_id": staff_id, "name": name or staff_id, "email": email, "active": active}
    apply(runtime, StaffChanged(**{**STAFF, **changed, "changed_at": at}))


def customer(runtime, customer_id, name):
    apply(
        runtime,
        CustomerRegistered(
            customer_id=customer_id,
            name=name,
            type="dealer",
            region="east",
            owner=None,
            grade="A",
            size_tier="large",
            cooperation_tier="long",
            risk_level="low",
            registered_at="2026-03-01T08:00:00+08:00",
        ),
    )


def scheduled(visit_id, assignee, due, customer_id="c-1", reason="periodic", at=None):
    return VisitScheduled(
        visit_id=visit_id,
        customer_id=customer_id,
        reason=reason,
        method="phone",
        assignee=assignee,
        region="east",
        due_date=due,
        trigger="periodic",
        scheduled_at=at or "2026-03-01T09:00:00+08:00",
    )


def visit(runtime, visit_id, assignee, due, customer_id="c-1", reason="periodic", at=None):
    apply(runtime, scheduled(visit_id, assignee, due, customer_id, reason, at))


def reported_upward(supervisors=()):
    return ComplaintReportedUpward(
        complaint_id="k-1",
        number="C-2026-0001",
        customer_id="c-1",
        severity="major",
        category="product_quality",
        department="quality",
        departments=["quality", "sales"],
        region="east",
        supervisors=list(supervisors),
        reason="major",
        reported_at="2026-03-05T09:00:00+08:00",
    )


def listed(client, **query):
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    r = client.get(f"/api/v1/notifications?{qs}")
    assert r.status_code == 200, r.json
    return r.json["items"]


# --------------------------------------------------------------------------- the digest


def test_digest_lists_tomorrows_open_visits_per_assignee_in_chinese(runtime, admin, smtp_server):
    person(runtime, "wang.fang", "wang.fang@example.com", name="王芳")
    person(runtime, "li.wei", "li.wei@example.com", name="Li Wei")
    person(runtime, "no.mail", None)
    customer(runtime, "c-1", "华东贸易")
    visit(runtime, "v-1", "wang.fang", TOMORROW, customer_id="c-1")
    visit(runtime, "v-2", "wang.fang", TOMORROW, customer_id="c-2", reason="repair")
    visit(runtime, "v-3", "wang.fang", "2026-03-07")  # the day after: not listed
    visit(runtime, "v-4", "wang.fang", TOMORROW, reason="care")
    apply(
        runtime,
        VisitCancelled(
            visit_id="v-4",
            customer_id="c-1",
            reason="care",
            assignee="wang.fang",
            region="east",
            due_date=TOMORROW,
            cancelled_at="2026-03-02T09:00:00+08:00",
            why=None,
        ),
    )
    visit(runtime, "v-5", "li.wei", "2026-03-05")  # today: not listed; Li Wei has none
    visit(runtime, "v-6", "no.mail", TOMORROW)  # no email: nothing
    notifications_settings(runtime)

    jobs.daily_digest(runtime)
    jobs.email_sending(runtime)

    [mail] = smtp_server.mailbox.messages
    assert mail["To"] == "wang.fang@example.com"
    assert mail["From"] == "revisit@example.com"
    assert mail["Subject"] == f"明日（{TOMORROW}）回访提醒：共 2 项"
    body = mail.get_content()
    assert "王芳，您好" in body
    assert "华东贸易：periodic（phone）" in body
    assert "c-2：repair（phone）" in body
    assert "care" not in body
    [row] = listed(admin)
    assert (row["kind"], row["status"], row["attempts"], row["locale"]) == (
        "digest",
        "sent",
        1,
        "zh-CN",
    )
    assert row["sent_at"].startswith("2026-03-05T10:00:00")


def test_digest_in_english_waits_for_the_hour_and_is_written_once_a_day(
    runtime, admin, clock, smtp_server
):
    person(runtime, "li.wei", "li.wei@example.com", name="Li Wei")
    visit(runtime, "v-1", "li.wei", TOMORROW)
    notifications_settings(runtime, locale="en", digest_hour=19)

    jobs.daily_digest(runtime)  # 18:00 local: before the tenant's hour
    assert listed(admin) == []
    clock.advance(hours=1)
    jobs.daily_digest(runtime)
    visit(runtime, "v-2", "li.wei", TOMORROW)  # planned after the digest went out
    clock.advance(minutes=30)
    jobs.daily_digest(runtime)
    jobs.email_sending(runtime)

    [mail] = smtp_server.mailbox.messages
    assert mail["Subject"] == f"Your visits tomorrow ({TOMORROW}): 1"
    assert mail.get_content().startswith("Hello Li Wei,")
    assert len(listed(admin, kind="digest")) == 1
    clock.advance(hours=24)  # the next evening: the next day's digest
    visit(runtime, "v-3", "li.wei", "2026-03-07")
    jobs.daily_digest(runtime)
    assert len(listed(admin, kind="digest")) == 2


def test_a_moved_visit_is_listed_on_its_new_day_and_no_digest_when_off(runtime, admin):
    person(runtime, "li.wei", "li.wei@example.com")
    visit(runtime, "v-1", "li.wei", TOMORROW, at="2026-03-01T09:00:00+08:00")
    visit(runtime, "v-1", "li.wei", "2026-03-09", at="2026-03-02T09:00:00+08:00")  # moved
    visit(runtime, "v-2", "li.wei", TOMORROW)
    notifications_settings(runtime, digest=False)
    jobs.daily_digest(runtime)
    assert listed(admin) == []
    notifications_settings(runtime, version=2)
    jobs.daily_digest(runtime)
    [row] = listed(admin)
    assert row["body"].count("periodic") == 1  # v-2 only


def test_a_tenant_whose_digest_fails_does_not_hold_up_the_others(runtime, admin, caplog):
    broken = TenantSettingsChanged(
        tenant_id="tenant-0", timezone="Nowhere/Atlantis", settings={}, settings_version=1
    )
    apply(runtime, broken, tenant="tenant-0")
    apply(runtime, StaffChanged(**{**STAFF, "staff_id": "x"}), tenant="tenant-0")
    visit_for = {"tenant-0": "x", TENANT: "li.wei"}
    person(runtime, "li.wei", "li.wei@example.com")
    for tenant, assignee in visit_for.items():
        apply(runtime, scheduled("v-1", assignee, TOMORROW), tenant=tenant)
    jobs.daily_digest(runtime)
    assert [row["recipient"] for row in listed(admin)] == ["li.wei@example.com"]
    assert "digest of tenant tenant-0 failed" in caplog.text


# --------------------------------------------------------------------------- from events


def test_supervisors_get_a_major_complaint_and_escalations(runtime, admin, smtp_server):
    person(runtime, "zhao.lei", "zhao.lei@example.com")
    person(runtime, "left.co", "left@example.com", active=False)
    customer(runtime, "c-1", "Huadong Trading")
    notifications_settings(
        runtime, locale="en", supervisors=["zhao.lei", "boss@example.com", "left.co"]
    )
    apply(runtime, reported_upward(supervisors=["someone.else@example.com"]))
    apply(
        runtime,
        ComplaintEscalated(
            complaint_id="k-1",
            number="C-2026-0001",
            customer_id="c-1",
            severity="major",
            department="quality",
            region="east",
            limit="plan",
            deadline="2026-03-07T18:00:00+08:00",
            escalated_at="2026-03-07T18:00:05+08:00",
        ),
    )
    jobs.email_sending(runtime)

    mailbox = smtp_server.mailbox
    assert sorted(m["To"] for m in mailbox.messages) == [
        "boss@example.com",
        "boss@example.com",
        "zhao.lei@example.com",
        "zhao.lei@example.com",
    ]
    subjects = sorted({m["Subject"] for m in mailbox.to("zhao.lei@example.com")})
    assert subjects == [
        "Complaint C-2026-0001 escalated: plan deadline missed",
        "Major complaint C-2026-0001 reported: Huadong Trading",
    ]
    assert {row["kind"] for row in listed(admin)} == {"complaint_reported", "complaint_escalated"}


def test_without_own_supervisors_the_events_supervision_group_is_written_to(runtime, admin):
    notifications_settings(runtime)
    apply(runtime, reported_upward(supervisors=["group@example.com"]))
    [row] = listed(admin)
    assert (row["recipient"], row["locale"]) == ("group@example.com", "zh-CN")
    assert row["subject"] == "重大投诉 C-2026-0001 已上报：c-1"


def risk_warning(owner="li.wei", warning=True):
    return CustomerRiskChanged(
        customer_id="c-1",
        region="east",
        risk_level="high",
        previous_level="low",
        warning=warning,
        reasons=["no purchase for 180 days"],
        measures=["visit within a week"],
        changed_at="2026-03-05T09:00:00+08:00",
        owner=owner,
    )


def test_the_owner_gets_a_risk_warning_and_a_replayed_event_writes_no_second(
    runtime, admin, smtp_server
):
    person(runtime, "li.wei", "li.wei@example.com")
    person(runtime, "li.wei", "li.wei@new.example.com", at="2026-03-02T08:00:00+08:00")
    person(runtime, "li.wei", "stale@example.com", at="2026-02-01T08:00:00+08:00")  # older
    customer(runtime, "c-1", "华东贸易")
    envelope = apply(runtime, risk_warning())
    assert runtime.consumer.apply(envelope) == "duplicate"
    apply(runtime, risk_warning(warning=False))  # no warning: no email
    apply(runtime, risk_warning(owner=None))  # nobody owns it: no email
    jobs.email_sending(runtime)
    jobs.email_sending(runtime)

    [mail] = smtp_server.mailbox.messages
    assert mail["To"] == "li.wei@new.example.com"
    assert mail["Subject"] == "风险预警：华东贸易 风险等级为 高"
    assert "no purchase for 180 days" in mail.get_content()
    [row] = listed(admin)
    assert row["source_event_id"] == envelope.id


# --------------------------------------------------------------------------- retries


def test_a_refusal_is_retried_after_the_back_off(runtime, admin, clock, smtp_server):
    smtp_server.mailbox.replies.append("451 4.3.0 Try again later")
    person(runtime, "li.wei", "li.wei@example.com")
    apply(runtime, risk_warning())

    jobs.email_sending(runtime)
    [row] = listed(admin)
    assert (row["status"], row["attempts"], row["last_error"]) == (
        "pending",
        1,
        "SMTP 451 (SMTPDataError)",
    )
    assert row["next_attempt_at"].startswith("2026-03-05T10:00:10")
    clock.advance(seconds=9)
    jobs.email_sending(runtime)  # not due yet
    assert len(smtp_server.mailbox.attempts) == 1
    clock.advance(seconds=1)
    jobs.email_sending(runtime)
    [row] = listed(admin, status="sent")
    assert (row["attempts"], row["last_error"]) == (2, None)
    assert len(smtp_server.mailbox.messages) == 1


def test_an_email_fails_after_the_most_attempts(runtime, admin, clock, smtp_server):
    smtp_server.mailbox.replies.extend(["451 4.3.0 later"] * 2 + ["554 5.7.1 rejected"])
    person(runtime, "li.wei", "li.wei@example.com")
    apply(runtime, risk_warning())
    for _ in range(3):
        jobs.email_sending(runtime)
        clock.advance(hours=1)
    jobs.email_sending(runtime)
    [row] = listed(admin)
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("failed", 3, None)
    assert row["last_error"] == "SMTP 554 (SMTPDataError)"
    assert listed(admin, status="failed") == [row]
    assert len(smtp_server.mailbox.attempts) == 3


def test_an_unreachable_server_keeps_no_credentials_in_the_error(tmp_path, clock):
    dead = SmtpServer()
    dead.close()  # nothing listens on its port any more
    url = f"smtp://mailer:hunter2@127.0.0.1:{dead.port}"
    with start(tmp_path, clock, url) as rt:
        person(rt, "li.wei", "li.wei@example.com")
        apply(rt, risk_warning())
        jobs.email_sending(rt)
        [row] = listed(Client(rt.create_app()))
    assert (row["status"], row["last_error"]) == ("pending", "ConnectionRefusedError")


def test_without_an_smtp_url_emails_wait(tmp_path, clock):
    with service_runtime(SPEC, tmp_path, clock=clock) as rt:
        person(rt, "li.wei", "li.wei@example.com")
        apply(rt, risk_warning())
        jobs.email_sending(rt)
        [row] = listed(Client(rt.create_app()))
    assert (row["status"], row["attempts"]) == ("pending", 0)


# --------------------------------------------------------------------------- the API


def test_notifications_list_filters_and_pages(runtime, admin):
    person(runtime, "li.wei", "li.wei@example.com")
    notifications_settings(runtime, supervisors=["a@example.com", "b@example.com"])
    apply(runtime, reported_upward())
    apply(runtime, risk_warning())
    apply(runtime, risk_warning(), tenant="tenant-b")  # another tenant's: not listed
    assert len(listed(admin)) == 3
    assert [r["recipient"] for r in listed(admin, kind="risk_warning")] == ["li.wei@example.com"]
    first = admin.get("/api/v1/notifications?limit=2").json
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = listed(admin, limit=2, cursor=first["next_cursor"])
    assert len(rest) == 1
    assert listed(admin, status="sent") == []


@pytest.mark.parametrize(
    ("query", "status"),
    [("status=delivered", 422), ("kind=sms", 422), ("limit=0", 422), ("cursor=%%%", 422)],
)
def test_notifications_list_refuses_bad_filters(admin, query, status):
    r = admin.get(f"/api/v1/notifications?{query}")
    assert r.status_code == status
    assert r.content_type == PROBLEM


@pytest.mark.parametrize(("role", "status"), [("manager", 200), ("agent", 403), ("viewer", 403)])
def test_notifications_are_for_admins_and_managers(runtime, role, status):
    assert Client(runtime.create_app(), role=role).get("/api/v1/notifications").status_code == (
        status
    )


def test_the_settings_section_is_checked_here(admin):
    path = "/internal/settings-sections/notifications"
    r = admin.post(path, {"overrides": {}, "changes": {"locale": "fr", "digest_hour": 25}})
    assert r.status_code == 422
    assert r.content_type == PROBLEM
    assert set(r.json["errors"]) == {"locale", "digest_hour"}
    r = admin.post(path, {"overrides": {"locale": "en"}, "changes": {"digest_hour": 8}})
    assert r.status_code == 200
    assert r.json == {
        "overrides": {"locale": "en", "digest_hour": 8},
        "effective": {"locale": "en", "supervisors": [], "digest": True, "digest_hour": 8},
    }


# --------------------------------------------------------------------------- PostgreSQL


@pytest.mark.services
def test_the_email_path_on_postgres(
    tmp_path,
    clock,
    smtp_server,
    postgres_url,
    postgres_schemas,
):
    smtp_server.mailbox.replies.append("451 4.3.0 later")
    database = {"database_url": postgres_url, "db_schema_prefix": postgres_schemas}
    with start(tmp_path, clock, smtp_server.url, **database) as rt:
        client = Client(rt.create_app())
        person(rt, "wang.fang", "wang.fang@example.com", name="王芳" * 80)  # long name kept
        visit(rt, "v-1", "wang.fang", TOMORROW)
        notifications_settings(rt, supervisors=["x" * 200])  # unknown staff id: nobody
        apply(rt, reported_upward())
        envelope = apply(rt, risk_warning(owner="wang.fang"))
        assert rt.consumer.apply(envelope) == "duplicate"
        person(rt, "s" * 150, "s@example.com")  # longer than a staff id: not kept
        person(rt, "bad.mail", "not an address\r\nBcc: x@example.com")  # not kept
        apply(rt, risk_warning(owner="bad.mail"))
        long_address = "l" * 300 + "@example.com"  # its email's key is longer than the column
        person(rt, "long.mail", long_address)
        apply(rt, risk_warning(owner="long.mail"))
        [waiting] = listed(client, status="pending", kind="risk_warning", limit=1)
        jobs.daily_digest(rt)
        jobs.daily_digest(rt)
        jobs.email_sending(rt)
        clock.advance(seconds=10)
        jobs.email_sending(rt)
        rows = listed(client)
    assert waiting["recipient"] == "wang.fang@example.com"
    assert sorted((r["kind"], r["recipient"][:9]) for r in rows) == [
        ("digest", "wang.fang"),
        ("risk_warning", "lllllllll"),
        ("risk_warning", "wang.fang"),
    ]
    assert {r["status"] for r in rows if r["recipient"] != long_address} == {"sent"}
    assert (
        sorted(m["To"] for m in smtp_server.mailbox.messages)[-2:] == ["wang.fang@example.com"] * 2
    )

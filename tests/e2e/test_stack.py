"""The native stack (`make stack`: one process per role, real RabbitMQ and PostgreSQL), started
once for all of these (one file, so one xdist worker starts it):

* issue #5: it serves the gateway, and the follow-up and complaint loops work through it;
  #13's and #14's inputs work over it too;
* its gateway (waitress, revisit_runner.edge) holds slow clients: 40 of them leave /healthz
  and another tenant's requests under 1 s; a 413 keeps the session;
* CONTRACT §4.1 references: a customer is usable right after its 201 and a settings change
  applies to the next request, each tried once, with no retry and no wait; unknown ids are
  404;
* issue #16: its gateway serves the console, as the signed-in person;
* issue #15: it runs as a role PostgreSQL allows 50 connections, with its default pools, and
  a burst of 16 clients is served while the role never holds more than 50.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import pytest
import requests

from tests.support.client import ADMIN, Api
from tests.support.complaints import COMPLAINT
from tests.support.console import PASSWORD, add_person, csrf_of
from tests.support.pg_limits import PeakConnections
from tests.support.slow_clients import finish, slow_clients, timed
from tests.support.system import CUSTOMER

from .conftest import DB_LIMIT
from .loops import complaint_loop, day_at_work_loop, follow_up_loop, policy_inputs_loop

pytestmark = pytest.mark.services


def test_stack_serves_the_gateway_and_both_loops(stack):
    health = stack.get("/healthz")
    assert health.status_code == 200 and health.json["service"] == "gateway"
    spec = stack.get("/api/v1/openapi.json").json
    for path in (
        "/api/v1/customers",
        "/api/v1/visits",
        "/api/v1/complaints",
        "/api/v1/surveys",
        "/api/v1/kpis",
    ):
        assert path in spec["paths"], path
    follow_up_loop(Api(stack).new_tenant("Loop one"), kpi_timeout=15)
    complaint_loop(Api(stack).new_tenant("Loop two"), timeout=15)


def test_stack_plans_visits_from_projects_and_marketing_events(stack):
    """Issue #13 over RabbitMQ and PostgreSQL, one process per role."""
    policy_inputs_loop(Api(stack).new_tenant("Policies"), timeout=15)


def test_stack_runs_a_day_at_work_with_email(stack, smtp_server):
    """Issue #14 over RabbitMQ and PostgreSQL: the supervisor's email goes from the notify
    worker process to a real SMTP server, from the complaint service's event."""
    day_at_work_loop(Api(stack).new_tenant("A day at work"), smtp_server.mailbox, timeout=60)


def test_stack_serves_the_console_as_the_person(stack):
    """Issue #16: the console on the native gateway (gunicorn, HTTP to the services,
    PostgreSQL): a person signs in with the password set through the API, sees their
    agenda (read through the API as them), and signs out."""
    platform = Api(stack, ADMIN)
    created = platform.post("/tenants", {"name": "Console", "timezone": "Asia/Shanghai"})
    assert created.status_code == 201, created.json
    tenant, admin = created.json["id"], platform.as_key(created.json["admin_key"])
    add_person(admin, "wang.fang")
    browser = requests.Session()
    browser.headers["Accept-Language"] = "en"
    form = browser.get(f"{stack.base}/console/sign-in?tenant={tenant}", timeout=10)
    assert (
        form.status_code == 200 and "default-src 'none'" in form.headers["Content-Security-Policy"]
    )
    body = {"csrf_token": csrf_of(form.text), "tenant": tenant, "staff_id": "wang.fang"}
    signed = browser.post(
        f"{stack.base}/console/sign-in", data={**body, "password": PASSWORD}, timeout=10
    )
    assert signed.status_code == 200 and signed.url == f"{stack.base}/console/"
    assert "Wang Fang" in signed.text and 'id="agenda"' in signed.text
    out = browser.post(
        f"{stack.base}/console/sign-out", data={"csrf_token": csrf_of(signed.text)}, timeout=10
    )
    assert out.status_code == 200 and out.url == f"{stack.base}/console/sign-in"
    again = browser.get(f"{stack.base}/console/", timeout=10, allow_redirects=False)
    assert again.status_code == 303


# --------------------------------------------------------------------------- the edge


def test_40_slow_clients_leave_the_gateway_answering_under_1s(stack):
    base = stack.base
    r = requests.post(
        base + "/api/v1/tenants",
        json={"name": "Not slow"},
        headers={"Authorization": f"Bearer {ADMIN}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    key = r.json()["admin_key"]
    auth = {"Authorization": f"Bearer {key}"}
    warm = requests.get(base + "/api/v1/customers", headers=auth, timeout=10)
    assert warm.status_code == 200  # a new key's first request is not what is measured
    with slow_clients(urlparse(base).port, 40) as socks:
        health, health_took = timed("GET", base + "/healthz")
        listing, listing_took = timed("GET", base + "/api/v1/customers", headers=auth)
        assert health.status_code == 200
        assert listing.status_code == 200
        assert health_took < 1.0, health_took
        assert listing_took < 1.0, listing_took
        assert finish(socks[0]).split()[:2] == [b"HTTP/1.1", b"401"]


def test_413_then_the_next_request_on_the_same_session_works(stack):
    session = requests.Session()
    r = session.post(
        stack.base + "/api/v1/tenants",
        data=b"x" * (1024 * 1024 + 1),
        headers={"Authorization": f"Bearer {ADMIN}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert r.status_code == 413
    assert r.headers["Content-Type"] == "application/problem+json"
    assert session.get(stack.base + "/healthz", timeout=10).status_code == 200


# --------------------------------------------------------------------------- references


def test_fresh_customer_and_settings_apply_to_the_next_request(stack):
    api = Api(stack).new_tenant("Read your writes")
    for round_ in range(3):  # each round: a customer created, then used at once
        created = api.post("/customers", {**CUSTOMER, "region": f"r{round_}"})
        assert created.status_code == 201, created.json
        customer_id = created.json["id"]
        complaint = api.post("/complaints", {**COMPLAINT, "customer_id": customer_id})
        assert complaint.status_code == 201, complaint.json
        assert complaint.json["region"] == f"r{round_}"
        visit = api.post("/visits", {"customer_id": customer_id, "reason": "care"})
        assert visit.status_code == 201, visit.json

    missing = api.post("/complaints", {**COMPLAINT, "customer_id": "no-such-customer"})
    assert missing.status_code == 404 and missing.json["detail"] == "customer not found"
    other = Api(stack).new_tenant("Someone else")
    foreign = other.post("/visits", {"customer_id": customer_id, "reason": "care"})
    assert foreign.status_code == 404 and foreign.json["detail"] == "customer not found"

    before = complaint.json["deadlines"]["resolve_by"]
    for days in (1, 10, 2):  # each change is seen by the very next complaint
        changed = api.patch("/settings", {"complaints": {"general_resolve_working_days": days}})
        assert changed.status_code == 200, changed.json
        after = api.post("/complaints", {**COMPLAINT, "customer_id": customer_id})
        assert after.status_code == 201, after.json
        resolve_by = after.json["deadlines"]["resolve_by"]
        assert (resolve_by < before) if days < 5 else (resolve_by > before), (days, resolve_by)


# --------------------------------------------------------------------------- connections

CLIENTS = 16
ROUNDS = 3


def client_burst(base: str, key: str, index: int) -> list[tuple[str, int, int]]:
    """One client's requests, kept-alive: (what, expected status, status) of each."""
    auth = {"Authorization": f"Bearer {key}"}
    seen = []
    with requests.Session() as http:
        for round_ in range(ROUNDS):
            body = {**CUSTOMER, "name": f"Client {index} round {round_}"}
            r = http.post(f"{base}/api/v1/customers", json=body, headers=auth, timeout=30)
            seen.append(("POST /customers", 201, r.status_code))
            for path in ("/api/v1/customers", "/api/v1/visits", "/api/v1/complaints"):
                r = http.get(base + path, headers=auth, timeout=30)
                seen.append((f"GET {path}", 200, r.status_code))
    return seen


def test_stack_serves_a_burst_within_50_connections(stack, postgres_url):
    key = Api(stack).new_tenant("Burst").key
    with PeakConnections(postgres_url, stack.db_role) as peak, ThreadPoolExecutor(CLIENTS) as pool:
        runs = pool.map(client_burst, [stack.base] * CLIENTS, [key] * CLIENTS, range(CLIENTS))
        results = [seen for run in runs for seen in run]
    log = stack.log_path.read_text()
    wrong = [r for r in results if r[1] != r[2]]
    assert wrong == [], f"{wrong[:5]}\n{log[-6000:]}"
    assert len(results) == CLIENTS * ROUNDS * 4
    assert f"at most 43 PostgreSQL connections (of {DB_LIMIT})" in log
    assert peak.samples > 0
    assert 0 < peak.peak <= DB_LIMIT, peak.peak
    assert "too many clients" not in log
    assert "too many connections" not in log

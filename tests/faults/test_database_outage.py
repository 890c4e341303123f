"""PostgreSQL unreachable for a while (the survey service reaches it through a TCP proxy
that the test cuts: open connections reset, new ones refused): /readyz and writes answer 503
problem+json at once; the web process and the worker recover by themselves, no restart."""

from __future__ import annotations

import time

import requests

from tests.support.client import ADMIN

from .harness import CUSTOMER, new_tenant, report, send, wait_for

SURVEY = {
    "title": "After the trade fair",
    "questions": [{"id": "overall", "kind": "satisfaction", "text": "How satisfied are you?"}],
}
OUTAGE_SECONDS = 6


def test_postgres_unreachable_gives_503_then_recovers_without_restart(
    stack, sources, survey_db_proxy
):
    tenant, key = new_tenant(stack.gateway, ADMIN, "Database outage")
    http = requests.Session()
    surveys = stack.gateway + "/api/v1/surveys"
    readyz = stack.web_url("survey") + "/readyz"
    assert send(http, "POST", surveys, key, SURVEY).status == 201
    pids = {name: stack.procs[name].proc.pid for name in ("survey-web", "survey-worker")}

    survey_db_proxy.cut()
    cut_at = time.monotonic()
    try:
        ready = requests.get(readyz, timeout=15)
        writes, reads = [], []
        customer_ids = []
        while time.monotonic() - cut_at < OUTAGE_SECONDS:
            writes.append(send(http, "POST", surveys, key, SURVEY))
            reads.append(send(http, "GET", surveys, key))
            # The customer service is fine: its event reaches the survey worker, which
            # cannot store it now and must not lose it.
            created = send(http, "POST", stack.gateway + "/api/v1/customers", key, CUSTOMER)
            assert created.status == 201
            customer_ids.append(created.body["id"])
            time.sleep(0.3)
    finally:
        survey_db_proxy.restore()
    restored_at = time.monotonic()
    ready_again = wait_for(lambda: requests.get(readyz, timeout=5).ok, 60, "/readyz")
    ready_s = time.monotonic() - restored_at
    wait_for(lambda: send(http, "POST", surveys, key, SURVEY).status == 201, 30, "a write")
    write_s = time.monotonic() - restored_at
    copied = wait_for(
        lambda: (
            sources.scalar(
                'SELECT count(*) FROM "{p}survey".customers WHERE tenant_id = :t', t=tenant
            )
            == len(customer_ids)
        ),
        60,
        "the survey worker applied the events of the outage",
    )
    worker_s = time.monotonic() - restored_at
    same_processes = all(
        stack.procs[name].proc.pid == pid and stack.running(name) for name, pid in pids.items()
    )
    answers = writes + reads
    report(
        "postgres_unreachable",
        outage_s=restored_at - cut_at,
        writes_tried=len(writes),
        reads_tried=len(reads),
        answered_503_problem=sum(o.status == 503 and o.problem for o in answers),
        unclear=sum(not o.clear for o in answers),
        slowest_answer_s=max(o.seconds for o in answers),
        readyz_during=ready.status_code,
        events_during_outage=len(customer_ids),
        seconds_to_ready=ready_s,
        seconds_to_first_write=write_s,
        seconds_to_worker_caught_up=worker_s,
        restarted=not same_processes,
    )
    assert ready.status_code == 503
    assert ready.headers["Content-Type"].startswith("application/problem+json")
    assert "database" in ready.json()["errors"], ready.json()
    for outcome in answers:
        assert outcome.status == 503 and outcome.problem, outcome
        assert outcome.seconds < 5, f"a request waited {outcome.seconds:.1f} s for the database"
    assert writes and ready_again and copied
    assert same_processes, "recovered only by restarting"

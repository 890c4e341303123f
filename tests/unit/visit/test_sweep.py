"""The overdue sweep: VisitOverdue exactly once per visit; the worker job and its interval."""

from __future__ import annotations

import dataclasses
import threading
from datetime import UTC, datetime

import pytest

from tests.support.client import Client
from tests.support.outbox import events_of
from tests.support.visits import PAST, configure, plan, register
from visit_service import bootstrap, sweep
from visit_service.bootstrap import SPEC
from visit_service.options import VisitOptions


def test_overdue_visits_are_announced_once(client, runtime, customer):
    late = plan(client, customer, trigger="late", due_date=PAST)
    plan(client, customer, trigger="future", due_date="2099-01-01")
    done = plan(client, customer, trigger="done", due_date=PAST)
    client.post(f"/api/v1/visits/{done['id']}/complete", {"satisfaction": "neutral"})
    cancelled = plan(client, customer, trigger="cancelled", due_date=PAST)
    client.post(f"/api/v1/visits/{cancelled['id']}/cancel", {})

    assert sweep.sweep_overdue(runtime.db, runtime.outbox) == 1
    assert sweep.sweep_overdue(runtime.db, runtime.outbox) == 0
    [event] = events_of(runtime, "VisitOverdue")
    assert event["routing_key"] == "visit.overdue"
    assert event["tenantid"] == "tenant-a"
    data = event["data"]
    assert (data["visit_id"], data["due_date"], data["assignee"]) == (late["id"], PAST, "li.wei")
    after = client.get(f"/api/v1/visits/{late['id']}").json
    assert after["overdue"] is True and after["overdue_notified_at"]
    # completing it late afterwards announces nothing more
    client.post(f"/api/v1/visits/{late['id']}/complete", {"satisfaction": "neutral"})
    assert sweep.sweep_overdue(runtime.db, runtime.outbox) == 0
    assert len(events_of(runtime, "VisitOverdue")) == 1


def test_overdue_is_judged_in_each_tenants_time_zone(app, runtime, feed):
    configure(feed, tenant="tenant-h", calendar={"timezone": "Pacific/Honolulu"})
    shanghai = Client(app, "tenant-a")
    honolulu = Client(app, "tenant-h")
    a = plan(shanghai, register(feed), due_date="2026-11-22")
    h = plan(honolulu, register(feed, tenant="tenant-h"), due_date="2026-11-22")
    # 20:00 UTC on the 22nd: already the 23rd in Shanghai, still the 22nd in Honolulu
    at = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    assert sweep.sweep_overdue(runtime.db, runtime.outbox, at) == 1
    assert events_of(runtime, "VisitOverdue")[0]["data"]["visit_id"] == a["id"]
    later = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # the 23rd in Honolulu too
    assert sweep.sweep_overdue(runtime.db, runtime.outbox, later) == 1
    assert events_of(runtime, "VisitOverdue")[1]["data"]["visit_id"] == h["id"]
    assert events_of(runtime, "VisitOverdue")[1]["tenantid"] == "tenant-h"


def test_sweep_goes_through_more_than_one_batch(client, runtime, customer, monkeypatch):
    monkeypatch.setattr(sweep, "BATCH", 2)
    for i in range(5):
        plan(client, customer, trigger=str(i), due_date=PAST)
    plan(client, customer, trigger="future", due_date="2099-01-01")
    assert sweep.sweep_overdue(runtime.db, runtime.outbox) == 5
    assert len(events_of(runtime, "VisitOverdue")) == 5


def test_concurrent_sweeps_announce_once(client, runtime, customer):
    for i in range(20):
        plan(client, customer, trigger=str(i), due_date=PAST)
    counts: list[int] = []
    threads = [threading.Thread(target=lambda: counts.append(sweep.run(runtime))) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 20
    assert len(events_of(runtime, "VisitOverdue")) == 20


def test_the_worker_runs_the_sweep(client, runtime, customer):
    plan(client, customer, due_date=PAST)
    (interval, job), _care = SPEC.periodic
    assert interval(runtime) == runtime.options.overdue_sweep_seconds == 60
    assert job is sweep.run
    runtime.spec = dataclasses.replace(SPEC, periodic=((0.05, sweep.run),))
    stop = threading.Event()
    runtime.start_workers(stop)
    try:
        deadline = datetime.now(UTC).timestamp() + 5
        while not events_of(runtime, "VisitOverdue") and datetime.now(UTC).timestamp() < deadline:
            threading.Event().wait(0.05)
    finally:
        stop.set()
        for thread in runtime.threads:
            thread.join(timeout=5)
    assert len(events_of(runtime, "VisitOverdue")) == 1


def test_sweep_interval_from_the_environment():
    def interval(env):
        return VisitOptions.from_env(env).overdue_sweep_seconds

    assert interval({}) == 60
    assert interval({"REVISIT_OVERDUE_SWEEP_SECONDS": "2.5"}) == 2.5
    for bad in ("soon", "0", "-1"):
        with pytest.raises(ValueError, match="REVISIT_OVERDUE_SWEEP_SECONDS"):
            interval({"REVISIT_OVERDUE_SWEEP_SECONDS": bad})
    assert bootstrap.SPEC.options is VisitOptions

"""A broker resource alarm (`rabbitmqctl set_vm_memory_high_watermark 0`, then back): the
broker stops reading from every connection that publishes. Writes go on (outbox), the relay's
publishes time out again and again instead of hanging, HTTP latency stays bounded, and the
rows are delivered once the alarm clears."""

from __future__ import annotations

import statistics
import time

import requests

from tests.support.client import ADMIN

from .harness import kpi_counts, metric_sum, new_tenant, report, wait_for, write_stream


def _failures(stack) -> float:
    return metric_sum(stack.worker_metrics("customer"), "revisit_publish_failures_total")


def _caught_up(stack, sources, tenant, key) -> dict:
    source = sources.customers(tenant)
    kpi = kpi_counts(stack.gateway, key)
    return all(kpi[name] == source[name] for name in source) and kpi


def test_memory_alarm_times_out_publishes_keeps_latency_and_delivers_after(stack, sources, broker):
    tenant, key = new_tenant(stack.gateway, ADMIN, "Memory alarm")
    baseline = write_stream(stack.gateway, key, 60, clients=4, purchases_per_customer=9)
    wait_for(lambda: _caught_up(stack, sources, tenant, key), 60, "baseline delivered")
    failures_before = _failures(stack)

    broker.raise_memory_alarm()
    alarm_at = time.monotonic()
    try:
        during = write_stream(stack.gateway, key, 150, clients=4, purchases_per_customer=9)
        # The relay's publish times out (REVISIT_PUBLISH_TIMEOUT=2), it drops the blocked
        # connection and tries again: failures keep coming. A hung relay would count one.
        wait_for(lambda: _failures(stack) >= failures_before + 3, 40, "repeated publish timeouts")
        backlog = stack.outbox_pending()["customer"]
        kpi_during = kpi_counts(stack.gateway, key)
        started = time.monotonic()
        ready = requests.get(stack.web_url("customer") + "/readyz", timeout=10).status_code
        readyz_s = time.monotonic() - started
        alarm_failures = _failures(stack) - failures_before
    finally:
        broker.clear_memory_alarm()
    cleared_at = time.monotonic()
    kpi = wait_for(lambda: _caught_up(stack, sources, tenant, key), 60, "delivered after")
    delivered_s = time.monotonic() - cleared_at
    wait_for(lambda: not any(stack.outbox_pending().values()), 30, "every outbox empty")
    source = sources.customers(tenant)

    base = [o.seconds for o in baseline]
    slow = [o.seconds for o in during]
    accepted = sum(o.status == 201 for o in baseline + during)
    report(
        "memory_alarm",
        alarm_s=cleared_at - alarm_at,
        writes_tried=len(baseline) + len(during),
        accepted=accepted,
        publish_timeouts_during_alarm=int(alarm_failures),
        outbox_backlog=int(backlog),
        latency_median_before_s=statistics.median(base),
        latency_median_during_s=statistics.median(slow),
        latency_max_during_s=max(slow),
        readyz_during=ready,
        lost=accepted - (kpi["customers"] + kpi["purchases"]),
        seconds_to_deliver_after_clear=delivered_s,
    )
    assert all(o.status == 201 for o in baseline + during)
    assert max(slow) < 2.0, "a write waited on the blocked broker"
    assert alarm_failures >= 3
    assert backlog > 0 and kpi_during["purchases"] < source["purchases"]  # held back...
    assert kpi["customers"] + kpi["purchases"] == accepted  # ... and delivered, all of them
    assert ready == 200 and readyz_s < 5

"""The broker stopped and started (`rabbitmqctl stop_app` / `start_app`) in the middle of a
stream of 2,000 writes through the gateway of the native stack."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter

from tests.support.client import ADMIN

from .harness import (
    kpi_counts,
    metric_sum,
    new_tenant,
    queue_counts,
    report,
    wait_for,
    write_stream,
)

WRITES = 2000
OUTAGE_AT = 600  # the write that triggers the outage
OUTAGE_SECONDS = 5


def test_broker_restart_during_2000_writes_loses_and_duplicates_nothing(
    stack, sources, broker, amqp_url, fault_prefix
):
    tenant, key = new_tenant(stack.gateway, ADMIN, "Broker outage")
    marks: dict[str, float] = {}
    pending: list[tuple[float, float]] = []  # (time, customer outbox backlog)
    applied: list[tuple[float, int]] = []  # (time, customers + purchases the KPIs count)
    errors: list[BaseException] = []
    writing = threading.Event()
    writing.set()

    def outage() -> None:
        try:
            marks["stop"] = time.monotonic()
            broker.stop_app()
            marks["stopped"] = time.monotonic()
            time.sleep(OUTAGE_SECONDS)
            broker.start_app()
            marks["start"] = time.monotonic()
        except BaseException as exc:  # noqa: BLE001 - re-raised by the test thread
            errors.append(exc)

    def watch_backlog() -> None:
        while writing.is_set():
            try:
                backlog = metric_sum(stack.web_metrics("customer"), "revisit_outbox_pending")
                pending.append((time.monotonic(), backlog))
                counts = kpi_counts(stack.gateway, key)
                applied.append((time.monotonic(), counts["customers"] + counts["purchases"]))
            except Exception:  # noqa: BLE001 - a missed sample is no figure
                pass
            time.sleep(0.5)

    outage_thread = threading.Thread(target=outage)
    watcher = threading.Thread(target=watch_backlog, daemon=True)

    def on_progress(index: int) -> None:
        if index == OUTAGE_AT:
            outage_thread.start()

    watcher.start()
    try:
        started = time.monotonic()
        outcomes = write_stream(
            stack.gateway, key, WRITES, clients=8, purchases_per_customer=9, on_progress=on_progress
        )
        marks["writes_done"] = time.monotonic()
        outage_thread.join(120)
        assert not errors, errors
        assert "start" in marks, "the outage never ended"

        # After recovery: every outbox empty, the KPI service caught up with the sources.
        source = sources.customers(tenant)
        wait_for(
            lambda: not any(stack.outbox_pending().values()), 180, "every outbox_pending back to 0"
        )
        kpi = wait_for(
            lambda: (
                (k := kpi_counts(stack.gateway, key))
                and all(k[name] == source[name] for name in source)
                and k
            ),
            180,
            f"KPI counts equal to the sources {source}",
        )
        marks["settled"] = time.monotonic()
    finally:
        writing.clear()

    answered = Counter(o.status for o in outcomes)
    unclear = [o for o in outcomes if not o.clear]
    accepted = answered[201]
    stored = source["customers"] + source["purchases"]
    kpi_total = kpi["customers"] + kpi["purchases"]
    events, distinct = sources.kpi_events(tenant)
    during = [o.seconds for o in outcomes]
    slowest = max(outcomes, key=lambda o: o.seconds)
    backlog_peak = max((v for _, v in pending), default=0)
    # Recovered: everything accepted before the broker came back is counted by the KPIs.
    before_start = sum(o.status == 201 and o.at + o.seconds <= marks["start"] for o in outcomes)
    caught_up = [t for t, n in applied if t > marks["start"] and n >= before_start]
    report(
        "broker_restart_2000_writes",
        writes_tried=len(outcomes),
        accepted=accepted,
        clear_errors=len(outcomes) - accepted - len(unclear),
        unclear=len(unclear),
        lost=max(0, accepted - stored) + max(0, stored - kpi_total),
        duplicated=max(0, kpi_total - stored) + (events - distinct),
        source=source,
        kpi={k: kpi[k] for k in source},
        outbox_backlog_peak=int(backlog_peak),
        broker_down_s=marks["start"] - marks["stopped"],
        seconds_to_recover=(caught_up[0] - marks["start"]) if caught_up else None,
        seconds_to_settle_after_last_write=marks["settled"] - marks["writes_done"],
        writes_per_s=len(outcomes) / (marks["writes_done"] - started),
        latency_median_s=statistics.median(during),
        latency_max_s=max(during),
        slowest_sent_s_after_stop=slowest.at - marks["stop"],
    )
    assert len(outcomes) == WRITES
    assert not unclear, f"writes without a clear answer: {unclear[:5]}"
    assert accepted == stored, f"accepted {accepted} writes, the sources hold {stored}"
    assert kpi_total == stored  # exactly equal: nothing lost, nothing counted twice
    assert events == distinct
    assert backlog_peak > 0, "no backlog during the outage: the test proved nothing"
    assert queue_counts(amqp_url, f"{fault_prefix}.kpi.dead")[0] == 0

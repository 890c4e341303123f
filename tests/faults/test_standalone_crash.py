"""`make run` (standalone: one process, SQLite files, the in-memory bus) killed with SIGKILL
or stopped with SIGTERM in the middle of a stream of writes, then started again on the same
data: every accepted write has all its effects (the new-customer visit of each first
purchase, the KPI counts), none twice."""

from __future__ import annotations

import os
import secrets
import signal
import sqlite3
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.support.standalone import Server

from .harness import CUSTOMER, PURCHASE, kpi_counts, new_tenant, report, send, wait_for

WRITERS = 4
BACKLOG = 3  # first purchases whose new-customer visit is not planned yet, at the fault


def _source_counts(data_dir: Path, tenant: str) -> dict[str, int]:
    """What the customer and visit services' own SQLite files hold for ``tenant``."""

    def scalar(service: str, sql: str) -> int:
        with sqlite3.connect(data_dir / f"{service}.sqlite3") as conn:
            return conn.execute(sql, (tenant,)).fetchone()[0]

    return {
        "customers": scalar("customer", "SELECT count(*) FROM customers WHERE tenant_id = ?"),
        "purchases": scalar("customer", "SELECT count(*) FROM purchases WHERE tenant_id = ?"),
        "customers_with_purchases": scalar(
            "customer",
            "SELECT count(DISTINCT customer_id) FROM purchases WHERE tenant_id = ?",
        ),
        "new_customer_visits": scalar(
            "visit",
            "SELECT count(*) FROM visits WHERE tenant_id = ? AND reason = 'new_customer'",
        ),
        "customers_with_new_customer_visits": scalar(
            "visit",
            "SELECT count(DISTINCT customer_id) FROM visits"
            " WHERE tenant_id = ? AND reason = 'new_customer'",
        ),
    }


def _in_flight(data_dir: Path, tenant: str) -> int:
    counts = _source_counts(data_dir, tenant)
    return counts["customers_with_purchases"] - counts["customers_with_new_customer_visits"]


def _write_until(base: str, key: str, stop: threading.Event) -> list:
    """Writers creating a customer and then its first purchase, over and over."""
    outcomes = []
    lock = threading.Lock()

    def writer() -> None:
        session = requests.Session()
        while not stop.is_set():
            made = send(session, "POST", f"{base}/api/v1/customers", key, CUSTOMER, timeout=5)
            got = [("customer", made)]
            if made.status == 201:
                url = f"{base}/api/v1/customers/{made.body['id']}/purchases"
                got.append(("purchase", send(session, "POST", url, key, PURCHASE, timeout=5)))
            with lock:
                outcomes.extend(got)

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for thread in threads:
        thread.start()
    return outcomes, threads


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_standalone_killed_during_writes_loses_and_repeats_nothing(tmp_path, sig):
    admin = "rva_" + secrets.token_urlsafe(16)
    env = {"REVISIT_ADMIN_TOKEN": admin, "REVISIT_AMQP_URL": "", "REVISIT_DATABASE_URL": ""}
    server = Server(tmp_path, env=env).start()
    try:
        tenant, key = new_tenant(server.base, admin, "Standalone crash")
        stop = threading.Event()
        outcomes, threads = _write_until(server.base, key, stop)
        try:
            # The fault comes while first purchases wait for their visit (events in flight).
            wait_for(lambda: _in_flight(tmp_path, tenant) >= BACKLOG, 60, "a backlog", 0.02)
            killed_at = time.monotonic()
            os.killpg(server.proc.pid, sig)
            server.proc.wait(timeout=30)
        finally:
            stop.set()
            for thread in threads:
                thread.join(30)
    finally:
        server.stop()
    at_crash = _source_counts(tmp_path, tenant)
    missing_at_crash = (
        at_crash["customers_with_purchases"] - at_crash["customers_with_new_customer_visits"]
    )

    restarted = Server(tmp_path, env=env).start()
    try:
        accepted = Counter(kind for kind, out in outcomes if out.status == 201)
        source = _source_counts(tmp_path, tenant)
        # Every write answered 201 is stored (a write cut off before its answer may or may
        # not be: the sources, not the answers, are what the effects must match).
        assert source["customers"] >= accepted["customer"] > 0
        assert source["purchases"] >= accepted["purchase"] > 0

        def settled():
            now = _source_counts(tmp_path, tenant)
            kpi = kpi_counts(restarted.base, key)
            done = (
                now["customers_with_new_customer_visits"] == now["customers_with_purchases"]
                and kpi["customers"] == now["customers"]
                and kpi["purchases"] == now["purchases"]
            )
            return done and (now, kpi)

        now, kpi = wait_for(settled, 60, lambda: f"effects after restart; {restarted.output()}")
        recovered = time.monotonic() - killed_at
    finally:
        restarted.stop()

    report(
        f"standalone_{signal.Signals(sig).name.lower()}_during_writes",
        accepted_customers=accepted["customer"],
        accepted_purchases=accepted["purchase"],
        unanswered=sum(out.status is None for _, out in outcomes),
        visits_missing_at_fault=missing_at_crash,
        stored=f"{now['customers']} customers, {now['purchases']} purchases",
        new_customer_visits=now["new_customer_visits"],
        kpi_customers=kpi["customers"],
        kpi_purchases=kpi["purchases"],
        lost=now["customers_with_purchases"] - now["customers_with_new_customer_visits"],
        applied_twice=now["new_customer_visits"] - now["customers_with_new_customer_visits"],
        seconds_from_fault_to_all_applied=recovered,
    )
    if sig == signal.SIGKILL:  # (SIGTERM may finish the backlog it was sent in, or not)
        assert missing_at_crash > 0, "nothing was in flight at the kill: the test proved nothing"
    # Exactly once: one new-customer visit per customer with a purchase, KPI counts equal.
    assert now["new_customer_visits"] == now["customers_with_purchases"]
    assert kpi["customers"] == now["customers"]
    assert kpi["purchases"] == now["purchases"]

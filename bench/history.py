"""Section "history": the CPU of ``POST /customers/{id}/purchases`` does not grow with the
customer's history (issue #15: within 10% at 10 and at 10,000 earlier purchases).

The customer service runs in this process on the embedded default (SQLite file, as
``make run`` has it), driven through its WSGI app by Flask's test client. The figure is
``time.thread_time()`` around each request: the CPU of the thread that runs the app, which
on SQLite includes the database's own work (it runs in that thread), so a query that scans
a customer's purchases shows in it; background threads (the outbox relay) are left out.

Two customers: one with :data:`FEW` earlier purchases, one with :data:`MANY`, dated over the
last :data:`SPREAD_DAYS` days so both 12-month windows hold many. They are written in one
transaction per customer, each purchase row with the service's own
``purchase_sums.add`` (what ``record_purchase`` does, without grading each one: seeding
10,000 through the API takes minutes); one purchase through the API then grades the
customer. The measured requests
go in pairs, one for each customer, first one then the other in turn (so load on the
machine and cache effects fall on both alike); the
figures are the medians of the per-request CPU. For reference (no target here; the ratios to
the floor app are the floor section's), the same thread CPU of ``GET /customers/{id}`` and
``POST /customers`` in the same service. ``python -m bench --only history``.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from revisit_common.ids import new_id
from tests.support.client import TENANT, Client
from tests.support.clock import FakeClock
from tests.support.customers import ACME
from tests.support.service import service_runtime

from .context import Bench

SECTION = "history"
FEW, MANY = 10, 10_000
SPREAD_DAYS = 800
REQUESTS, QUICK_REQUESTS = 300, 80
RATIO_TARGET = 1.1
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _customer_spec():
    from customer_service.bootstrap import SPEC

    return SPEC


def purchase(client: Client, cid: str, at: datetime, amount: str) -> None:
    body = {"amount": amount, "product": "Pump X", "purchased_at": at.isoformat()}
    r = client.post(f"/api/v1/customers/{cid}/purchases", body)
    assert r.status_code == 201, r.json


def seed(rt, client: Client, cid: str, count: int, rng: random.Random) -> None:
    from customer_service import purchase_sums
    from customer_service.models import Customer, Purchase

    with rt.db.transaction() as session:
        for _ in range(count - 1):
            at = NOW - timedelta(minutes=rng.randrange(1, SPREAD_DAYS * 24 * 60))
            amount = Decimal(rng.randrange(10_000, 10_000_000)) / 100
            session.add(
                Purchase(
                    id=new_id(), tenant_id=TENANT, customer_id=cid, amount=amount,
                    product="Pump X", quantity=1, purchased_at=at, created_at=NOW,
                )
            )  # fmt: skip
            purchase_sums.add(session, cid, amount, at)
        session.get(Customer, cid).purchase_count = count - 1
    purchase(client, cid, NOW - timedelta(days=3), "99.00")


def thread_cpu(send, status: int) -> float:
    """CPU seconds of this thread for one request ``send()``, answered ``status``."""
    started = time.thread_time()
    r = send()
    spent = time.thread_time() - started
    assert r.status_code == status, r.json
    return spent


def request_cpu(client: Client, cid: str, n: int) -> float:
    """CPU seconds of this thread for one purchase request."""
    at = NOW - timedelta(hours=1 + n % 500)
    started = time.thread_time()
    purchase(client, cid, at, "125.50")
    return time.thread_time() - started


def run(bench: Bench) -> None:
    requests = QUICK_REQUESTS if bench.quick else REQUESTS
    rng = random.Random(15)
    with service_runtime(_customer_spec(), bench.workdir / SECTION, clock=FakeClock(NOW)) as rt:
        client = Client(rt.create_app())
        few = client.post("/api/v1/customers", ACME).json["id"]
        many = client.post("/api/v1/customers", ACME).json["id"]
        seeding = time.perf_counter()
        seed(rt, client, few, FEW, rng)
        seed(rt, client, many, MANY, rng)
        seeded_s = time.perf_counter() - seeding
        for n in range(20):  # warm-up: caches, statement compilation
            request_cpu(client, few if n % 2 else many, n)
        gc.collect()
        samples: dict[str, list[float]] = {few: [], many: []}
        for n in range(requests):  # pairs, in turn few-many and many-few
            for cid in (few, many) if n % 2 else (many, few):
                samples[cid].append(request_cpu(client, cid, n))
        reads = [
            thread_cpu(lambda: client.get(f"/api/v1/customers/{few}"), 200) for _ in range(requests)
        ]
        writes = [
            thread_cpu(lambda: client.post("/api/v1/customers", ACME), 201) for _ in range(requests)
        ]
    at_few = statistics.median(samples[few]) * 1000
    at_many = statistics.median(samples[many]) * 1000
    bench.extra[SECTION] = {
        "seed_s": seeded_s,
        "requests_each": requests,
        "median_ms": {str(FEW): at_few, str(MANY): at_many},
        "mean_ms": {
            str(FEW): statistics.fmean(samples[few]) * 1000,
            str(MANY): statistics.fmean(samples[many]) * 1000,
        },
    }
    note = "thread CPU per request, in process, SQLite; median of " + str(requests)
    bench.add(SECTION, f"POST purchase CPU, {FEW} earlier purchases", at_few, "ms", note=note)
    bench.add(SECTION, f"POST purchase CPU, {MANY:,} earlier purchases", at_many, "ms", note=note)
    bench.at_most(
        SECTION,
        f"POST purchase CPU {MANY:,} / {FEW} earlier purchases",
        at_many / at_few,
        RATIO_TARGET,
        "",
    )
    for name, spent in (("GET customer CPU", reads), ("POST customer CPU", writes)):
        bench.add(SECTION, name, statistics.median(spent) * 1000, "ms", note=note)

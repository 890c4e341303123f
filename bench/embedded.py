"""Section "embedded": the default ``make run`` (standalone: every service in one process
behind the gateway, SQLite files, in-memory bus) under 4 keep-alive clients.

The process is started as ``make run`` starts it (``python -m revisit_runner``) on a free
port with a data folder of its own. A tenant, its admin key and ``CUSTOMERS`` customers are
seeded; then ``CLIENTS`` closed-loop threads (one keep-alive ``http.client`` connection
each, the next request sent when the previous one is answered) send for ``seconds``:

* **write**: ``POST /api/v1/customers/{id}/purchases`` through the gateway (key lookup,
  rate limit, audit entry, the customer service's transaction with its outbox row, the
  events then relayed to the consumers of the other services in the same process), each
  client rotating over its own customers;
* **read**: ``GET /api/v1/customers/{id}`` through the gateway.

Target (issue #15): writes >= 300/s with p99 < 100 ms. Every write must be a 201; anything
else is counted and reported.

**Reference**, in the same run: the very same process, requests and clients with every
service's tables in PostgreSQL (``REVISIT_DATABASE_URL``, still the in-memory bus). It
changes only the storage, so the difference between the two is what SQLite (its single
writer per file, fsync on checkpoints) costs, and what they share is the rest of the
in-process path (HTTP, gateway, Python, the GIL on 2 cores).

CPU of the standalone process per request is reported too: it is steadier than the rates
on a shared machine.
"""

from __future__ import annotations

import http.client
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.standalone import Server

from . import closed_loop, procs
from .context import Bench
from .gateway import ADMIN, CLIENTS, CUSTOMER
from .stats import percentile

SECTION = "embedded"
CUSTOMERS = 16  # spread over the clients, so a customer's history grows slowly
TARGET_WRITES = 300.0
TARGET_P99_MS = 100.0
PURCHASE = json.dumps(
    {"amount": 1200, "product": "Pump X", "purchased_at": "2026-11-20T09:30:00+08:00"}
).encode()
WRITE = "POST /api/v1/customers/{id}/purchases"
READ = "GET /api/v1/customers/{id}"


@dataclass
class Tally:
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of 2xx answers
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0  # non-2xx answers and broken connections
    cpu: float = 0.0  # CPU seconds of the standalone process

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def ms(self, p: float) -> float | None:
        return percentile(self.latencies, p) * 1000 if self.latencies else None


# ---------------------------------------------------------------------------- the process


class Embedded(Server):
    """Standalone revisit (the command ``make run`` runs) on a free port, with its own data
    folder and a rate limit far above what 2 cores can send (the limiter still counts every
    request)."""

    def __init__(self, data_dir: Path, env: dict[str, str]):
        extra = {
            "REVISIT_ADMIN_TOKEN": ADMIN,
            "REVISIT_LOG_LEVEL": "WARNING",
            "REVISIT_RATE_LIMIT": "10000000/minute",
            **env,
        }
        super().__init__(data_dir, env=extra)


def request(port: int, method: str, path: str, headers=None, body=None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = None if body is None else json.dumps(body).encode()
        hdrs = dict(headers or {})
        if body is not None:
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        text = resp.read()
        return resp.status, (json.loads(text) if text else {})
    finally:
        conn.close()


def seed(port: int) -> tuple[dict[str, str], list[str]]:
    """A tenant: (its admin key's headers, ``CUSTOMERS`` customer ids)."""
    status, tenant = request(
        port, "POST", "/api/v1/tenants", {"Authorization": f"Bearer {ADMIN}"}, {"name": "Bench"}
    )
    if status != 201:
        raise RuntimeError(f"POST /api/v1/tenants: {status} {tenant}")
    headers = {"Authorization": f"Bearer {tenant['admin_key']}"}
    ids = []
    for _ in range(CUSTOMERS):
        status, customer = request(port, "POST", "/api/v1/customers", headers, CUSTOMER)
        if status != 201:
            raise RuntimeError(f"POST /api/v1/customers: {status} {customer}")
        ids.append(customer["id"])
    return headers, ids


# ---------------------------------------------------------------------------- the clients


def load(server: Embedded, method: str, paths: list[str], body, headers, seconds, tally):
    """``CLIENTS`` closed-loop threads for ``seconds``; client ``i`` sends to the paths
    ``i, i + CLIENTS, ...`` in turn. Results are added to ``tally``."""
    headers = {**headers, **({"Content-Type": "application/json"} if body else {})}
    mine = [paths[index::CLIENTS] or paths for index in range(CLIENTS)]
    turns = [0] * CLIENTS

    def next_request(index: int) -> closed_loop.Request:
        turns[index] += 1
        return method, mine[index][(turns[index] - 1) % len(mine[index])], body, headers

    def connect() -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    cpu_before = procs.tree_cpu_seconds(server.proc.pid)
    tally.seconds += closed_loop.run(CLIENTS, connect, next_request, seconds, tally)
    tally.cpu += procs.tree_cpu_seconds(server.proc.pid) - cpu_before


def measure(server: Embedded, seconds: float, warmup: float) -> dict[str, Tally]:
    headers, ids = seed(server.port)
    writes = [f"/api/v1/customers/{i}/purchases" for i in ids]
    reads = [f"/api/v1/customers/{i}" for i in ids]
    load(server, "POST", writes, PURCHASE, headers, warmup, Tally())
    tallies = {"write": Tally(), "read": Tally()}
    load(server, "POST", writes, PURCHASE, headers, seconds, tallies["write"])
    load(server, "GET", reads, None, headers, seconds, tallies["read"])
    return tallies


# ---------------------------------------------------------------------------- the section


def run(bench: Bench) -> None:
    seconds, warmup = (5.0, 1.0) if bench.quick else (15.0, 3.0)
    runs = {
        "sqlite": {},
        "postgresql": {"REVISIT_DATABASE_URL": bench.postgres_url},
    }
    results = {}
    for name, env in runs.items():
        server = Embedded(bench.workdir / f"embedded-{name}", env)
        try:
            server.start()
            results[name] = measure(server, seconds, warmup)
        finally:
            server.stop()
    report(bench, results, seconds)


def report(bench: Bench, results: dict[str, dict[str, Tally]], seconds: float) -> None:
    raw = {"clients": CLIENTS, "seconds": seconds, "write": WRITE, "read": READ}
    for name, tallies in results.items():
        for op, tally in tallies.items():
            count = max(1, len(tally.latencies) + tally.errors)
            raw[f"{name}/{op}"] = {
                "requests": len(tally.latencies),
                "errors": tally.errors,
                "statuses": tally.statuses,
                "rps": round(tally.rps, 1),
                "p50_ms": round(tally.ms(50), 2) if tally.latencies else None,
                "p99_ms": round(tally.ms(99), 2) if tally.latencies else None,
                "cpu_ms_per_request": round(tally.cpu * 1000 / count, 2),
            }
    note = f"{CLIENTS} clients, keep-alive, through the gateway"
    sqlite = results["sqlite"]
    write = sqlite["write"]
    errors = f"; {write.errors} non-2xx/errors" if write.errors else ""
    bench.at_least(SECTION, "write (SQLite)", write.rps, TARGET_WRITES, "req/s", note=note + errors)
    bench.at_most(SECTION, "write (SQLite) p99", write.ms(99) or float("inf"), TARGET_P99_MS, "ms")
    bench.add(SECTION, "write (SQLite) p50", write.ms(50), "ms")
    bench.add(SECTION, "read (SQLite)", sqlite["read"].rps, "req/s", note=note)
    bench.add(SECTION, "read (SQLite) p99", sqlite["read"].ms(99), "ms")
    for op in ("write", "read"):
        tally = sqlite[op]
        cpu = tally.cpu * 1000 / max(1, len(tally.latencies) + tally.errors)
        bench.add(SECTION, f"{op} (SQLite): process CPU", cpu, "ms/req")
    reference = results.get("postgresql")
    if reference:
        ref = "reference: the same process with PostgreSQL tables"
        bench.add(SECTION, "write (PostgreSQL)", reference["write"].rps, "req/s", note=ref)
        bench.add(SECTION, "write (PostgreSQL) p99", reference["write"].ms(99), "ms")
        bench.add(SECTION, "read (PostgreSQL)", reference["read"].rps, "req/s", note=ref)
    raw["load_after"] = os.getloadavg()
    bench.extra[SECTION] = raw

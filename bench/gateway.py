"""Section "gateway": what the gateway costs on top of calling a service directly.

The distributed topology runs natively (``tests.faults.harness.NativeStack``: every role of
``revisit_runner.stack`` as its own process, gunicorn web processes with the default
settings) against this run's vhost and database. One read (``GET /api/v1/customers/{id}``)
and one write (``POST /api/v1/customers``) are sent by the same client to two targets:

* **gateway**: with the API key, through the gateway (key lookup, rate limit, role table,
  audit entry for the write, HTTP hop to the customer service);
* **direct**: straight to the customer service's web process, with the headers the
  gateway would send (internal token and identity, ``revisit_common.identity``).

The client is cheap (it shares the 2 cores): ``CLIENTS`` threads, each one keep-alive
``http.client`` connection, each sending its next request when the previous one is answered
(closed loop, so both targets see the same concurrency). Targets alternate in short rounds
(A/B/B/A ...) so that the noise of a shared machine falls on both alike.

**Overhead** (the figure with the issue's target, <= 0.15: issue #15, done-when 7):
``direct rps / gateway rps - 1`` at the same client concurrency, over all rounds; 0.15
means the gateway path serves 13% fewer requests a second than calling the service
directly. Since the machine is shared, the CPU
time each web process used per request (its whole process tree, recycled workers included)
is reported too: it is steadier than the rates and tells where the time goes. Raw data
(per-round rates, p50, CPU of PostgreSQL and of the client) is in ``latest.json``.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlparse

from . import closed_loop, procs
from .context import Bench
from .stats import percentile

SECTION = "gateway"
TARGET_OVERHEAD = 0.15  # issue #15, done-when 7 (it was 0.25)
CLIENTS = 4  # client threads = requests in flight
ADMIN = "rva_" + secrets.token_urlsafe(24)
CUSTOMER = {
    "name": "Bench Trading",
    "type": "dealer",
    "region": "east",
    "owner": "li.wei",
    "annual_purchase_amount": 500000,
    "cooperation_start": "2019-03-01",
}
CUSTOMER_BODY = json.dumps(CUSTOMER).encode()


@dataclass
class Target:
    name: str
    host: str
    port: int
    headers: dict[str, str]


@dataclass
class Tally:
    """Every answer of one (operation, target) over all its rounds."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # of 2xx answers
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # process -> CPU seconds
    rounds: list[float] = field(default_factory=list)  # rps of each round

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


# ---------------------------------------------------------------------------- the client


def _connect(target: Target) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection(target.host, target.port, timeout=30)
    conn.connect()
    return conn


def load(target: Target, method: str, path: str, body: bytes | None, seconds: float, tally):
    """``CLIENTS`` closed-loop threads for ``seconds``; results added to ``tally``."""
    headers = dict(target.headers)
    if body is not None:
        headers["Content-Type"] = "application/json"
    before = len(tally.latencies)
    took = closed_loop.run(
        CLIENTS, lambda: _connect(target), lambda _: (method, path, body, headers), seconds, tally
    )
    tally.seconds += took
    tally.rounds.append((len(tally.latencies) - before) / took)


# ---------------------------------------------------------------------------- CPU accounting


def _cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    snap = {name: procs.tree_cpu_seconds(pid) for name, pid in pids.items()}
    snap["postgres (whole server)"] = procs.server_cpu_seconds("postgres")
    snap["client"] = sum(os.times()[:2])
    return snap


# ---------------------------------------------------------------------------- the stack


def _stack(bench: Bench):
    from tests.faults.harness import NativeStack

    prefix = f"b{secrets.token_hex(3)}"
    env = {
        "REVISIT_AMQP_URL": bench.amqp_url,
        "REVISIT_DATABASE_URL": bench.postgres_url,
        "REVISIT_DB_SCHEMA_PREFIX": f"{prefix}_",
        "REVISIT_QUEUE_PREFIX": prefix,
        "REVISIT_ADMIN_TOKEN": ADMIN,
        "REVISIT_INTERNAL_TOKEN": secrets.token_urlsafe(32),
        "REVISIT_DATA_DIR": str(bench.workdir / "gateway-var"),
        "REVISIT_LOG_LEVEL": "WARNING",
        # Far above what 2 cores can send: the limiter still counts every request.
        "REVISIT_RATE_LIMIT": "10000000/minute",
    }
    return NativeStack(env, bench.workdir / "gateway-logs")


def _request(base: str, method: str, path: str, headers: dict, body=None) -> dict:
    parsed = urlparse(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        data = None if body is None else json.dumps(body).encode()
        hdrs = {**headers, **({"Content-Type": "application/json"} if body is not None else {})}
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        text = resp.read()
        if resp.status >= 300:
            raise RuntimeError(f"{method} {path}: {resp.status} {text[:300]!r}")
        return json.loads(text) if text else {}
    finally:
        conn.close()


def _targets(stack, key: str, internal_token: str) -> tuple[Target, Target, str]:
    from revisit_common.identity import Identity

    gateway = urlparse(stack.gateway)
    bearer = {"Authorization": f"Bearer {key}"}
    me = _request(stack.gateway, "GET", "/api/v1/tenants/current", bearer)
    keys = _request(stack.gateway, "GET", "/api/v1/api-keys", bearer)["items"]
    mine = next(k for k in keys if k["role"] == "admin" and k.get("revoked_at") is None)
    identity = Identity(tenant_id=me["id"], role="admin", actor=mine["id"])
    customer = urlparse(stack.web_url("customer"))
    through = Target("gateway", gateway.hostname, gateway.port, bearer)
    direct = Target("direct", customer.hostname, customer.port, identity.headers(internal_token))
    seeded = _request(stack.gateway, "POST", "/api/v1/customers", bearer, CUSTOMER)
    return through, direct, seeded["id"]


# ---------------------------------------------------------------------------- the section


def run(bench: Bench) -> None:
    from tests.faults.harness import new_tenant

    rounds, seconds, warmup = (2, 1.0, 1.0) if bench.quick else (8, 2.5, 2.0)
    stack = _stack(bench)
    try:
        stack.start()
        _, key = new_tenant(stack.gateway, ADMIN, "Bench gateway")
        through, direct, customer_id = _targets(stack, key, stack.env["REVISIT_INTERNAL_TOKEN"])
        pids = {
            "gateway-web": stack.procs["gateway-web"].proc.pid,
            "customer-web": stack.procs["customer-web"].proc.pid,
        }
        operations = {
            "read": ("GET", f"/api/v1/customers/{customer_id}", None),
            "write": ("POST", "/api/v1/customers", CUSTOMER_BODY),
        }
        tallies: dict[tuple[str, str], Tally] = {}
        for op, (method, path, body) in operations.items():
            for target in (through, direct):  # warm both (connections, caches, JIT-less)
                load(target, method, path, body, warmup, Tally())
            for index in range(rounds):
                order = (through, direct) if index % 2 == 0 else (direct, through)
                for target in order:
                    tally = tallies.setdefault((op, target.name), Tally())
                    before = _cpu_snapshot(pids)
                    load(target, method, path, body, seconds, tally)
                    after = _cpu_snapshot(pids)
                    for name, used in after.items():
                        tally.cpu[name] = tally.cpu.get(name, 0.0) + used - before[name]
        memory = {name: procs.tree_peak_mb(pid) for name, pid in pids.items()}
    finally:
        stack.stop()
    _report(bench, tallies, memory, rounds, seconds)


def _report(bench: Bench, tallies, memory, rounds: int, seconds: float) -> None:
    raw = {
        "load_after": os.getloadavg(),
        "clients": CLIENTS,
        "rounds": rounds,
        "seconds_per_round": seconds,
        "write": "POST /api/v1/customers",
        "read": "GET /api/v1/customers/{id}",
    }
    for op in ("read", "write"):
        gw, dr = tallies[(op, "gateway")], tallies[(op, "direct")]
        for tally, name in ((gw, "gateway"), (dr, "direct")):
            p99 = percentile(tally.latencies, 99) * 1000 if tally.latencies else None
            note = f"{CLIENTS} clients, keep-alive" + (
                f"; {tally.errors} non-2xx/errors" if tally.errors else ""
            )
            bench.add(SECTION, f"{op} via {name}", tally.rps, "req/s", note=note)
            bench.add(SECTION, f"{op} via {name} p99", p99, "ms")
            count = max(1, len(tally.latencies) + tally.errors)
            raw[f"{op}/{name}"] = {
                "requests": len(tally.latencies),
                "errors": tally.errors,
                "statuses": tally.statuses,
                "seconds": round(tally.seconds, 2),
                "rps": round(tally.rps, 1),
                "rps_per_round": [round(r, 1) for r in tally.rounds],
                "p50_ms": round(percentile(tally.latencies, 50) * 1000, 2)
                if tally.latencies
                else None,
                "p99_ms": round(percentile(tally.latencies, 99) * 1000, 2)
                if tally.latencies
                else None,
                "cpu_ms_per_request": {k: round(v * 1000 / count, 2) for k, v in tally.cpu.items()},
            }
        overhead = dr.rps / gw.rps - 1 if gw.rps else float("inf")
        per_round = [d / g - 1 for g, d in zip(gw.rounds, dr.rounds, strict=False) if g]
        raw[f"{op}/overhead_per_round"] = [round(x, 3) for x in per_round]
        for name, tally in (("gateway", gw), ("direct", dr)):
            count = max(1, len(tally.latencies) + tally.errors)
            for process in ("gateway-web", "customer-web"):
                if name == "direct" and process == "gateway-web":
                    continue
                bench.add(
                    SECTION,
                    f"{op} via {name}: {process} CPU",
                    tally.cpu.get(process, 0.0) * 1000 / count,
                    "ms/req",
                )
        # The CPU the gateway adds to a request, against what the direct path costs in the
        # processes of this run (the service's and the client's; PostgreSQL is left out: its
        # server-wide CPU includes whatever else the machine runs). On a machine whose cores
        # are all busy the overhead tends to this share; it is steadier than the rates.
        gw_count = max(1, len(gw.latencies) + gw.errors)
        dr_count = max(1, len(dr.latencies) + dr.errors)
        direct_cpu = (dr.cpu.get("customer-web", 0.0) + dr.cpu.get("client", 0.0)) / dr_count
        if direct_cpu > 0:
            bench.add(
                SECTION,
                f"{op}: gateway CPU / direct CPU",
                gw.cpu.get("gateway-web", 0.0) / gw_count / direct_cpu,
                "",
                note="gateway-web CPU per request / (customer-web + client) CPU per direct one",
            )
        bench.at_most(
            SECTION,
            f"{op} overhead",
            overhead,
            TARGET_OVERHEAD,
            "",
            note=f"direct rps / gateway rps - 1, {CLIENTS} clients each, {rounds} A/B rounds",
        )
    for name, mb in memory.items():
        bench.add("memory", f"{name} peak", mb, "MiB", note="largest process of the tree (VmHWM)")
    bench.extra[SECTION] = raw

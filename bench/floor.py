"""Section "floor": what a service request costs next to the floor of our stack.

The floor (:mod:`bench.floor_app`) is plain Flask + psycopg doing the same database work —
the same rows read or written: the entity row(s) plus one outbox row — served by gunicorn
with the services' own settings (``revisit_runner.gunicorn_conf``). The services run as in
section "gateway" (``tests.faults.harness.NativeStack``) and are called directly, with the
headers the gateway sends (internal token and identity). Five requests:

* GET customer (``GET /api/v1/customers/{id}``, customer service);
* POST purchase (``POST /api/v1/customers/{id}/purchases``, customer service);
* POST customer (``POST /api/v1/customers``, customer service);
* POST complaint (``POST /api/v1/complaints``, complaint service);
* POST visit complete (``POST /api/v1/visits/{id}/complete``, visit service; each request
  completes another planned visit, made beforehand).

Same closed-loop client as section "gateway" (``CLIENTS`` keep-alive connections), service
and floor alternating in A/B rounds. The figure with the issue's target is the **ratio** of
CPU time per request of the web process tree (workers, recycled ones included):
service / floor, at most 1.5 for the read and 2 for each write. Rates, p50 and the CPU of
PostgreSQL per request are in ``latest.json``.

The stack's worker processes (relays, consumers: what a write sets off downstream, measured
in section "pipeline") are paused during every measured round, the floor's as well as the
service's, and run between rounds. Left running, they shared the 2 cores with the service's
rounds only (the floor writes no events anyone consumes): a service write then cost 1.5x the
CPU it costs alone (POST customer 3.9 against 2.6 ms of the web process on one machine, the
same load with the workers running and paused) and waited for the cores (80 writes/s
against 330).
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from . import closed_loop, floor_app, procs
from .context import Bench
from .gateway import CLIENTS, CUSTOMER, CUSTOMER_BODY, Tally, Target, _connect, _request
from .stats import percentile

SECTION = "floor"
REPO = Path(__file__).resolve().parent.parent
PURCHASE = {"amount": 1200, "product": "Pump X", "purchased_at": "2026-11-20T09:30:00+08:00"}
COMPLAINT = {
    "channel": "phone",
    "severity": "general",
    "category": "product_quality",
    "department": "product",
    "description": "The pump stopped after two days.",
}
COMPLETE_BODY = json.dumps({"satisfaction": "satisfied"}).encode()
TARGETS = {"GET customer": 1.5}  # every other request: 2
WRITE_TARGET = 2.0


@dataclass
class Operation:
    """One request, as sent to the service and to the floor: ``paths`` gives the next path
    (None: nothing left to send)."""

    name: str
    method: str
    body: bytes | None
    service: str  # whose web process serves it
    paths: dict[str, object]  # target name -> callable returning the next path or None


def _fixed(path: str):
    return lambda: path


def _each_of(paths: list[str]):
    source = iter(paths)
    lock = threading.Lock()

    def next_path():
        with lock:
            return next(source, None)

    return next_path


# ---------------------------------------------------------------------------- the client


def load(target: Target, op: Operation, seconds: float, tally: Tally) -> None:
    """``CLIENTS`` closed-loop threads sending ``op`` for ``seconds`` (or until it has no
    path left); results added to ``tally``."""
    headers = dict(target.headers)
    if op.body is not None:
        headers["Content-Type"] = "application/json"
    next_path = op.paths[target.name]

    def next_request(_: int) -> closed_loop.Request | None:
        path = next_path()
        return None if path is None else (op.method, path, op.body, headers)

    before = len(tally.latencies)
    took = closed_loop.run(CLIENTS, lambda: _connect(target), next_request, seconds, tally)
    tally.seconds += took
    tally.rounds.append((len(tally.latencies) - before) / took)


def _parallel(count: int, make) -> list:
    """``make(i)`` for i < ``count``, on ``CLIENTS`` threads; the results in order."""
    out: list = [None] * count
    counter = itertools.count()

    def work():
        while (i := next(counter)) < count:
            out[i] = make(i)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


# ---------------------------------------------------------------------------- the floor


def _start_floor(bench: Bench, token: str) -> tuple[subprocess.Popen, int]:
    port = procs.free_port()
    env = {
        **os.environ,
        "FLOOR_DATABASE_URL": bench.postgres_url,
        "FLOOR_INTERNAL_TOKEN": token,
        "REVISIT_BIND": f"127.0.0.1:{port}",
        "PROMETHEUS_MULTIPROC_DIR": str(bench.workdir / "floor-metrics"),
        "PYTHONPATH": str(REPO),
    }
    log = open(bench.workdir / "floor.log", "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:revisit_runner.gunicorn_conf"]
        + ["bench.floor_app:app"],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the floor app exited ({proc.returncode}); see floor.log")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/customers/none")
            conn.getresponse().read()
            conn.close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise RuntimeError("the floor app did not answer within 60 s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# ---------------------------------------------------------------------------- the section


def _stack(bench: Bench):
    from .gateway import _stack as gateway_stack

    return gateway_stack(bench)


def _operations(stack, bench, token, floor_port, visits_needed: int):
    from revisit_common.identity import Identity
    from tests.faults.harness import new_tenant

    from .gateway import ADMIN

    tenant, key = new_tenant(stack.gateway, ADMIN, "Bench floor")
    bearer = {"Authorization": f"Bearer {key}"}
    keys = _request(stack.gateway, "GET", "/api/v1/api-keys", bearer)["items"]
    mine = next(k for k in keys if k["role"] == "admin" and k.get("revoked_at") is None)
    # As the gateway sends them: a new tenant's settings are at version 1.
    caller = Identity(tenant_id=tenant, role="admin", actor=mine["id"], settings_version=1)
    headers = caller.headers(token)
    targets = {}
    for service in ("customer", "complaint", "visit"):
        url = urlparse(stack.web_url(service))
        targets[service] = Target("service", url.hostname, url.port, headers)
    floor = Target("floor", "127.0.0.1", floor_port, headers)
    base = stack.web_url("customer")
    customer = _request(base, "POST", "/api/v1/customers", headers, CUSTOMER)["id"]
    floor_base = f"http://127.0.0.1:{floor_port}"
    floor_customer = _request(floor_base, "POST", "/customers", headers, CUSTOMER)["id"]
    visit_base = stack.web_url("visit")
    visits = _parallel(
        visits_needed,
        lambda i: _request(
            visit_base,
            "POST",
            "/api/v1/visits",
            headers,
            {"customer_id": customer, "reason": "repair", "trigger": f"bench-{i}"},
        )["id"],
    )
    floor_visits = floor_app.add_visits(bench.postgres_url, tenant, floor_customer, 20_000)
    complaint = json.dumps({"customer_id": customer, **COMPLAINT}).encode()
    purchase = json.dumps(PURCHASE).encode()
    ops = [
        Operation(
            "GET customer",
            "GET",
            None,
            "customer",
            {
                "service": _fixed(f"/api/v1/customers/{customer}"),
                "floor": _fixed(f"/customers/{floor_customer}"),
            },
        ),
        Operation(
            "POST purchase",
            "POST",
            purchase,
            "customer",
            {
                "service": _fixed(f"/api/v1/customers/{customer}/purchases"),
                "floor": _fixed(f"/customers/{floor_customer}/purchases"),
            },
        ),
        Operation(
            "POST customer",
            "POST",
            CUSTOMER_BODY,
            "customer",
            {"service": _fixed("/api/v1/customers"), "floor": _fixed("/customers")},
        ),
        Operation(
            "POST complaint",
            "POST",
            complaint,
            "complaint",
            {"service": _fixed("/api/v1/complaints"), "floor": _fixed("/complaints")},
        ),
        Operation(
            "POST visit complete",
            "POST",
            COMPLETE_BODY,
            "visit",
            {
                "service": _each_of([f"/api/v1/visits/{v}/complete" for v in visits]),
                "floor": _each_of([f"/visits/{v}/complete" for v in floor_visits]),
            },
        ),
    ]
    return ops, targets, floor


def run(bench: Bench) -> None:
    rounds, seconds, warmup = (2, 1.0, 0.5) if bench.quick else (4, 2.5, 1.5)
    visits_needed = 500 if bench.quick else 8000  # 2,000 ran out after two rounds (~500/s)
    token = secrets.token_urlsafe(32)
    floor_app.create_schema(bench.postgres_url)
    stack = _stack(bench)
    stack.env["REVISIT_INTERNAL_TOKEN"] = token
    floor_proc = None
    try:
        stack.start()
        floor_proc, floor_port = _start_floor(bench, token)
        ops, targets, floor = _operations(stack, bench, token, floor_port, visits_needed)
        pids = {"floor": floor_proc.pid}
        for service in targets:
            pids[service] = stack.procs[f"{service}-web"].proc.pid
        idle = _idle_cpu(pids, 1.0 if bench.quick else 3.0)
        workers = _workers(stack)
        tallies: dict[tuple[str, str], Tally] = {}
        for op in ops:
            service = targets[op.service]
            for target in (service, floor):
                load(target, op, warmup, Tally())
            for index in range(rounds):
                order = (service, floor) if index % 2 == 0 else (floor, service)
                for target in order:
                    tally = tallies.setdefault((op.name, target.name), Tally())
                    process = op.service if target is service else "floor"
                    with procs.paused(workers):
                        before = _cpu(pids[process])
                        load(target, op, seconds, tally)
                        after = _cpu(pids[process])
                    for name, used in after.items():
                        tally.cpu[name] = tally.cpu.get(name, 0.0) + used - before[name]
    finally:
        if floor_proc is not None:
            _stop(floor_proc)
        stack.stop()
    _report(bench, ops, tallies, rounds, seconds)
    bench.extra[SECTION]["idle_cpu_ms_per_s"] = idle


def _workers(stack) -> list[int]:
    """The process groups of the stack's workers (relays, consumers, jobs): paused in every
    measured round, of the service and of the floor alike (:func:`run`)."""
    return [
        proc.proc.pid
        for name, proc in stack.procs.items()
        if name.endswith("-worker") and proc.proc is not None
    ]


def _idle_cpu(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """CPU milliseconds per second each web process tree uses with no request (gunicorn's
    own loop): part of every figure per request, the more so the fewer requests a second."""
    before = {name: procs.tree_cpu_seconds(pid) for name, pid in pids.items()}
    time.sleep(seconds)
    after = {name: procs.tree_cpu_seconds(pid) for name, pid in pids.items()}
    return {name: round((after[name] - before[name]) * 1000 / seconds, 2) for name in pids}


def _cpu(pid: int) -> dict[str, float]:
    return {"web": procs.tree_cpu_seconds(pid), "postgres": procs.server_cpu_seconds("postgres")}


def _report(bench: Bench, ops, tallies, rounds: int, seconds: float) -> None:
    raw = {"load_after": os.getloadavg(), "clients": CLIENTS, "rounds": rounds}
    for op in ops:
        per_request = {}
        for name in ("service", "floor"):
            tally = tallies[(op.name, name)]
            count = max(1, len(tally.latencies) + tally.errors)
            per_request[name] = tally.cpu.get("web", 0.0) * 1000 / count
            raw[f"{op.name}/{name}"] = {
                "requests": len(tally.latencies),
                "errors": tally.errors,
                "statuses": tally.statuses,
                "rps": round(tally.rps, 1),
                "rps_per_round": [round(r, 1) for r in tally.rounds],
                "p50_ms": round(percentile(tally.latencies, 50) * 1000, 2)
                if tally.latencies
                else None,
                "cpu_ms_per_request": {k: round(v * 1000 / count, 3) for k, v in tally.cpu.items()},
            }
            label = "service" if name == "service" else "floor"
            errors = f"; {tally.errors} non-2xx/errors" if tally.errors else ""
            bench.add(
                SECTION,
                f"{op.name}: {label} CPU",
                per_request[name],
                "ms/req",
                note=f"web process tree, {CLIENTS} clients{errors}" if errors else "",
            )
        ratio = per_request["service"] / per_request["floor"] if per_request["floor"] else 0.0
        bound = TARGETS.get(op.name, WRITE_TARGET)
        bench.at_most(
            SECTION,
            f"{op.name}: CPU ratio",
            ratio,
            bound,
            "x",
            note=f"service / floor CPU per request, {rounds} A/B rounds of {seconds:g} s",
        )
    bench.extra[SECTION] = raw

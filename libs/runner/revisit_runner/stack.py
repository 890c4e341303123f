"""The distributed topology, natively: one process per role, against real servers.

    REVISIT_AMQP_URL=amqp://guest:guest@127.0.0.1:5672// \
    REVISIT_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/revisit \
    python -m revisit_runner.stack

For every backend service a gunicorn web process (ports 8101, 8102, ... or from
REVISIT_STACK_BASE_PORT) and a worker process (relay + consumers + periodic jobs); the
gateway's web process on REVISIT_PORT (8080), served by waitress as standalone mode is
(:mod:`.edge`: slow clients hold no thread), and its worker. Every process's output is
prefixed with its name. SIGINT/SIGTERM stops them all; if one dies, the others are stopped
and the stack exits non-zero.

PostgreSQL connections are bounded (:func:`connections`): unless the environment says
otherwise, one gunicorn worker per service and a pool of 1 + 1 per process, at most 43 in
all, and the stack refuses to start when its worst case is over
REVISIT_STACK_MAX_DB_CONNECTIONS (default 100, PostgreSQL's default max_connections).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .services import BACKEND_NAMES, NAMES


@dataclass
class Role:
    name: str
    argv: list[str]
    env: dict[str, str]
    metrics_port: int | None = None  # a worker's /metrics


# A worker serves /metrics (bearer REVISIT_METRICS_TOKEN or the platform token) on
# REVISIT_STACK_METRICS_BASE_PORT (default: the base port + 100) + its index in NAMES:
# 8201 gateway, 8202 customer, ...
METRICS_PORT_OFFSET = 100

# What the stack's processes get unless the environment sets them (empty counts as unset):
# a laptop's PostgreSQL (100 connections) keeps room for the test suite beside the stack.
# Two kept connections rather than one plus an overflow one: SQLAlchemy closes an overflow
# connection when it is returned, so 1 + 1 opened a new connection (0.8 ms of the web
# process's CPU, and a new backend) for about one GET in twelve under 4 clients.
DEFAULTS = {"WEB_CONCURRENCY": "1", "REVISIT_DB_POOL_SIZE": "2", "REVISIT_DB_MAX_OVERFLOW": "0"}
GATEWAY_THREADS = 8  # edge.py's default (REVISIT_WEB_THREADS)
MAX_CONNECTIONS = 100  # REVISIT_STACK_MAX_DB_CONNECTIONS


def with_defaults(env: dict[str, str]) -> dict[str, str]:
    return {**env, **{name: value for name, value in DEFAULTS.items() if not env.get(name)}}


def connections(env: dict[str, str]) -> int:
    """The most PostgreSQL connections the stack's processes can hold at once with ``env``:
    per backend service its gunicorn workers' pools; the gateway's pool plus one per thread
    (key lookups and audit entries); per worker its pool plus the outbox LISTEN. The
    migrations run, and end, before any of them starts."""
    env = with_defaults(env)
    pool = int(env["REVISIT_DB_POOL_SIZE"]) + int(env["REVISIT_DB_MAX_OVERFLOW"])
    threads = int(env.get("REVISIT_WEB_THREADS") or GATEWAY_THREADS)
    web = len(BACKEND_NAMES) * int(env["WEB_CONCURRENCY"]) * pool + pool + threads
    return web + len(NAMES) * (pool + 1)


def worker_metrics_ports(metrics_base_port: int) -> dict[str, int]:
    return {name: metrics_base_port + i for i, name in enumerate(NAMES)}


def roles(env: dict[str, str], base_port: int = 8101) -> list[Role]:
    host = env.get("REVISIT_HOST", "127.0.0.1")
    gateway_port = env.get("REVISIT_PORT", "8080")
    ports = {name: base_port + i for i, name in enumerate(BACKEND_NAMES)}
    shared = with_defaults(env)
    shared.setdefault("REVISIT_INTERNAL_TOKEN", secrets.token_urlsafe(32))
    for name, port in ports.items():
        shared[f"REVISIT_{name.upper()}_URL"] = f"http://{host}:{port}"
    shared["REVISIT_GATEWAY_URL"] = f"http://{host}:{gateway_port}"  # services read settings
    result = []
    metrics_base = env.get("REVISIT_STACK_METRICS_BASE_PORT")
    worker_ports = worker_metrics_ports(
        int(metrics_base) if metrics_base else base_port + METRICS_PORT_OFFSET
    )
    for name in NAMES:
        port = gateway_port if name == "gateway" else str(ports[name])
        metrics_dir = Path(env.get("REVISIT_DATA_DIR", "var")).resolve() / "metrics" / name
        web_env = {
            **shared,
            "REVISIT_BIND": f"{host}:{port}",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        }
        if name == "gateway":  # the public edge: holds slow clients (edge.py)
            web = [sys.executable, "-m", "revisit_runner.edge", name]
        else:  # reached only by the gateway, which sends each request whole
            web = [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:revisit_runner.gunicorn_conf",
                f"revisit_runner.web:app({name!r})",
            ]
        result.append(Role(f"{name}-web", web, web_env))
        worker = [sys.executable, "-m", "revisit_runner.worker"]
        worker += ["--metrics-port", str(worker_ports[name]), "--metrics-host", host, name]
        result.append(Role(f"{name}-worker", worker, shared, worker_ports[name]))
    return result


def _pump(name: str, stream) -> None:
    for line in iter(stream.readline, b""):
        sys.stdout.write(f"{name:>18} | {line.decode(errors='replace')}")
        sys.stdout.flush()


def main() -> int:
    env = dict(os.environ)
    if not env.get("REVISIT_AMQP_URL") or not (
        env.get("REVISIT_DATABASE_URL")
        or all(env.get(f"REVISIT_{n.upper()}_DATABASE_URL") for n in NAMES)
    ):
        print("the stack needs REVISIT_AMQP_URL and REVISIT_DATABASE_URL", file=sys.stderr)
        return 2
    if not env.get("REVISIT_ADMIN_TOKEN"):
        env["REVISIT_ADMIN_TOKEN"] = "rva_" + secrets.token_urlsafe(32)
        print(
            f"stack: this run's platform token is:\n    {env['REVISIT_ADMIN_TOKEN']}",
            file=sys.stderr,
            flush=True,
        )
    worst = connections(env)
    limit = int(env.get("REVISIT_STACK_MAX_DB_CONNECTIONS") or MAX_CONNECTIONS)
    print(f"stack: at most {worst} PostgreSQL connections (of {limit})", file=sys.stderr)
    if worst > limit:
        print(
            "stack: over REVISIT_STACK_MAX_DB_CONNECTIONS; lower REVISIT_DB_POOL_SIZE, "
            "REVISIT_DB_MAX_OVERFLOW or WEB_CONCURRENCY",
            file=sys.stderr,
        )
        return 2
    subprocess.run([sys.executable, "-m", "revisit_runner.migrate", "all"], env=env, check=True)
    procs: list[tuple[str, subprocess.Popen]] = []
    stopping = threading.Event()

    def stop(*_):
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for role in roles(env, int(env.get("REVISIT_STACK_BASE_PORT") or 8101)):
        proc = subprocess.Popen(
            role.argv, env=role.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        threading.Thread(target=_pump, args=(role.name, proc.stdout), daemon=True).start()
        procs.append((role.name, proc))
    code = 0
    while not stopping.is_set():
        for name, proc in procs:
            if proc.poll() is not None:
                print(f"stack: {name} exited with {proc.returncode}; stopping", file=sys.stderr)
                code = 1
                stopping.set()
        time.sleep(0.2)
    for _, proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 15
    for _, proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())

"""What the fault tests drive: the native stack role by role, a TCP proxy that can cut or
freeze a link, the broker (rabbitmqctl), a pool of HTTP writers, and the figures each test
reports.

The stack is the one of issue #5 (``revisit_runner.stack.roles``: a gunicorn web process and
a worker process per service), started here one process per role so a test can kill,
restart or re-configure a single role; workers also serve ``/metrics`` on a port of their own.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from revisit_runner.stack import Role, roles
from tests.support.client import ADMIN
from tests.support.ports import free_block, free_port
from tests.support.stack import SERVICES
from tests.support.standalone import REPO

RESULTS = Path(__file__).parent / "results" / "latest.json"
# The node the broker faults act on: the session's private node (tests/faults/conftest.py).
RABBITMQCTL = ["rabbitmqctl"]
DEFAULT_WATERMARK = "0.4"
# The deployment region of every process the fault tests start, and the /metrics token of
# the fault stack's roles (which accept the platform token, ADMIN, too: what scrape()
# sends). The stack starts with both, so the dashboard test scrapes it as it runs instead
# of restarting its fourteen roles twice (~25 CPU-s a time).
REGION = "eu-test"
METRICS_TOKEN = "metrics-token-for-the-dashboard-test"


# -- figures ---------------------------------------------------------------------------


def report(test: str, **figures) -> dict:
    """Print one line of figures and keep them in ``results/latest.json``."""
    line = ", ".join(f"{k}={_fmt(v)}" for k, v in figures.items())
    print(f"\n[faults] {test}: {line}", flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    try:
        doc = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        doc = {}
    doc[test] = {**figures, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    RESULTS.write_text(json.dumps(doc, indent=2, sort_keys=True, default=str) + "\n")
    return figures


def _fmt(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def wait_for(probe: Callable, timeout: float, message, interval: float = 0.2):
    """The first truthy value of ``probe()``; AssertionError after ``timeout`` seconds.

    Exceptions from the probe (a service still down) count as "not yet". ``message`` may be
    a callable, called only on failure (e.g. to collect a process's output).
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = probe()
            if last:
                return last
        except Exception as exc:  # noqa: BLE001 - not there yet; reported if it never is
            last = exc
        if time.monotonic() >= deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"{text}: not within {timeout} s (last: {last!r})")
        time.sleep(interval)


# -- ports, processes ------------------------------------------------------------------


def python_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child process that can import ``tests.*`` from the repo."""
    env = {**os.environ, **(extra or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    """Signal a process started in its own session (and its children); wait for it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


def scrape(url: str, token: str = ADMIN) -> dict[tuple, float]:
    """A /metrics page as {(sample name, sorted labels...): value}, scraped with ``token``
    (the platform token of the fault stack) as Prometheus would."""
    response = requests.get(url, timeout=5, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    text = response.text
    out: dict[tuple, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, *sorted(sample.labels.items()))] = sample.value
    return out


def metric_sum(samples: dict[tuple, float], name: str, **labels) -> float:
    """The sum of the samples named ``name`` whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, *lab), v in samples.items() if n == name and want <= set(lab))


# -- the native stack ------------------------------------------------------------------


@dataclass
class Proc:
    role: Role
    log: Path
    proc: subprocess.Popen | None = None
    metrics_port: int | None = None


@dataclass
class NativeStack:
    """Every role of ``revisit_runner.stack`` as its own process, controllable one by one."""

    env: dict[str, str]
    workdir: Path
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)  # role -> env
    procs: dict[str, Proc] = field(default_factory=dict)
    base_port: int = 0
    gateway_port: int = 0

    # ---- start / stop

    def start(self, timeout: float = 240) -> NativeStack:
        self.base_port = free_block(len(SERVICES) + 1)
        self.gateway_port = self.base_port + len(SERVICES)
        self.env["REVISIT_PORT"] = str(self.gateway_port)
        self.env["REVISIT_STACK_BASE_PORT"] = str(self.base_port)
        self.workdir.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "revisit_runner.migrate", "all"],
            env=python_env(self.env),
            check=True,
            capture_output=True,
        )
        for role in roles(python_env(self.env), self.base_port):
            proc = Proc(role, self.workdir / f"{role.name}.log")
            if role.name.endswith("-worker"):
                proc.metrics_port = free_port()
            self.procs[role.name] = proc
            self.start_role(role.name)
        self.wait_ready(timeout)
        return self

    def start_role(self, name: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """(Re)start one role, with ``env`` added to its environment for this run only."""
        proc = self.procs[name]
        assert proc.proc is None or proc.proc.poll() is not None, f"{name} is running"
        argv = list(proc.role.argv)
        if proc.metrics_port:
            argv += ["--metrics-port", str(proc.metrics_port), "--metrics-host", "127.0.0.1"]
        role_env = {**proc.role.env, **self.overrides.get(name, {}), **(env or {})}
        with open(proc.log, "a") as log:
            log.write(f"\n==== start {name} {time.strftime('%H:%M:%S')} env+={env or {}}\n")
            log.flush()
            proc.proc = subprocess.Popen(
                argv,
                env=role_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                start_new_session=True,
            )
        return proc.proc

    def stop_role(self, name: str, sig: int = signal.SIGTERM) -> int | None:
        proc = self.procs[name].proc
        return None if proc is None else stop_process(proc, sig)

    def stop_roles(self, names) -> None:
        """SIGTERM every role of ``names`` at once, then wait for each (their graceful
        stops overlap instead of adding up)."""
        procs = [self.procs[name].proc for name in names]
        for proc in procs:
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            if proc is not None:
                stop_process(proc)

    def kill_role(self, name: str) -> int | None:
        """SIGKILL, no goodbye: what the OOM killer or a node failure does."""
        return self.stop_role(name, signal.SIGKILL)

    def wait_exit(self, name: str, timeout: float) -> int:
        proc = self.procs[name].proc
        assert proc is not None
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{name} did not exit within {timeout} s") from None

    def running(self, name: str) -> bool:
        proc = self.procs[name].proc
        return proc is not None and proc.poll() is None

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.proc is not None:
                stop_process(proc.proc, timeout=15)

    def heal(self, timeout: float = 120) -> None:
        """Restart any role a failed test left dead; wait until every web app is ready."""
        for name in self.procs:
            if not self.running(name):
                self.start_role(name)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        for name in [n for n in self.procs if n.endswith("-web")]:
            url = self.web_url(name[: -len("-web")]) + "/readyz"
            while True:
                proc = self.procs[name].proc
                if proc.poll() is not None:
                    raise AssertionError(f"{name} exited:\n{self.tail(name)}")
                try:
                    if requests.get(url, timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"{name} not ready:\n{self.tail(name)}")
                time.sleep(0.3)
        for name in [n for n in self.procs if n.endswith("-worker")]:
            wait_for(
                lambda n=name: requests.get(self.worker_url(n[:-7]) + "/healthz", timeout=2).ok,
                max(1.0, deadline - time.monotonic()),
                f"{name} /healthz",
            )

    def tail(self, name: str, chars: int = 3000) -> str:
        return self.procs[name].log.read_text(errors="replace")[-chars:]

    # ---- addresses and metrics

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def web_url(self, service: str) -> str:
        if service == "gateway":
            return self.gateway
        return f"http://127.0.0.1:{self.base_port + SERVICES.index(service)}"

    def worker_url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.procs[f'{service}-worker'].metrics_port}"

    def web_metrics(self, service: str) -> dict[tuple, float]:
        return scrape(self.web_url(service) + "/metrics")

    def worker_metrics(self, service: str) -> dict[tuple, float]:
        return scrape(self.worker_url(service) + "/metrics")

    def outbox_pending(self) -> dict[str, float]:
        """``revisit_outbox_pending`` of every service, scraped from its web /metrics."""
        out = {}
        for name in [n[: -len("-web")] for n in self.procs if n.endswith("-web")]:
            out[name] = metric_sum(self.web_metrics(name), "revisit_outbox_pending")
        return out


# -- a TCP proxy that can cut or freeze the link ---------------------------------------


class TcpProxy:
    """127.0.0.1:<port> → target, on threads.

    ``cut()``: every open connection is reset and new ones are refused (a server that went
    away); ``freeze()``: the connections open now stop carrying bytes either way but stay
    open, new ones work (a silent network failure, which only heartbeats notice);
    ``restore()`` undoes both.
    """

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket, threading.Event]] = []
        self._cut = False
        self._closed = False
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self._cut:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            frozen = threading.Event()
            with self._lock:
                self._pairs.append((client, upstream, frozen))
                self.accepted += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(src, dst, frozen), daemon=True, name="proxy-pump"
                ).start()

    def _pump(self, src: socket.socket, dst: socket.socket, frozen: threading.Event) -> None:
        try:
            while True:
                while frozen.is_set():
                    time.sleep(0.05)
                data = src.recv(65536)
                while frozen.is_set():  # read before the freeze (bytes or EOF): hold it back
                    time.sleep(0.05)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self._cut = True
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for client, upstream, frozen in pairs:
            _reset(client)
            _reset(upstream)
            frozen.clear()  # after the reset: what a freeze held back is dropped, not sent

    def freeze(self) -> None:
        with self._lock:
            for _, _, frozen in self._pairs:
                frozen.set()

    def restore(self) -> None:
        self._cut = False
        with self._lock:
            for _, _, frozen in self._pairs:
                frozen.clear()

    def close(self) -> None:
        self._closed = True
        self.cut()
        self.listener.close()


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): the peer sees 'connection reset', not a clean close.

    ``shutdown(SHUT_RD)`` first wakes the pump blocked in ``recv`` on it: a blocked call
    holds the socket open, so ``close()`` alone would leave the connection up, and a
    PostgreSQL backend behind it idle in its transaction, holding its locks, for good."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


# -- the broker ------------------------------------------------------------------------


def rabbitmqctl(*args: str, timeout: float = 60) -> str:
    result = subprocess.run(
        [*RABBITMQCTL, *args], capture_output=True, text=True, timeout=timeout, check=True
    )
    return result.stdout


def broker_restore() -> None:
    """Leave the broker as we found it: running, default memory watermark."""
    try:
        rabbitmqctl("start_app")
    finally:
        rabbitmqctl("await_startup")
        rabbitmqctl("set_vm_memory_high_watermark", DEFAULT_WATERMARK)


class BrokerFaults:
    """Faults of the broker, each with a dead-man switch: a detached shell restores the
    broker after ``deadline`` seconds even if the test process dies. :meth:`restore`
    undoes everything and disarms the switches."""

    def __init__(self, deadline: float = 90):
        self.deadline = deadline
        self._switches: list[subprocess.Popen] = []

    def _arm(self) -> None:
        ctl = shlex.join(RABBITMQCTL)
        script = (
            f"sleep {self.deadline}; {ctl} start_app; "
            f"{ctl} set_vm_memory_high_watermark {DEFAULT_WATERMARK}"
        )
        self._switches.append(
            subprocess.Popen(
                ["sh", "-c", script],
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def stop_app(self) -> None:
        self._arm()
        rabbitmqctl("stop_app")

    def start_app(self) -> None:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")

    def raise_memory_alarm(self) -> None:
        """Watermark 0: every connection that publishes is blocked until it clears."""
        self._arm()
        rabbitmqctl("set_vm_memory_high_watermark", "0")

    def clear_memory_alarm(self) -> None:
        rabbitmqctl("set_vm_memory_high_watermark", DEFAULT_WATERMARK)

    def restore(self) -> None:
        try:
            broker_restore()
        finally:
            for switch in self._switches:
                stop_process(switch, signal.SIGKILL, timeout=5)
            self._switches.clear()


def vhost_of(amqp_url: str) -> str:
    path = urlparse(amqp_url).path
    return "/" if path in ("", "/", "//") else unquote(path[1:])


def consumer_prefetch(amqp_url: str, queue: str) -> list[int]:
    """The prefetch count of every consumer on ``queue`` (rabbitmqctl list_consumers)."""
    out = rabbitmqctl(
        "list_consumers", "-q", "-p", vhost_of(amqp_url), "queue_name", "prefetch_count"
    )
    counts = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[0] == queue:
            counts.append(int(parts[1]))
    return counts


def queue_counts(amqp_url: str, queue: str) -> tuple[int, int]:
    """(messages ready, consumers) of ``queue``, from a passive declare."""
    from kombu import Connection

    with Connection(amqp_url, connect_timeout=5) as conn:
        _, ready, consumers = conn.channel().queue_declare(queue, passive=True)
        return ready, consumers


# -- writers ---------------------------------------------------------------------------


@dataclass
class Outcome:
    status: int | None  # None: no answer (connection error, timeout)
    problem: bool  # an application/problem+json body
    seconds: float
    at: float = 0.0  # time.monotonic() when the request was sent
    body: dict | None = None
    error: str = ""

    @property
    def clear(self) -> bool:
        """Succeeded, or failed with a status and a problem+json body saying why."""
        return self.status is not None and (self.status < 400 or self.problem)


def send(
    session: requests.Session, method: str, url: str, key: str, body=None, timeout: float = 15
) -> Outcome:
    started = time.monotonic()
    try:
        r = session.request(
            method, url, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=timeout
        )
    except requests.RequestException as exc:
        return Outcome(None, False, time.monotonic() - started, started, error=repr(exc)[:300])
    problem = r.headers.get("Content-Type", "").startswith("application/problem+json")
    try:
        doc = r.json()
    except ValueError:
        doc = None
    return Outcome(r.status_code, problem, time.monotonic() - started, started, doc)


def new_tenant(gateway: str, admin: str, name: str) -> tuple[str, str]:
    """A fresh tenant: (tenant id, its admin key)."""
    r = requests.post(
        gateway + "/api/v1/tenants",
        json={"name": name},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=15,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["admin_key"]


CUSTOMER = {
    "name": "Fault Test Trading",
    "type": "dealer",
    "region": "east",
    "owner": "li.wei",
    "annual_purchase_amount": 500000,
    "cooperation_start": "2019-03-01",
}
PURCHASE = {"amount": 1200, "product": "Pump X", "purchased_at": "2026-11-20T09:30:00+08:00"}
ALL_TIME = "from=2026-01-01&to=2028-12-31"


def write_stream(
    gateway: str,
    key: str,
    total: int,
    *,
    clients: int = 6,
    purchases_per_customer: int = 4,
    on_progress: Callable[[int], None] | None = None,
) -> list[Outcome]:
    """``total`` writes from ``clients`` threads: a customer, then purchases for it, ..."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    counter = iter(range(total))

    def take() -> bool:
        with lock:
            try:
                index = next(counter)
            except StopIteration:
                return False
        if on_progress is not None:
            on_progress(index)
        return True

    def client(number: int) -> None:
        session = requests.Session()
        customer_id = None
        made = 0
        while take():
            if customer_id is None or made >= purchases_per_customer:
                out = send(session, "POST", gateway + "/api/v1/customers", key, CUSTOMER)
                if out.status == 201:
                    customer_id, made = out.body["id"], 0
            else:
                url = f"{gateway}/api/v1/customers/{customer_id}/purchases"
                out = send(session, "POST", url, key, PURCHASE)
                made += 1
            out.body = None if out.status == 201 else out.body
            with lock:
                outcomes.append(out)

    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(client, i) for i in range(clients)]:
            future.result()
    return outcomes


def kpi_counts(gateway: str, key: str) -> dict[str, int]:
    r = requests.get(
        f"{gateway}/api/v1/kpis?{ALL_TIME}", headers={"Authorization": f"Bearer {key}"}, timeout=15
    )
    assert r.status_code == 200, r.text
    return r.json()["counts"]


class SourceCounts:
    """Counts read straight from the services' own schemas."""

    def __init__(self, postgres_url: str, schema_prefix: str):
        url = postgres_url.replace("postgresql://", "postgresql+psycopg://", 1)
        self.engine = sa.create_engine(url, pool_size=2)
        self.prefix = schema_prefix

    def scalar(self, sql: str, **params) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql.format(p=self.prefix)), params).scalar_one()

    def customers(self, tenant: str) -> dict[str, int]:
        return {
            "customers": self.scalar(
                'SELECT count(*) FROM "{p}customer".customers WHERE tenant_id = :t', t=tenant
            ),
            "purchases": self.scalar(
                'SELECT count(*) FROM "{p}customer".purchases WHERE tenant_id = :t', t=tenant
            ),
        }

    def kpi_events(self, tenant: str) -> tuple[int, int]:
        """(events in the KPI event log for ``tenant``, distinct ids among them)."""
        with self.engine.connect() as conn:
            return tuple(
                conn.execute(
                    sa.text(
                        f'SELECT count(*), count(DISTINCT event_id) FROM "{self.prefix}kpi"'
                        ".kpi_event_log WHERE tenant_id = :t"
                    ),
                    {"t": tenant},
                ).one()
            )

    def close(self) -> None:
        self.engine.dispose()


# -- the fake service's worker, as a process -------------------------------------------


def note_env(amqp_url: str, postgres_url: str, queues: str, schemas: str, **extra) -> dict:
    """REVISIT_* settings of a fake-service worker (and of the test's own runtimes)."""
    return {
        "REVISIT_AMQP_URL": amqp_url,
        "REVISIT_DATABASE_URL": postgres_url,
        "REVISIT_DB_SCHEMA_PREFIX": schemas,
        "REVISIT_QUEUE_PREFIX": queues,
        "REVISIT_REGION": REGION,
        "REVISIT_PUBLISH_TIMEOUT": "2",
        "REVISIT_RELAY_INTERVAL": "0.05",
        "REVISIT_RELAY_BATCH": "50",
        "REVISIT_CONSUMER_RETRIES": "3",
        "REVISIT_CONSUMER_BACKOFF": "0.02",
        "REVISIT_PREFETCH": "20",
        "REVISIT_LOG_LEVEL": "WARNING",
        "REVISIT_METRICS_TOKEN": ADMIN,  # what scrape() sends
        **{k: str(v) for k, v in extra.items()},
    }


class NoteWorker:
    """``python -m tests.faults.note_worker`` in its own process (stopped after each test
    by the ``no_worker_left`` fixture, even when the test failed before stopping it)."""

    started: list[NoteWorker] = []

    def __init__(self, env: dict[str, str], log: Path, *names: str, fixed: bool = False):
        self.env = env
        self.log = log
        self.names = names or ("test",)
        self.fixed = fixed
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self, fault: str | None = None, wait: bool = True) -> NoteWorker:
        env = python_env(self.env)
        env.pop("REVISIT_FAULT_INJECT", None)
        if fault:
            env["REVISIT_FAULT_INJECT"] = fault
        argv = [sys.executable, "-m", "tests.faults.note_worker", "--metrics-port", str(self.port)]
        argv += ["--fixed"] if self.fixed else []
        with open(self.log, "a") as log:
            log.write(f"\n==== start {self.names} fault={fault}\n")
            log.flush()
            self.proc = subprocess.Popen(
                [*argv, *self.names],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=REPO,
                start_new_session=True,
            )
        NoteWorker.started.append(self)
        if wait:
            wait_for(self.healthy, 30, lambda: f"note worker {self.names} up\n{self.output()}")
        return self

    def healthy(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, self.output()
        return requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).ok

    def metrics(self) -> dict[tuple, float]:
        return scrape(f"http://127.0.0.1:{self.port}/metrics")

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"worker still running after {timeout} s") from None

    def stop(self, sig: int = signal.SIGTERM) -> int | None:
        return None if self.proc is None else stop_process(self.proc, sig)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:] if self.log.exists() else ""

    def dump(self) -> str:
        """The end of the log, after a dump of the running process's threads (SIGUSR1)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGUSR1)
            time.sleep(0.5)
        return self.output()

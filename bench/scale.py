"""Section "scale": ``/metrics`` and ``GET /api/v1/kpis`` response times as the KPI store
grows to 10k, 100k and 1M events (they must stay flat: the endpoints read aggregates, not
the event log), and each process's peak memory (section "memory").

How:

* The KPI schema is migrated into the run's database (``python -m revisit_runner.migrate
  kpi``, schema ``bench_scale_kpi``), as the stack does.
* Seeding goes through the consumer's real apply path: per batch, one transaction with the
  inbox claim of every event (the consumer's own ``_CLAIM_ALL`` statement) and then
  ``kpi_service.projection.record``. The claim is included although the reads never touch
  the inbox: it is part of what applying a batch costs, so the seeding rate is the
  consumer's apply rate minus the broker. :data:`SEEDERS` processes seed in parallel, each
  its own tenants (no row is shared, so they never wait on each other's locks), each a
  long-lived ``python -m bench.scale seed`` that keeps its event stream between sizes (the
  sizes are cumulative: 10k, +90k, +900k).
* A real KPI web process (gunicorn, ``revisit_runner.web:app("kpi")``, the env the stack
  gives it) serves throughout; at each size the endpoints are timed one request at a time
  over a kept-alive connection, with the identity headers the gateway adds (admin of the
  first tenant). Before timing, the aggregate tables and the facts are vacuumed and
  analyzed (what autovacuum does on a live system shortly after such a load).
* The queries behind each endpoint are captured (by calling the same service function in
  this process, with a statement listener on its engine) and run under ``EXPLAIN ANALYZE``:
  their plans, times and rows go into ``extra["scale"]``, the evidence for a slow one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path

from . import procs, stats

SECTION = "scale"
SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
TENANTS = 4
SEEDERS = 2
BATCH = 2000  # events per transaction while seeding
SCHEMA_PREFIX = "bench_scale_"
SCHEMA = f"{SCHEMA_PREFIX}kpi"
TARGET_MS = 50.0
REPO = Path(__file__).resolve().parent.parent

# Requests per endpoint and size: at least MIN, then up to MAX within SECONDS.
MIN_REQUESTS, MAX_REQUESTS, SECONDS = 50, 300, 8.0
QUICK_MIN, QUICK_MAX, QUICK_SECONDS = 20, 100, 3.0
WARMUP = 5

YEAR = (date(2026, 1, 1), date(2026, 12, 31))  # bench.events.START and 365 days
MONTH = (date(2026, 6, 1), date(2026, 6, 30))


def endpoints() -> list[tuple[str, str, dict]]:
    """(name, path with query, kwargs of service.kpis; {} for /metrics)."""

    def kpis(period, group_by=None):
        query = f"/api/v1/kpis?from={period[0]}&to={period[1]}"
        kw = {"start": period[0], "end": period[1], "group_by": group_by}
        return (query + (f"&group_by={group_by}" if group_by else ""), kw)

    out = [("/metrics", "/metrics", {})]
    for name, period, group_by in (
        ("/kpis month", MONTH, None),
        ("/kpis year", YEAR, None),
        ("/kpis year by assignee", YEAR, "assignee"),
        ("/kpis year by region", YEAR, "region"),
    ):
        out.append((name, *kpis(period, group_by)))
    return out


def size_label(n: int) -> str:
    """10_000 -> '10k', 1_000_000 -> '1M'."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return str(n)


def split(count: int, parts: int) -> list[int]:
    """``count`` shared as evenly as possible by ``parts`` (the first ones get the rest)."""
    base, rest = divmod(count, parts)
    return [base + (1 if i < rest else 0) for i in range(parts)]


def steps(sizes: Iterable[int]) -> list[int]:
    """Events to add to reach each cumulative size: (10k, 100k, 1M) -> [10k, 90k, 900k]."""
    out, before = [], 0
    for size in sizes:
        if size <= before:
            raise ValueError("sizes must grow")
        out.append(size - before)
        before = size
    return out


def summary(samples_s: list[float]) -> dict:
    """p50, p99 and the rest of a list of durations in seconds, in ms."""
    ms = [s * 1000 for s in samples_s]
    return {
        "n": len(ms),
        "p50": stats.percentile(ms, 50),
        "p90": stats.percentile(ms, 90),
        "p99": stats.percentile(ms, 99),
        "min": min(ms),
        "max": max(ms),
    }


def plan_digest(plan: dict) -> dict:
    """The parts of one ``EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`` result worth keeping:
    times, the node types from the top, and the rows each scan node read (``rows_scanned``:
    the table rows, so a bitmap index scan and its heap scan count once)."""
    scans, nodes = [], []

    def walk(node: dict, depth: int) -> None:
        kind = node.get("Node Type", "?")
        relation = node.get("Relation Name") or node.get("Index Name")
        nodes.append(("  " * depth) + kind + (f" on {relation}" if relation else ""))
        if "Scan" in kind:
            scans.append(
                {
                    "node": kind,
                    "relation": node.get("Relation Name"),
                    "index": node.get("Index Name"),
                    "rows": node.get("Actual Rows", 0) * node.get("Actual Loops", 1),
                    "removed_by_filter": node.get("Rows Removed by Filter", 0)
                    * node.get("Actual Loops", 1),
                    "heap_fetches": node.get("Heap Fetches"),
                    "shared_hit": node.get("Shared Hit Blocks"),
                    "shared_read": node.get("Shared Read Blocks"),
                }
            )
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(plan["Plan"], 0)
    return {
        "execution_ms": plan.get("Execution Time"),
        "planning_ms": plan.get("Planning Time"),
        "rows_out": plan["Plan"].get("Actual Rows"),
        # the table rows read: returned or filtered out (an index scan's only once)
        "rows_scanned": sum(s["rows"] + s["removed_by_filter"] for s in scans if s["relation"]),
        "nodes": nodes,
        "scans": scans,
    }


# --------------------------------------------------------------------------- seeding


def seeder_main(argv: list[str]) -> int:
    """``python -m bench.scale seed --url U --index i``: read a count per line on stdin,
    apply that many more events of this seeder's tenants, answer one JSON line each."""
    parser = argparse.ArgumentParser(prog="python -m bench.scale seed")
    parser.add_argument("--url", required=True)
    parser.add_argument("--schema", default=SCHEMA)
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--seeders", type=int, default=SEEDERS)
    parser.add_argument("--tenants", type=int, default=TENANTS)
    parser.add_argument("--batch", type=int, default=BATCH)
    args = parser.parse_args(argv)

    from kpi_service import projection
    from revisit_common.db import Database
    from revisit_common.messaging import inbox

    from .events import Stream

    stream = Stream(tenants=args.tenants, seed=7 + args.index)
    stream.tenants = stream.tenants[args.index :: args.seeders]  # this seeder's own tenants
    stream.customers = {t: [] for t in stream.tenants}
    db = Database(args.url, args.schema)
    for line in sys.stdin:
        count = int(line)
        took = {"generate": 0.0, "claim": 0.0, "record": 0.0, "commit": 0.0}
        started = time.perf_counter()
        events = stream.envelopes(count)
        done = 0
        while done < count:
            t0 = time.perf_counter()
            batch = [next(events) for _ in range(min(args.batch, count - done))]
            t1 = time.perf_counter()
            with db.transaction() as session:
                claimed = len(inbox.claim(session, "kpi", batch))
                if claimed != len(batch):
                    raise RuntimeError(f"claimed {claimed} of {len(batch)} new events")
                t2 = time.perf_counter()
                projection.record(session, batch)
                t3 = time.perf_counter()
            t4 = time.perf_counter()
            took["generate"] += t1 - t0
            took["claim"] += t2 - t1
            took["record"] += t3 - t2
            took["commit"] += t4 - t3
            done += len(batch)
        answer = {
            "events": done,
            "seconds": time.perf_counter() - started,
            **{f"{k}_s": round(v, 3) for k, v in took.items()},
        }
        print(json.dumps(answer), flush=True)
    db.dispose()
    return 0


class Seeders:
    """The seeding processes; ``add(n)`` applies ``n`` more events, shared between them."""

    def __init__(self, url: str, workdir: Path, count: int = SEEDERS):
        self.procs = []
        self.logs = [workdir / f"scale-seeder-{index}.log" for index in range(count)]
        for index in range(count):
            argv = [sys.executable, "-m", "bench.scale", "seed", "--url", url]
            argv += ["--index", str(index), "--seeders", str(count)]
            log = open(self.logs[index], "wb")  # noqa: SIM115
            proc = subprocess.Popen(
                argv, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log
            )
            self.procs.append((proc, log))

    def add(self, count: int) -> dict:
        started = time.monotonic()
        shares = split(count, len(self.procs))
        for (proc, _), share in zip(self.procs, shares, strict=True):
            proc.stdin.write(f"{share}\n".encode())
            proc.stdin.flush()
        answers = []
        for index, (proc, _) in enumerate(self.procs):
            line = proc.stdout.readline()
            if not line:
                proc.wait(timeout=30)
                tail = Path(self.logs[index]).read_text(errors="replace")[-3000:]
                raise RuntimeError(f"seeder {index} died ({proc.returncode}): ...{tail}")
            answers.append(json.loads(line))
        seconds = time.monotonic() - started
        return {
            "events": count,
            "seconds": round(seconds, 2),
            "rate": round(stats.rate(count, seconds), 1),
            "seeders": answers,
        }

    def peaks_mb(self) -> list[float | None]:
        return [procs.peak_mb(proc.pid) for proc, _ in self.procs]

    def close(self) -> None:
        for proc, log in self.procs:
            if proc.stdin and not proc.stdin.closed:
                proc.stdin.close()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


# --------------------------------------------------------------------------- the web process


class Web:
    """The KPI web process as the stack runs it (gunicorn, its config, its env)."""

    def __init__(self, bench, token: str, prefix: str = SCHEMA_PREFIX, name: str = SECTION):
        self.port = procs.free_port()
        self.metrics_dir = bench.workdir / f"{name}-metrics" / "kpi"
        env = {
            **os.environ,
            "REVISIT_BIND": f"127.0.0.1:{self.port}",
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir),
            "REVISIT_DATABASE_URL": bench.postgres_url,
            "REVISIT_DB_SCHEMA_PREFIX": prefix,
            "REVISIT_AMQP_URL": bench.amqp_url,
            "REVISIT_INTERNAL_TOKEN": token,
            "REVISIT_METRICS_TOKEN": token,
            "REVISIT_DATA_DIR": str(bench.workdir / f"{name}-data"),
            "REVISIT_LOG_LEVEL": "WARNING",
        }
        argv = [sys.executable, "-m", "gunicorn", "-c", "python:revisit_runner.gunicorn_conf"]
        argv.append('revisit_runner.web:app("kpi")')
        self.log = open(bench.workdir / f"{name}-kpi-web.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=self.log, stderr=self.log)
        self.peaks: dict[int, float] = {}  # pid -> VmHWM seen (workers may be recycled)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("the KPI web process exited (see scale-kpi-web.log)")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the KPI web process did not become ready")

    def sample_peaks(self) -> None:
        for pid in procs.tree(self.proc.pid):
            peak = procs.peak_mb(pid)
            if peak is not None:
                self.peaks[pid] = max(peak, self.peaks.get(pid, 0.0))

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU so far of each process of the web process tree."""
        return {pid: procs.cpu_seconds(pid) for pid in procs.tree(self.proc.pid)}

    def pss_mb(self) -> dict[int, float]:
        """Each process's share of resident memory now (procs.pss_mb)."""
        shares = {pid: procs.pss_mb(pid) for pid in procs.tree(self.proc.pid)}
        return {pid: mb for pid, mb in shares.items() if mb is not None}

    def metrics_files(self) -> int:
        """Files in the prometheus multiprocess folder (a recycled worker leaves its own)."""
        return sum(1 for _ in self.metrics_dir.glob("*.db"))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Client:
    """One kept-alive connection; ``get`` returns the seconds a request took. ``/metrics``
    is sent the internal token as its bearer token (the web process's metrics token)."""

    def __init__(self, port: int, headers: dict[str, str]):
        self.port, self.headers, self.conn = port, headers, None
        bearer = {"Authorization": f"Bearer {headers['X-Revisit-Internal-Token']}"}
        self.metrics_headers = {**headers, **bearer}
        self.last_bytes = 0  # the body size of the last response
        self.last_body = b""

    def get(self, path: str) -> float:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                self.conn.connect()
            started = time.perf_counter()
            try:
                headers = self.metrics_headers if path == "/metrics" else self.headers
                self.conn.request("GET", path, headers=headers)
                response = self.conn.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None  # the server closed the kept-alive connection: once more
                if attempt == 2:
                    raise
                continue
            took = time.perf_counter() - started
            self.last_bytes, self.last_body = len(body), body
            if response.status != 200:
                raise RuntimeError(f"GET {path}: {response.status} {body[:300]!r}")
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            return took
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def time_endpoint(client: Client, path: str, quick: bool) -> list[float]:
    low, high, budget = (
        (QUICK_MIN, QUICK_MAX, QUICK_SECONDS)
        if quick
        else (
            MIN_REQUESTS,
            MAX_REQUESTS,
            SECONDS,
        )
    )
    for _ in range(WARMUP):
        client.get(path)
    samples: list[float] = []
    started = time.monotonic()
    while len(samples) < high and (len(samples) < low or time.monotonic() - started < budget):
        samples.append(client.get(path))
    return samples


# --------------------------------------------------------------------------- the database side


class Store:
    """This process's view of the seeded KPI store: row counts, maintenance, and the
    queries behind each endpoint (captured, timed, explained)."""

    def __init__(self, url: str):
        import sqlalchemy as sa

        from revisit_common.db import Database

        self.sa = sa
        self.db = Database(url, SCHEMA)
        self.captured: list[tuple[str, object]] | None = None
        sa.event.listen(self.db.engine, "before_cursor_execute", self._capture)

    def _capture(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.captured is not None and statement.lstrip().upper().startswith("SELECT"):
            self.captured.append((statement, parameters))

    def tables(self) -> list[str]:
        with self.db.engine.connect() as conn:
            rows = conn.execute(
                self.sa.text(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = :s AND table_type = 'BASE TABLE' ORDER BY 1"
                ),
                {"s": SCHEMA},
            )
            return [row[0] for row in rows]

    def counts(self, tenant: str) -> dict:
        out: dict = {}
        with self.db.engine.connect() as conn:
            for table in self.tables():
                if table == "alembic_version":
                    continue
                out[table] = conn.execute(self.sa.text(f'SELECT count(*) FROM "{table}"')).scalar()
            sizes = conn.execute(
                self.sa.text(
                    "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = :s AND c.relkind = 'r'"
                ),
                {"s": SCHEMA},
            )
            out["mb"] = {name: round(size / 2**20, 1) for name, size in sizes}
            periods = {"month": MONTH, "year": YEAR}
            for table, column in (("kpi_daily", "day"), ("kpi_monthly", "month")):
                if table not in out:
                    continue
                out[f"{table}_of_tenant"] = {
                    name: conn.execute(
                        self.sa.text(
                            f"SELECT count(*) FROM {table} WHERE tenant_id = :t "
                            f"AND {column} BETWEEN :a AND :b"
                        ),
                        {"t": tenant, "a": start, "b": end},
                    ).scalar()
                    for name, (start, end) in periods.items()
                }
        return out

    def maintain(self) -> list[str]:
        """VACUUM (ANALYZE) the tables the reads touch (everything but the log, inbox):
        the aggregates, and the facts (the policies' figures count them by index-only
        scans, which need the visibility map a vacuum sets)."""
        skip = {"kpi_event_log", "inbox", "outbox", "alembic_version"}
        tables = [t for t in self.tables() if t not in skip]
        with self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables:
                conn.execute(self.sa.text(f'VACUUM (ANALYZE) "{table}"'))
        return tables

    def explain(self, run: Callable) -> dict:
        """Run ``run(session)`` (the endpoint's service call) capturing its SELECTs, then
        each of them again under EXPLAIN ANALYZE."""
        self.captured = []
        try:
            with self.db.read() as session:
                run(session)  # warm
            self.captured = []
            started = time.perf_counter()
            with self.db.read() as session:
                run(session)
            service_ms = (time.perf_counter() - started) * 1000
            captured, self.captured = self.captured, None
        finally:
            self.captured = None
        queries = []
        with self.db.engine.connect() as conn:
            for statement, parameters in captured:
                explain = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement
                result = conn.exec_driver_sql(explain, parameters).scalar()
                plan = result[0] if isinstance(result, list) else json.loads(result)[0]
                queries.append({"sql": " ".join(statement.split())[:600], **plan_digest(plan)})
            conn.rollback()
        return {
            "service_ms": round(service_ms, 2),
            "sql_ms": round(sum(q["execution_ms"] or 0 for q in queries), 2),
            "queries": queries,
        }

    def metrics_breakdown(self, repeat: int = 5) -> dict:
        """Where a /metrics scrape's KPI part goes, in this process (median of ``repeat``):
        reading ``kpi_totals``, building the families, rendering the exposition text (as
        the endpoint does: revisit_common.metrics.plain_text)."""
        from kpi_service import collector
        from revisit_common.metrics import plain_text

        runs = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            with self.db.read() as session:
                rows = collector.read_totals(session)
            t1 = time.perf_counter()
            families = collector.families(rows)
            t2 = time.perf_counter()
            body = plain_text(families)
            t3 = time.perf_counter()
            runs.append((t1 - t0, t2 - t1, t3 - t2))
        middle = sorted(runs, key=sum)[len(runs) // 2]
        return {
            "totals_rows": len(rows),
            "samples": sum(len(f.samples) for f in families),
            "bytes": len(body),
            **{
                name: round(seconds * 1000, 2)
                for name, seconds in zip(("read", "families", "render"), middle, strict=True)
            },
        }

    def dispose(self) -> None:
        self.db.dispose()


# --------------------------------------------------------------------------- the section


def migrate(bench, prefix: str = SCHEMA_PREFIX) -> None:
    env = {
        **os.environ,
        "REVISIT_DATABASE_URL": bench.postgres_url,
        "REVISIT_DB_SCHEMA_PREFIX": prefix,
        "REVISIT_LOG_LEVEL": "WARNING",
    }
    argv = [sys.executable, "-m", "revisit_runner.migrate", "kpi"]
    subprocess.run(argv, cwd=REPO, env=env, check=True, capture_output=True)


def measure_size(bench, client: Client, store: Store, web: Web, tenant: str) -> dict:
    """Time each endpoint over HTTP (and the CPU the web process spent on it: less
    sensitive to a busy machine than the wall time), then explain the queries behind it."""
    from kpi_service import collector, service

    out: dict = {}
    for name, path, kw in endpoints():
        cpu_before = web.cpu_seconds()
        samples = time_endpoint(client, path, bench.quick)
        cpu_after = web.cpu_seconds()
        # A worker recycled meanwhile (max_requests) takes its CPU along: counted as far as
        # it was seen, so the figure may be low then, never negative.
        cpu = sum(t - cpu_before.get(pid, 0.0) for pid, t in cpu_after.items())
        recycled = len(set(cpu_before) - set(cpu_after))
        if kw:

            def call(session, kw=kw):
                service.kpis(session, tenant, kw["start"], kw["end"], kw["group_by"])

        else:  # /metrics reads through KpiCollector, which opens its own session

            def call(_session):
                list(collector.KpiCollector(store.db).collect())

        timed = {"path": path, "body_bytes": client.last_bytes, **summary(samples)}
        timed["web_cpu_ms_per_request"] = round(cpu * 1000 / (len(samples) + WARMUP), 2)
        timed["workers_recycled"] = recycled
        out[name] = {**timed, **store.explain(call)}
    out["/metrics"]["breakdown_ms"] = store.metrics_breakdown()
    out["/metrics"]["multiprocess_files"] = web.metrics_files()
    return out


def run(bench) -> None:
    from bench.events import tenant_ids

    sizes = QUICK_SIZES if bench.quick else SIZES
    tenant = tenant_ids(TENANTS)[0]
    token = secrets.token_urlsafe(32)
    headers = {
        "X-Revisit-Internal-Token": token,
        "X-Revisit-Tenant": tenant,
        "X-Revisit-Role": "admin",
        "X-Revisit-Actor": "bench",
    }
    data: dict = {
        "tenants": TENANTS,
        "seeders": SEEDERS,
        "batch": BATCH,
        "tenant_queried": tenant,
        "seeding": "inbox claim (inbox.claim, as the consumer) + projection.record, one "
        "transaction per batch",
        "sizes": {},
    }
    bench.extra[SECTION] = data
    migrate(bench)
    store = Store(bench.postgres_url)
    web = seeders = client = None
    try:
        web = Web(bench, token)
        seeders = Seeders(bench.postgres_url, bench.workdir)
        client = Client(web.port, headers)
        web.wait_ready()
        for size, step in zip(sizes, steps(sizes), strict=True):
            label = size_label(size)
            print(f"bench: scale: seeding to {label} ...", file=sys.stderr, flush=True)
            seeded = seeders.add(step)
            maintained = store.maintain()
            rows = store.counts(tenant)
            print(
                f"bench: scale: {label} seeded at {seeded['rate']:.0f} ev/s; timing ...",
                file=sys.stderr,
                flush=True,
            )
            load = os.getloadavg()
            timings = measure_size(bench, client, store, web, tenant)
            web.sample_peaks()
            data["sizes"][label] = {
                "events": size,
                "seeding": seeded,
                "vacuum_analyze": maintained,
                "rows": rows,
                "endpoints": timings,
                "load_before_after": [load, os.getloadavg()],
            }
            for name, result in timings.items():
                for p in ("p50", "p99"):
                    figure = f"{name} {p} @{label}"
                    if size == 1_000_000:
                        bench.at_most(SECTION, figure, result[p], TARGET_MS, "ms")
                    else:
                        bench.add(SECTION, figure, result[p], "ms")
        seeders_peak = seeders.peaks_mb()
        data["kpi_web_pss_mb_at_end"] = web.pss_mb()
    finally:
        if client is not None:
            client.close()
        if seeders is not None:
            seeders.close()
        if web is not None:
            web.sample_peaks()
            web.stop()
        store.dispose()
    _report(bench, data, sizes, web, seeders_peak)


def _report(bench, data: dict, sizes, web: Web, seeders_peak) -> None:
    first, last = size_label(sizes[0]), size_label(sizes[-1])
    if bench.quick:
        bench.add(SECTION, "1M point", None, "", note="skipped in --quick (10k and 100k only)")
    flatness = {}
    for name, *_ in endpoints():
        low = data["sizes"][first]["endpoints"][name]
        high = data["sizes"][last]["endpoints"][name]
        ratio = high["p50"] / low["p50"] if low["p50"] else None
        flatness[name] = {
            "p50": ratio,
            "p99": high["p99"] / low["p99"] if low["p99"] else None,
        }
        for key in ("web_cpu_ms_per_request", "sql_ms"):  # less sensitive to a busy machine
            flatness[name][key] = high[key] / low[key] if low[key] else None
        bench.add(SECTION, f"{name} p50 ratio {last}/{first}", ratio, "x")
    data["flatness"] = flatness
    big = max(data["sizes"].values(), key=lambda s: s["seeding"]["events"])
    seeding = big["seeding"]
    bench.add(
        SECTION,
        f"seeding rate ({len(seeders_peak)} procs, +{size_label(seeding['events'])})",
        seeding["rate"],
        "events/s",
        note="inbox claim + projection.record per batch of "
        f"{BATCH}; {len(seeders_peak)} processes, their own tenants",
    )
    total_events = sum(s["seeding"]["events"] for s in data["sizes"].values())
    total_seconds = sum(s["seeding"]["seconds"] for s in data["sizes"].values())
    seeding["apply_rate"] = round(
        sum(
            each["events"] / (each["claim_s"] + each["record_s"] + each["commit_s"])
            for each in seeding["seeders"]
        ),
        1,
    )
    bench.add(
        SECTION,
        f"apply rate ({len(seeders_peak)} procs, +{size_label(seeding['events'])})",
        seeding["apply_rate"],
        "events/s",
        note="the seeding rate without making up the events: the sum over the processes "
        "of events / (claim + record + commit seconds)",
    )
    data["seeding_total"] = {
        "events": total_events,
        "seconds": round(total_seconds, 1),
        "rate": round(stats.rate(total_events, total_seconds), 1),
    }
    master = web.proc.pid
    workers = {pid: mb for pid, mb in web.peaks.items() if pid != master}
    data["memory"] = {
        "kpi_web_master_mb": web.peaks.get(master),
        "kpi_web_workers_mb": workers,
        "seeders_mb": seeders_peak,
    }
    if workers:
        bench.add("memory", "kpi web worker peak (scale)", max(workers.values()), "MiB")
    if web.peaks.get(master) is not None:
        bench.add("memory", "kpi web master peak (scale)", web.peaks[master], "MiB")
    pss = data.get("kpi_web_pss_mb_at_end") or {}
    if pss:
        bench.add(
            "memory",
            "kpi web tree PSS at end (scale)",
            sum(pss.values()),
            "MiB",
            note="master + workers, shared pages counted once (VmHWM counts them in each)",
        )
    known = [p for p in seeders_peak if p is not None]
    if known:
        bench.add("memory", "kpi seeder peak (scale)", max(known), "MiB")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "seed":
        sys.exit(seeder_main(sys.argv[2:]))
    sys.exit("usage: python -m bench.scale seed --url URL --index N")

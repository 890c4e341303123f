"""Sections "pipeline", "latency" and "memory": our own event pipeline on the real servers.

The visit service's outbox (PostgreSQL, migrated schema) is the producer and the KPI
service the consumer, each worker role in a process of its own (``bench.pipeline_worker``):

(a) relay alone: N rows already in the outbox, committed at once, until all are confirmed
    and marked sent;
(b) one KPI consumer alone: those N events waiting on the KPI queue, until all are applied;
(c) the pipeline with that one consumer: N rows committed at once while the relay and the
    consumer both run, until all are applied;
(b') and (c') the same with ``CONSUMERS`` KPI consumer processes competing on the queue, as
    a deployment scales them (``REVISIT_BENCH_KPI_CONSUMERS``, default 2; 1 skips them):
    the pipeline's figure is (c')'s, its ratio to the raw figure of the stage that limits
    it (the consumers: raw consume-with-ack; else the relay: raw windowed-confirm publish);
(d) end to end: events written through ``Outbox.add`` (from a few threads, several
    stories a transaction: one commit each waits for the WAL flush, which here would limit
    a writer long before the pipeline) while the relay and the consumers run, until all are
    applied (the writers' own rate in its note: they share the 2 cores);
(e) latency: 200 events/s offered, one transaction each, commit-to-applied from the
    outbox's ``created_at`` (written just before the producer's commit) to the KPI inbox's
    ``applied_at`` (written in the consumer's transaction, just before its commit): both
    from the same clock.

Before each stage after the first drain, the KPI tables are analyzed (``ANALYZE``), outside
the measured time: autovacuum would have done it on a server that runs it (production
servers do; this CI server runs with autovacuum off), and a store the planner knows nothing
about is planned as if every tenant held a handful of facts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from kombu import Connection

from kpi_service.bootstrap import SPEC as KPI
from revisit_common import migrations
from revisit_common.db import Database
from revisit_common.messaging.envelope import wrap
from revisit_common.messaging.outbox import NOTIFY_CHANNEL, Outbox, outbox_table
from revisit_common.messaging.topology import service_queue
from visit_service.bootstrap import SPEC as VISIT

from . import procs, raw
from .context import Bench
from .events import Stream
from .stats import percentile, rate

SCHEMAS = "bench_"
QUEUES = "bench"
LATENCY_RATE = 200  # events/s offered in (e)
# Writers in (d) and (e): each commit waits for PostgreSQL's WAL flush (a few ms here),
# so one thread alone would measure the disk, not the pipeline.
WRITERS = 4
STORIES = 10  # stories (a few events each) per transaction in (d)
# KPI consumer processes of (b'), (c'), (d) and (e): how a deployment scales the consumers.
CONSUMERS = max(1, int(os.environ.get("REVISIT_BENCH_KPI_CONSUMERS", "2")))
ROOT = Path(__file__).resolve().parent.parent


class Worker:
    """``python -m bench.pipeline_worker <role> <service>``, started and awaited; its work
    begins at :meth:`go` (at once with ``go=True``)."""

    def __init__(self, bench: Bench, role: str, service: str, *, go: bool = True, index: int = 1):
        self.name = f"{service}-{role}" + (f"-{index}" if index > 1 else "")
        env = {
            **os.environ,
            "REVISIT_AMQP_URL": bench.amqp_url,
            "REVISIT_DATABASE_URL": bench.postgres_url,
            "REVISIT_DB_SCHEMA_PREFIX": SCHEMAS,
            "REVISIT_QUEUE_PREFIX": QUEUES,
            "REVISIT_REGION": "bench",
            "REVISIT_LOG_LEVEL": os.environ.get("REVISIT_LOG_LEVEL", "WARNING"),
        }
        self.log = bench.workdir / f"{self.name}.log"
        with self.log.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.pipeline_worker", role, service],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        line = self.process.stdout.readline()  # "ready <time>", or "" if it died
        if not line.startswith("ready"):
            self.stop()
            raise RuntimeError(f"{self.name} did not start: {self.log.read_text()[-2000:]}")
        if go:
            self.go()

    def go(self) -> None:
        """Start its work (the worker is set up and waiting)."""
        self.process.stdin.write("go\n")
        self.process.stdin.flush()

    def cpu_seconds(self) -> float:
        """User and system CPU time the process used so far."""
        return procs.cpu_seconds(self.process.pid)

    def peak_mb(self) -> float | None:
        return procs.tree_peak_mb(self.process.pid)

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # a worker never told to go ends at once
            self.process.stdin.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()


class Pipeline:
    """The two schemas, the KPI queue and the stream of events the section writes."""

    def __init__(self, bench: Bench):
        self.visit = Database(bench.postgres_url, f"{SCHEMAS}visit")
        self.kpi = Database(bench.postgres_url, f"{SCHEMAS}kpi")
        migrations.upgrade(self.visit, VISIT.migrations)
        migrations.upgrade(self.kpi, KPI.migrations)
        with Connection(bench.amqp_url) as conn:  # so nothing relayed before (b) is lost
            service_queue("kpi", list(KPI.routing_keys), prefix=QUEUES)(conn.channel()).declare()
        self.stream = Stream(tenants=10)
        self.outbox = Outbox("bench", "visit")

    def close(self) -> None:
        self.visit.dispose()
        self.kpi.dispose()

    def unsent(self) -> int:
        with self.visit.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count())
                .select_from(outbox_table)
                .where(outbox_table.c.sent_at.is_(None))
            ).scalar_one()

    def analyze(self) -> None:
        """``ANALYZE`` every table of the KPI schema (what autovacuum does as they grow)."""
        with self.kpi.engine.connect() as conn:
            tables = conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"),
                {"schema": f"{SCHEMAS}kpi"},
            ).scalars()
            for table in list(tables):
                conn.execute(sa.text(f'ANALYZE "{SCHEMAS}kpi"."{table}"'))
            conn.commit()

    def applied(self) -> int:
        with self.kpi.engine.connect() as conn:
            return conn.execute(sa.text("SELECT count(*) FROM inbox")).scalar_one()

    def newest(self) -> tuple[int, str]:
        """The id and event id of the newest outbox row."""
        with self.visit.engine.connect() as conn:
            return tuple(
                conn.execute(
                    sa.select(outbox_table.c.id, outbox_table.c.event_id)
                    .order_by(outbox_table.c.id.desc())
                    .limit(1)
                ).one()
            )

    def all_sent(self) -> Callable[[], bool]:
        """For :func:`wait_until`: whether no outbox row is left unsent, counted only once
        the newest row is sent (a primary-key lookup: a count polled all along would cost
        PostgreSQL CPU that the figures would charge to the pipeline)."""
        newest, _ = self.newest()
        query = sa.select(outbox_table.c.sent_at).where(outbox_table.c.id == newest)

        def sent() -> bool:
            with self.visit.engine.connect() as conn:
                return conn.execute(query).scalar() is not None

        return lambda: sent() and self.unsent() == 0

    def all_applied(self, count: int) -> Callable[[], bool]:
        """For :func:`wait_until`: whether the KPI inbox holds ``count`` events, counted
        only once it holds the newest outbox row's (as :meth:`all_sent`)."""
        _, newest = self.newest()
        query = sa.text("SELECT 1 FROM inbox WHERE consumer = 'kpi' AND event_id = :id")

        def applied() -> bool:
            with self.kpi.engine.connect() as conn:
                return conn.execute(query, {"id": newest}).first() is not None

        return lambda: applied() and self.applied() >= count

    def insert_rows(self, count: int) -> None:
        """``count`` outbox rows in one transaction (and the NOTIFY a commit sends)."""
        now = datetime.now(UTC)
        rows = [
            {
                "event_id": envelope.id,
                "routing_key": event.routing_key(),
                "body": envelope.to_json(),
                "created_at": now,
                "attempts": 0,
            }
            for tenant, event in self.stream.events(count)
            for envelope in [wrap(event, tenant_id=tenant, region="bench", service="visit")]
        ]
        with self.visit.transaction() as session:
            session.execute(outbox_table.insert(), rows)
            session.execute(sa.text(f"SELECT pg_notify('{NOTIFY_CHANNEL}', current_schema())"))

    def write_stories(self, count: int) -> None:
        """``count`` events through ``Outbox.add``, ``STORIES`` stories a transaction, from
        ``WRITERS`` threads at once (as several web workers would write)."""
        share = [count // WRITERS + (i < count % WRITERS) for i in range(WRITERS)]
        streams = [Stream(tenants=10, seed=100 + i) for i in range(WRITERS)]
        _threads([lambda n=n, s=s: self._write(n, s) for n, s in zip(share, streams, strict=True)])

    def _write(self, count: int, stream: Stream) -> None:
        written = 0
        while written < count:
            with self.visit.transaction() as session:
                for _ in range(STORIES):
                    if written >= count:
                        break
                    tenant, story = stream.story()
                    for event in story[: count - written]:
                        self.outbox.add(session, event, tenant_id=tenant)
                        written += 1

    def write_paced(self, per_second: int, seconds: float) -> float:
        """One event per transaction, ``per_second`` of them for ``seconds``, each at its
        scheduled moment (from ``WRITERS`` threads, so one slow commit does not delay the
        next ones); the rate actually offered."""
        total = int(per_second * seconds)
        events = list(self.stream.events(total))
        started = time.perf_counter()

        def write(first: int) -> None:
            for index in range(first, total, WRITERS):
                delay = started + index / per_second - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                tenant, event = events[index]
                with self.visit.transaction() as session:
                    self.outbox.add(session, event, tenant_id=tenant)

        _threads([lambda i=i: write(i) for i in range(WRITERS)])
        return rate(total, time.perf_counter() - started)

    def latencies_ms(self, since_id: int) -> list[float]:
        """Commit-to-applied of every outbox row after ``since_id`` applied by the KPI."""
        query = sa.text(
            f"SELECT EXTRACT(EPOCH FROM (i.applied_at - o.created_at)) * 1000 "
            f"FROM {SCHEMAS}visit.outbox o JOIN {SCHEMAS}kpi.inbox i "
            "ON i.event_id = o.event_id AND i.consumer = 'kpi' WHERE o.id > :since"
        )
        with self.visit.engine.connect() as conn:
            return [float(v) for v in conn.execute(query, {"since": since_id}).scalars()]

    def last_id(self) -> int:
        with self.visit.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(outbox_table.c.id))).scalar() or 0


def _threads(targets) -> None:
    threads = [threading.Thread(target=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def wait_until(done, timeout: float, poll: float = 0.02) -> float | None:
    """Poll ``done()`` until true; the moment it was seen true, or None at ``timeout``."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if done():
            return time.perf_counter()
        time.sleep(poll)
    return None


def run(bench: Bench) -> None:
    n = 2_000 if bench.quick else 20_000
    e2e = 2_000 if bench.quick else 15_000
    latency_seconds = 3 if bench.quick else 15
    data: dict = {"events": {"relay": n, "consumer": n, "end_to_end": e2e}, "consumers": CONSUMERS}
    bench.extra["pipeline"] = data
    pipe = Pipeline(bench)
    workers: list[Worker] = []
    try:
        relay = Worker(bench, "relay", "visit")
        workers.append(relay)

        # (a) relay alone: rows committed at once, until all confirmed and marked sent.
        pipe.insert_rows(n)
        started, cpu = time.perf_counter(), _cpu({"relay": relay})
        ended = wait_until(pipe.all_sent(), timeout=60 + n / 500)
        relay_rate = rate(n, ended - started) if ended else None
        data["cpu_us_per_event"] = {"relay alone": _per_event(cpu, _cpu({"relay": relay}), n)}
        note = "" if relay_rate else "timed out"
        bench.add("pipeline", "relay alone: outbox -> confirmed", relay_rate, "events/s", note=note)

        # (b) one KPI consumer alone: the N events waiting on its queue, until all applied.
        consumers = [Worker(bench, "consume", "kpi")]
        workers.extend(consumers)
        consumer_rate = _consumers_alone(bench, pipe, consumers, n, "one KPI consumer alone")
        one_consumer_rate = consumer_rate
        memory = consumers[0].peak_mb()

        # (c) the pipeline: rows committed at once, then relayed, consumed and applied with
        # the relay and the KPI consumer running side by side (the writers are web requests'
        # work, measured in (d)).
        label = "pipeline" if CONSUMERS == 1 else "pipeline, 1 consumer"
        drain_rate = _drain(bench, pipe, relay, consumers, n, label)
        if CONSUMERS > 1:
            bound, what = _raw_bound(bench, relay_rate, consumer_rate)
            if drain_rate and bound:
                bench.add("pipeline", f"{label} / raw bound", drain_rate / bound, "", note=what)

            # (b') CONSUMERS consumers alone: N events published while none runs, then the
            # consumers started together (each already set up), until all are applied.
            for worker in consumers:
                worker.stop()
                workers.remove(worker)
            pipe.analyze()
            pipe.insert_rows(n)
            wait_until(pipe.all_sent(), timeout=60 + n / 500)
            consumers = [
                Worker(bench, "consume", "kpi", go=False, index=i + 1) for i in range(CONSUMERS)
            ]
            workers.extend(consumers)
            for worker in consumers:
                worker.go()
            consumer_rate = _consumers_alone(
                bench, pipe, consumers, n, f"{CONSUMERS} KPI consumers alone"
            )

            # (c') the pipeline as a deployment runs it: the relay and CONSUMERS consumers.
            drain_rate = _drain(bench, pipe, relay, consumers, n, "pipeline")
        _ratio(bench, drain_rate, relay_rate, consumer_rate, data)

        # (d) end to end: written through the outbox while relay and consumers run.
        pipe.analyze()
        before = pipe.applied()
        started = time.perf_counter()
        pipe.write_stories(e2e)
        written = time.perf_counter()
        ended = wait_until(pipe.all_applied(before + e2e), timeout=60 + e2e / 200)
        writers = rate(e2e, written - started)
        data["writer_events_per_s"] = round(writers)
        e2e_rate = rate(e2e, ended - started) if ended else None
        bench.add(
            "pipeline",
            "end to end: outbox write -> applied",
            e2e_rate,
            "events/s",
            note=f"the writers alone wrote {writers:,.0f} events/s" if e2e_rate else "timed out",
        )

        # (e) latency at a fixed offered load.
        pipe.analyze()
        since = pipe.last_id()
        before = pipe.applied()
        offered_rate = pipe.write_paced(LATENCY_RATE, latency_seconds)
        offered = int(LATENCY_RATE * latency_seconds)
        wait_until(pipe.all_applied(before + offered), timeout=30)
        samples = pipe.latencies_ms(since)
        data["latency"] = {
            "offered": offered,
            "offered_per_s": round(offered_rate),
            "applied": len(samples),
        }
        note = f"{LATENCY_RATE} events/s offered for {latency_seconds} s (outbox created_at -> "
        note += f"KPI inbox applied_at), {_consumers_note()}"
        if len(samples) < offered:
            note += f"; only {len(samples)} of {offered} applied in time"
        if samples:
            bench.add("latency", "commit -> applied p50", percentile(samples, 50), "ms", note=note)
            bench.at_most("latency", "commit -> applied p99", percentile(samples, 99), 250, "ms")
            bench.add("latency", "commit -> applied max", max(samples), "ms")
        else:
            bench.add("latency", "commit -> applied p99", None, "ms", note=note)

        bench.add("memory", "relay worker peak (visit)", relay.peak_mb(), "MiB")
        bench.add("memory", "kpi worker peak (consumer)", memory, "MiB")
        data["one_consumer_alone_per_s"] = one_consumer_rate and round(one_consumer_rate)
    finally:
        for worker in workers:
            worker.stop()
        pipe.close()


def _consumers_note() -> str:
    return "1 KPI consumer" if CONSUMERS == 1 else f"{CONSUMERS} KPI consumer processes"


def _consumers_alone(
    bench: Bench, pipe: Pipeline, consumers: list[Worker], n: int, name: str
) -> float | None:
    """The consumers (just told to go) applying the N events waiting on their queue."""
    done = pipe.all_applied(pipe.applied() + n)
    started = time.perf_counter()  # from "go": their start-up is not counted
    cpu = _cpu({}, consumers)
    ended = wait_until(done, timeout=60 + n / 200)
    consumer_rate = rate(n, ended - started) if ended else None
    bench.extra["pipeline"]["cpu_us_per_event"][name] = _per_event(cpu, _cpu({}, consumers), n)
    if consumer_rate is None:
        bench.add("pipeline", name, None, "events/s", note="timed out")
    else:
        bench.at_least("pipeline", name, consumer_rate, 2000, "events/s")
    return consumer_rate


def _drain(
    bench: Bench, pipe: Pipeline, relay: Worker, consumers: list[Worker], n: int, label: str
) -> float | None:
    """N rows committed at once, relayed and applied with the relay and ``consumers``
    running side by side: the rate, and where the CPU went (figures named ``label``)."""
    pipe.analyze()
    before = pipe.applied()
    pipe.insert_rows(n)
    started, cpu = time.perf_counter(), _cpu({"relay": relay}, consumers)
    ended = wait_until(pipe.all_applied(before + n), timeout=60 + n / 200)
    drain_rate = rate(n, ended - started) if ended else None
    if ended:
        _cpu_budget(bench, cpu, _cpu({"relay": relay}, consumers), n, ended - started, label=label)
    who = "1 KPI consumer" if len(consumers) == 1 else f"{len(consumers)} KPI consumer processes"
    bench.add(
        "pipeline",
        f"{label}: outbox -> applied",
        drain_rate,
        "events/s",
        note=f"committed rows relayed and applied, the relay and {who} side by side"
        if drain_rate
        else "timed out",
    )
    return drain_rate


def _cpu(workers: dict[str, Worker], consumers: list[Worker] = ()) -> dict[str, float]:
    """CPU seconds so far of the workers, of the consumers (together), and of the two
    servers they use."""
    seconds = {name: worker.cpu_seconds() for name, worker in workers.items()}
    if consumers:
        seconds["consumer"] = sum(worker.cpu_seconds() for worker in consumers)
    seconds["postgres"] = procs.server_cpu_seconds("postgres")
    seconds["rabbitmq"] = procs.server_cpu_seconds("beam.smp")
    return seconds


def _per_event(before: dict, after: dict, events: int) -> dict[str, float]:
    """CPU microseconds per event of each process between two :func:`_cpu` readings."""
    return {name: round((after[name] - before[name]) / events * 1e6, 1) for name in after}


def _cpu_budget(
    bench: Bench,
    before: dict,
    after: dict,
    events: int,
    seconds: float,
    label: str = "pipeline",
) -> None:
    """Where the pipeline's CPU went, per event, and how busy the machine's cores were:
    with every core busy, the CPU an event costs in all four processes bounds the rate
    (cores / CPU per event) however the work is split between them."""
    per_event = _per_event(before, after, events)
    total = sum(per_event.values())
    cores = os.cpu_count() or 1
    busy = total * events / 1e6 / (seconds * cores)
    bench.extra["pipeline"]["cpu_us_per_event"][label] = per_event
    parts = ", ".join(f"{name} {value:.0f}" for name, value in per_event.items())
    bench.add("pipeline", f"{label}: CPU per event, all four processes", total, "us", note=parts)
    bench.add(
        "pipeline",
        f"{label}: share of the cores busy in them",
        busy,
        "",
        note=f"of {cores} cores, over the drain; the rest went to other processes or idle",
    )
    bench.add(
        "pipeline",
        f"{label}: ceiling at that CPU per event",
        cores * 1e6 / total,
        "events/s",
        note=f"{cores} cores / CPU per event",
    )


def _raw_bound(
    bench: Bench, relay: float | None, consumer: float | None
) -> tuple[float | None, str]:
    """The raw figure of the stage that limits the pipeline (the slower one alone)."""
    if relay is None or consumer is None:
        return None, ""
    if consumer <= relay:
        return raw.consume_with_ack(bench), "raw kombu consume-with-ack"
    return raw.windowed_publish(bench), "raw windowed-confirm publish"


def _ratio(bench: Bench, drain: float | None, relay: float | None, consumer: float | None, data):
    """The pipeline over the raw figure of the stage that limits it (the slower one alone);
    ``consumer``: the rate of the pipeline's consumers alone."""
    if drain is None or relay is None or consumer is None:
        return
    bound, what = _raw_bound(bench, relay, consumer)
    data["ratio_against"] = what
    if bound:
        bench.at_least("pipeline", "pipeline / raw bound", drain / bound, 0.5, "", note=what)
        ceiling = bench.figure("pipeline", "pipeline: ceiling at that CPU per event")
        if ceiling is not None:
            bench.add(
                "pipeline",
                "pipeline ceiling / raw bound",
                ceiling.value / bound,
                "",
                note="the most the pipeline could reach with every core busy in its processes",
            )
    pika_bound = raw.consume_with_ack(bench, "pika")
    if pika_bound:
        bench.add(
            "pipeline",
            "pipeline / raw pika consume-with-ack",
            drain / pika_bound,
            "",
            note="the client the KPI consumer reads RabbitMQ with (receiver.py)",
        )
    consume_bound = raw.consume_with_ack(bench)
    alone = [bench.figure("pipeline", "one KPI consumer alone")]
    if CONSUMERS > 1:
        alone.append(bench.figure("pipeline", f"{CONSUMERS} KPI consumers alone"))
    for figure in alone:
        if consume_bound and figure is not None and figure.value is not None:
            bench.add(
                "pipeline",
                f"{figure.name} / raw consume-with-ack",
                figure.value / consume_bound,
                "",
                note="applying each event to PostgreSQL (inbox, log, facts, aggregates) vs "
                "ack only",
            )
    relay_bound = raw.windowed_publish(bench)
    if relay_bound:
        bench.add(
            "pipeline",
            "relay alone / raw windowed publish",
            relay / relay_bound,
            "",
            note="the relay's publish with confirms against pika's window of confirms",
        )

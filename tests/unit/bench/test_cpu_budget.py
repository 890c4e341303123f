"""The pipeline's CPU budget (bench/pipeline.py) and the CPU readings it is made of."""

from __future__ import annotations

import os

from bench import pipeline, procs, raw
from bench.context import Bench


def _bench(tmp_path) -> Bench:
    bench = Bench(
        quick=True, amqp_url="amqp://x//", postgres_url="postgresql://x/y", workdir=tmp_path
    )
    bench.extra["pipeline"] = {"cpu_us_per_event": {}}
    return bench


def test_per_event_is_microseconds_of_each_process():
    before = {"relay": 1.0, "consumer": 2.0}
    after = {"relay": 1.05, "consumer": 2.5}
    assert pipeline._per_event(before, after, 1000) == {"relay": 50.0, "consumer": 500.0}


def test_the_budget_bounds_the_rate_by_the_cores(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    bench = _bench(tmp_path)
    before = {"relay": 1.0, "consumer": 2.0, "postgres": 3.0, "rabbitmq": 4.0}
    after = {"relay": 1.1, "consumer": 2.5, "postgres": 3.3, "rabbitmq": 4.1}
    pipeline._cpu_budget(bench, before, after, events=1000, seconds=1.0)
    total = bench.figure("pipeline", "pipeline: CPU per event, all four processes")
    assert total.value == 1000.0
    assert "consumer 500" in total.note and "postgres 300" in total.note
    assert bench.figure("pipeline", "pipeline: share of the cores busy in them").value == 0.5
    assert bench.figure("pipeline", "pipeline: ceiling at that CPU per event").value == 2000.0
    assert bench.extra["pipeline"]["cpu_us_per_event"]["pipeline"]["relay"] == 100.0


def test_the_ceiling_is_set_against_the_raw_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    bench = _bench(tmp_path)
    bench.add("raw", f"kombu consume, prefetch {raw.PREFETCH}, ack each", 5000, "msg/s")
    bench.add("raw", f"pika publish, {raw.WINDOW} confirms in flight", 12000, "msg/s")
    before = dict.fromkeys(("relay", "consumer", "postgres", "rabbitmq"), 0.0)
    after = {"relay": 0.1, "consumer": 0.3, "postgres": 0.3, "rabbitmq": 0.1}
    pipeline._cpu_budget(bench, before, after, events=1000, seconds=1.0)  # 800 us an event
    pipeline._ratio(bench, 1500, relay=6000, consumer=2000, data=bench.extra["pipeline"])
    ratio = bench.figure("pipeline", "pipeline / raw bound")
    assert (ratio.value, ratio.met) == (0.3, False)
    assert bench.figure("pipeline", "pipeline ceiling / raw bound").value == 0.5


def test_a_server_counts_every_process_of_that_name():
    sum(range(200_000))  # some CPU of our own
    own = procs.cpu_seconds(os.getpid())
    with open(f"/proc/{os.getpid()}/comm") as comm:
        name = comm.read().strip()
    assert procs.server_cpu_seconds(name) >= own > 0
    assert procs.server_cpu_seconds("no-such-server-") == 0

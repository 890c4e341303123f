"""The benchmark's own arithmetic and report (bench/stats.py, context.py, report.py)."""

from __future__ import annotations

import json

import pytest

from bench import report
from bench.context import Bench
from bench.stats import percentile, rate


def test_percentile_is_nearest_rank():
    samples = list(range(1, 101))
    assert percentile(samples, 50) == 50
    assert percentile(samples, 99) == 99
    assert percentile(samples, 100) == 100
    assert percentile([4, 1, 3, 2], 50) == 2  # unsorted input
    assert percentile([7.5], 99) == 7.5


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        percentile([], 50)


def test_rate():
    assert rate(3000, 1.5) == 2000
    assert rate(5, 0) == float("inf")


def _bench(tmp_path) -> Bench:
    return Bench(
        quick=True, amqp_url="amqp://x//", postgres_url="postgresql://x/y", workdir=tmp_path
    )


def test_targets_say_whether_they_were_met(tmp_path):
    bench = _bench(tmp_path)
    fast = bench.at_least("pipeline", "kpi consumer", 2500, 2000, "events/s")
    slow = bench.at_most("latency", "p99", 310.0, 250, "ms", note="load 5")
    plain = bench.add("raw", "kombu publish", 1400.4567, "msg/s")
    assert (fast.met, fast.target) == (True, ">= 2000")
    assert (slow.met, slow.target) == (False, "<= 250")
    assert plain.met is None and plain.value == 1400.457
    assert bench.figure("latency", "p99") is slow
    assert bench.figure("latency", "p50") is None


def test_the_table_marks_misses_and_lists_notes(tmp_path):
    bench = _bench(tmp_path)
    bench.at_least("pipeline", "kpi consumer", 2500, 2000, "events/s")
    bench.at_most("latency", "p99", 310.0, 250, "ms", note="load 5")
    lines = report.table(bench.figures).splitlines()
    assert lines[0].split() == ["section", "figure", "value", "target", "met"]
    consumer = next(line for line in lines if "kpi consumer" in line)
    assert "2,500 events/s" in consumer and consumer.endswith("yes")
    assert next(line for line in lines if "p99" in line).endswith("NO")
    assert lines[-1] == "  latency / p99: load 5"


def test_results_file(tmp_path):
    bench = _bench(tmp_path)
    bench.at_least("pipeline", "kpi consumer", 2500, 2000, "events/s")
    out = tmp_path / "results" / "latest.json"
    report.write(out, bench.figures, {"load_before": (1.0, 0.5, 0.2)}, quick=True, seconds=12.34)
    doc = json.loads(out.read_text())
    assert doc["quick"] is True and doc["seconds"] == 12.3
    assert doc["machine"]["load_before"] == [1.0, 0.5, 0.2]
    assert doc["figures"] == [
        {
            "section": "pipeline",
            "name": "kpi consumer",
            "value": 2500.0,
            "unit": "events/s",
            "target": ">= 2000",
            "met": True,
        }
    ]

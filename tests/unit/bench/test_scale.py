"""The pure parts of the "scale" section (bench/scale.py): sizes, shares, summaries, plans."""

from __future__ import annotations

import pytest

from bench import scale


def test_size_labels():
    assert scale.size_label(10_000) == "10k"
    assert scale.size_label(100_000) == "100k"
    assert scale.size_label(1_000_000) == "1M"
    assert scale.size_label(1234) == "1234"


def test_steps_are_what_each_size_adds():
    assert scale.steps(scale.SIZES) == [10_000, 90_000, 900_000]
    assert scale.steps(scale.QUICK_SIZES) == [10_000, 90_000]
    with pytest.raises(ValueError):
        scale.steps([10, 10])


def test_split_shares_everything_evenly():
    assert scale.split(900_000, 2) == [450_000, 450_000]
    assert scale.split(7, 3) == [3, 2, 2]
    assert sum(scale.split(90_001, 2)) == 90_001


def test_summary_in_ms():
    got = scale.summary([i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert got["n"] == 100
    assert got["p50"] == pytest.approx(50)
    assert got["p99"] == pytest.approx(99)
    assert got["min"] == pytest.approx(1) and got["max"] == pytest.approx(100)


def test_endpoints_cover_metrics_and_the_kpi_queries():
    names = [name for name, _, _ in scale.endpoints()]
    assert names[0] == "/metrics"
    paths = dict((name, path) for name, path, _ in scale.endpoints())
    assert paths["/kpis month"] == "/api/v1/kpis?from=2026-06-01&to=2026-06-30"
    assert paths["/kpis year by assignee"].endswith("&group_by=assignee")
    kw = dict((name, kw) for name, _, kw in scale.endpoints())
    assert kw["/metrics"] == {}
    assert kw["/kpis year by region"]["group_by"] == "region"


def aggregate_over(scan: dict, **timings) -> dict:
    """An EXPLAIN (ANALYZE, FORMAT JSON) plan: one row aggregated from ``scan``."""
    node = {"Node Type": "Aggregate", "Actual Rows": 1, "Actual Loops": 1, "Plans": [scan]}
    return {"Plan": node, **timings}


def test_plan_digest_sums_the_rows_scans_read():
    index_scan = {"Node Type": "Bitmap Index Scan", "Index Name": "kpi_daily_pkey"}
    heap_scan = {"Node Type": "Bitmap Heap Scan", "Relation Name": "kpi_daily"}
    heap_scan["Plans"] = [{**index_scan, "Actual Rows": 900, "Actual Loops": 1}]
    plan = aggregate_over(
        {**heap_scan, "Actual Rows": 900, "Actual Loops": 1},
        **{"Execution Time": 1.5, "Planning Time": 0.2},
    )
    got = scale.plan_digest(plan)
    assert got["execution_ms"] == 1.5 and got["planning_ms"] == 0.2
    assert got["rows_out"] == 1
    assert got["rows_scanned"] == 900  # the heap scan's rows, not its index scan's too
    assert got["nodes"] == [
        "Aggregate",
        "  Bitmap Heap Scan on kpi_daily",
        "    Bitmap Index Scan on kpi_daily_pkey",
    ]


def test_plan_digest_counts_the_rows_a_filter_dropped():
    scan = {"Node Type": "Seq Scan", "Relation Name": "kpi_monthly", "Actual Rows": 100}
    scan |= {"Rows Removed by Filter": 300, "Actual Loops": 3}  # a parallel scan: per loop
    plan = aggregate_over(scan, **{"Execution Time": 4.0})
    got = scale.plan_digest(plan)
    assert got["rows_scanned"] == 1200
    assert got["scans"][0]["removed_by_filter"] == 900

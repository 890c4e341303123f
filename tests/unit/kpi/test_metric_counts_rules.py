"""The counts kept for the policies' metrics (units sold, complaints' resolve limits): what a
purchase or a complaint fact contributes, without a database."""

from __future__ import annotations

from kpi_service.domain import contribution, deltas, totals_key, units

TZ = "Asia/Shanghai"


def purchase(**extra):
    return {"fields": {"purchased_at": "2026-01-03T02:00:00Z", "region": "east", **extra}}


def complaint(deadlines=None, **extra):
    fields = {"received_at": "2026-01-02T02:00:00Z", "region": "east", "department": "product"}
    if deadlines is not None:
        fields["deadlines"] = deadlines
    return {"fields": {**fields, **extra}}


def counts(kind, state):
    return dict(contribution(kind, state, TZ).counts)


def test_units_of_a_purchase():
    assert units(3) == 3 and units(0) == 0
    assert units(None) == units("3") == units(True) == units(-1) == units(2.5) == 1
    assert counts("purchase", purchase(quantity=4)) == {"purchases": 1, "units_sold": 4}
    assert counts("purchase", purchase()) == {"purchases": 1, "units_sold": 1}
    assert counts("purchase", purchase(quantity=0)) == {"purchases": 1}


RESOLVED_ON_TIME = {"resolved_at": "2026-01-03T02:00:00Z", "within_deadline": True}


def test_complaints_with_a_resolve_limit():
    limit = {"resolve_by": "2026-01-09T02:00:00Z"}
    assert counts("complaint", complaint(limit))["complaint_resolve_limits"] == 1
    got = counts("complaint", complaint(limit, **RESOLVED_ON_TIME))
    assert got["complaint_resolve_limits"] == got["complaints_resolved_within_limit"] == 1
    late = {**RESOLVED_ON_TIME, "within_deadline": False}
    assert "complaints_resolved_within_limit" not in counts("complaint", complaint(limit, **late))


def test_a_complaint_without_a_resolve_limit_is_in_neither():
    for deadlines in (None, {}, {"resolve_by": None}, {"resolve_by": ""}, "2026-01-09"):
        got = counts("complaint", complaint(deadlines, **RESOLVED_ON_TIME))
        assert got["complaints_resolved_on_time"] == 1
        assert "complaint_resolve_limits" not in got, deadlines
        assert "complaints_resolved_within_limit" not in got, deadlines


def test_reopening_keeps_the_complaint_within_its_limit():
    """The counters count the first resolution: a reopening takes the complaint out of
    ``complaints_resolved`` (GET /kpis) but out of no metric count."""
    limit = {"resolve_by": "2026-01-09T02:00:00Z"}
    first = {f"first_{name}": value for name, value in RESOLVED_ON_TIME.items()}
    resolved = contribution("complaint", complaint(limit, **RESOLVED_ON_TIME, **first), TZ)
    reopened = complaint(limit, **RESOLVED_ON_TIME, **first, reopened_at="2026-01-04T02:00:00Z")
    moved = deltas(resolved, contribution("complaint", reopened, TZ), totals_key)
    (change,) = moved.values()
    assert change == {"complaints_resolved": -1, "complaints_resolved_on_time": -1}


def test_a_fact_from_before_first_resolutions_counts_its_newest():
    limit = {"resolve_by": "2026-01-09T02:00:00Z"}
    got = counts("complaint", complaint(limit, **RESOLVED_ON_TIME))
    assert got["complaints_first_resolved"] == got["complaints_first_resolved_on_time"] == 1
    assert got["complaints_resolved_within_limit"] == 1
    late = {**RESOLVED_ON_TIME, "first_resolved_at": "2026-01-03T02:00:00Z"}
    got = counts("complaint", complaint(limit, **late, first_within_deadline=False))
    assert got["complaints_first_resolved"] == 1
    assert "complaints_first_resolved_on_time" not in got
    assert "complaints_resolved_within_limit" not in got

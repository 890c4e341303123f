"""The KPI store's statement parameters are encoded by orjson where its text reads as the
stdlib encoder's does, by the stdlib encoder where orjson refuses a value or would write it
otherwise (an infinite float in a fact's state)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_service.bulk import _dumps, _fact_rows, _json_dumps
from tests.support.json_trees import json_trees

FACT = {
    "tenant_id": "t-1",
    "kind": "purchase",
    "entity_id": "p-1",
    "state": {
        "fields": {"amount": "3835.00", "quantity": 2, "region": "east", "rate": 0.25},
        "versions": {"amount": 0, "quantity": 0},
        "stamps": [[0, "2026-10-01T14:49:00.000000+00:00", "e-1"]],
    },
    "applied": {"kind": "purchase", "day": "2026-10-01", "counts": {"purchases": 1}},
    "day": date(2026, 10, 1),
    "limit_day": None,
}


def test_rows_as_the_store_writes_them_are_the_stdlib_encoders_text():
    rows = [FACT, {**FACT, "entity_id": "p-2", "day": date(999, 1, 2)}]
    assert _dumps(rows) == _json_dumps(rows)
    assert _fact_rows(rows) == _json_dumps(rows)
    assert _dumps([]) == "[]"
    assert _dumps(["t-1", "t-2"]) == '["t-1","t-2"]'
    assert json.loads(_dumps(rows))[1]["day"] == "0999-01-02"


def test_text_differs_only_in_spelling():
    value = {"name": "Zoë 李", "tiny": 1e-07, "huge": 1e22, "ctrl": "a\nb\x01\x7f/"}
    assert _dumps(value) == '{"name":"Zoë 李","tiny":1e-7,"huge":1e+22,"ctrl":"a\\nb\\u0001\x7f/"}'
    assert json.loads(_dumps(value)) == json.loads(_json_dumps(value)) == value


class Label(str):
    pass


@dataclass
class Point:
    x: int


@pytest.mark.parametrize(
    "value",
    [
        {"n": 2**64},  # beyond 64 bits
        {"n": -(2**63) - 1},
        [{"n": 10**100}],
        {1: "a", None: "b"},  # keys that are not strings
        {"s": "\ud800"},  # a lone surrogate
        {"label": Label("x")},  # a subclass of str
    ],
)
def test_what_orjson_refuses_is_the_stdlib_encoders(value):
    assert _dumps(value) == _json_dumps(value)


def test_what_neither_encodes_raises_as_before():
    with pytest.raises(TypeError, match="Point is not JSON serializable"):
        _dumps([Point(1)])
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        _dumps({"s": {1}})


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan")])
def test_a_non_finite_float_in_a_facts_state_is_written_as_before(number):
    fields = {**FACT["state"]["fields"], "amount": {"parts": [1, number]}}
    rows = [FACT, {**FACT, "state": {**FACT["state"], "fields": fields}}]
    assert _fact_rows(rows) == _json_dumps(rows)
    assert "Infinity" in _fact_rows(rows) or "NaN" in _fact_rows(rows)


VALUES = json_trees(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.dates()
)


@given(VALUES)
def test_any_value_reads_back_as_the_stdlib_encoders_text(value):
    assert json.loads(_dumps(value)) == json.loads(_json_dumps(value))

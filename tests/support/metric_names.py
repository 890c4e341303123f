"""The metric names the Prometheus rules and the Grafana dashboard use.

``metric_names_used()`` is for the test that checks them against a running instance's
``/metrics``: every name it returns must appear there. Names are as Prometheus stores them
(a histogram's ``_bucket``/``_sum``/``_count`` series by those names), and only revisit's own
(``revisit_*``); the recording rules' outputs (``revisit:...``) are defined by the rules file
itself and come back from ``recorded_names_used()``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import yaml

from .artefacts import DASHBOARD_FILE, RULES_FILE

# A PromQL metric name: not preceded by a name character or a colon (so the "revisit_" in
# "revisit:visit_completion" or "x_revisit_y" does not count).
_METRIC = re.compile(r"(?<![A-Za-z0-9_:])revisit_[A-Za-z0-9_]*[A-Za-z0-9]")
_RECORDED = re.compile(r"(?<![A-Za-z0-9_:])revisit:[A-Za-z0-9_:]*[A-Za-z0-9_]")
# String literals ("..." '...' `...`) hold label values, not names: blank them first.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')


def _strip_strings(expr: str) -> str:
    return _STRING.sub('""', expr)


def rule_groups() -> list[dict]:
    return yaml.safe_load(RULES_FILE.read_text())["groups"]


def rule_expressions() -> Iterator[str]:
    for group in rule_groups():
        for rule in group["rules"]:
            yield rule["expr"]


def dashboard() -> dict:
    return json.loads(DASHBOARD_FILE.read_text())


def _panels(panels: list[dict]) -> Iterator[dict]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))


def dashboard_expressions() -> Iterator[str]:
    """Every PromQL expression of the dashboard: panel targets and variable queries."""
    board = dashboard()
    for panel in _panels(board.get("panels", [])):
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield target["expr"]
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable.get("query")
        if isinstance(query, dict):
            query = query.get("query")
        if query:
            yield query


def names_in(expr: str) -> set[str]:
    return set(_METRIC.findall(_strip_strings(expr)))


def metric_names_used() -> set[str]:
    """Every ``revisit_*`` metric name the rules file and the dashboard use."""
    names: set[str] = set()
    for expr in (*rule_expressions(), *dashboard_expressions()):
        names |= names_in(expr)
    return names


def recorded_names_used() -> set[str]:
    """Every ``revisit:*`` recording-rule name the rules and the dashboard use."""
    names: set[str] = set()
    for expr in (*rule_expressions(), *dashboard_expressions()):
        names |= set(_RECORDED.findall(_strip_strings(expr)))
    return names


def recorded_names_defined() -> set[str]:
    return {
        rule["record"] for group in rule_groups() for rule in group["rules"] if "record" in rule
    }

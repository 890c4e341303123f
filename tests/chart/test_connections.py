"""A whole region's PostgreSQL connections fit the server (issue #15): the worst case,
computed here from the rendered manifests alone, is within postgresql.maxConnections less
reservedConnections for every values file, and is the figure the chart itself checks
(templates/connection-budget.yaml refuses to render a release over its budget)."""

from __future__ import annotations

import math
import re

import pytest

from revisit_common.config import Settings
from tests.support.artefacts import (
    VALUES_FILES,
    by_kind,
    containers,
    render,
    rendered_objects,
    values_for,
)

values_files = pytest.mark.parametrize("values_file", VALUES_FILES, ids=lambda v: v or "defaults")
DEFAULTS = Settings()
GUNICORN_WORKERS = 2  # gunicorn_conf.py's default WEB_CONCURRENCY
MIGRATIONS_JOB = 2  # the webhook handover holds complaint's and notify's databases at once


def _env(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", []) if "value" in item}


def _pods(deployment: dict, hpas: dict[str, dict]) -> int:
    """The most pods of a Deployment at once: its HPA's maximum (or replicas), plus the
    pods a rolling update adds (Recreate adds none)."""
    hpa = next(
        (h for h in hpas.values() if h["spec"]["scaleTargetRef"]["name"] == deployment["name"]),
        None,
    )
    pods = hpa["spec"]["maxReplicas"] if hpa else deployment["spec"].get("replicas", 1)
    strategy = deployment["spec"].get("strategy", {"type": "RollingUpdate"})
    if strategy["type"] == "Recreate":
        return pods
    surge = strategy.get("rollingUpdate", {}).get("maxSurge", "25%")
    if isinstance(surge, str):
        surge = math.ceil(pods * int(surge.rstrip("%")) / 100)
    return pods + surge


def _per_pod(container: dict) -> int:
    """Connections one pod's container can hold: per process its pool and overflow, the
    gateway web process one per thread more, a worker one more (the outbox LISTEN)."""
    env = _env(container)
    pool = int(env.get("REVISIT_DB_POOL_SIZE", DEFAULTS.db_pool_size))
    pool += int(env.get("REVISIT_DB_MAX_OVERFLOW", DEFAULTS.db_max_overflow))
    command = " ".join(container["command"])
    if "revisit_runner.worker" in command:
        return pool + 1
    assert "gunicorn" in command, command
    processes = int(env.get("WEB_CONCURRENCY", GUNICORN_WORKERS))
    if 'app("gateway")' in command:
        pool += int(env["REVISIT_WEB_THREADS"])
    return processes * pool


def worst_case(objs: list[dict]) -> int:
    hpas = by_kind(objs, "HorizontalPodAutoscaler")
    total = 0
    for deployment in (o for o in objs if o["kind"] == "Deployment"):
        named = {"name": deployment["metadata"]["name"], "spec": deployment["spec"]}
        total += _pods(named, hpas) * sum(_per_pod(c) for c in containers(deployment))
    jobs = [o for o in objs if o["kind"] == "Job"]
    assert [" ".join(next(containers(j))["command"]) for j in jobs] in (
        [],
        ["python -m revisit_runner.migrate all"],
    )
    return total + MIGRATIONS_JOB * len(jobs)


def budget(values_file: str | None) -> int:
    defaults = values_for("values.yaml")["postgresql"]
    own = values_for(values_file).get("postgresql", {}) if values_file else {}
    pg = {**defaults, **own}
    return pg["maxConnections"] - pg["reservedConnections"]


def refused_figure(values: dict) -> int:
    """What the chart says the release can open, from its refusal to render it."""
    with pytest.raises(Exception, match="PostgreSQL connections") as refused:
        render(values)
    return int(re.search(r"can open (\d+)", str(refused.value)).group(1))


@values_files
def test_the_worst_case_fits_the_servers_budget(values_file):
    objs = rendered_objects(values_file)
    assert 0 < worst_case(objs) <= budget(values_file)


def test_the_defaults_fill_a_default_server_exactly_as_values_yaml_says():
    """values.yaml's arithmetic: 48 + 24 + 21 + 2 = 95 of 100 - 5."""
    assert worst_case(rendered_objects(None)) == 95
    assert budget(None) == 95
    notes = render()["revisit/templates/NOTES.txt"]
    assert "PostgreSQL connections: at most 95 at once" in notes


@values_files
def test_the_chart_counts_what_the_manifests_hold(values_file):
    values = values_for(values_file)
    values.setdefault("postgresql", {})["maxConnections"] = 1
    values["postgresql"]["reservedConnections"] = 0
    assert refused_figure(values) == worst_case(rendered_objects(values_file))


def test_a_release_over_its_budget_is_refused():
    more_pods = {"web": {"autoscaling": {"maxReplicas": 4}}}
    assert refused_figure(more_pods) == 95 + 6 * 2 + 6  # one more pod of every service
    bigger_pools = {"services": {"kpi": {"worker": {"db": {"poolSize": 3}}}}}
    assert refused_figure(bigger_pools) == 96
    render({**bigger_pools, "postgresql": {"maxConnections": 101}})  # raised: renders


def test_every_process_gets_its_pool_and_the_pool_timeout():
    objs = rendered_objects(None)
    config = next(o for o in objs if o["kind"] == "ConfigMap")["data"]
    assert config["REVISIT_DB_POOL_TIMEOUT"] == "5"
    for deployment in (o for o in objs if o["kind"] == "Deployment"):
        for container in containers(deployment):
            env = _env(container)
            assert env["REVISIT_DB_POOL_SIZE"] == "2", deployment["metadata"]["name"]
            assert env["REVISIT_DB_MAX_OVERFLOW"] == "0", deployment["metadata"]["name"]

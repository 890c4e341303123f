"""The deployment artefacts, loaded once for the chart tests: paths, rendered chart objects,
the compose file, and what environment variables the code reads."""

from __future__ import annotations

import ast
import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "revisit"
RULES_FILE = CHART / "files" / "prometheus-rules.yml"
DASHBOARD_FILE = CHART / "files" / "grafana-dashboard.json"
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"
DEPLOY = REPO / "deploy"

SERVICES = ("gateway", "customer", "visit", "complaint", "survey", "kpi", "notify")
BACKENDS = tuple(s for s in SERVICES if s != "gateway")
REGIONS = ("cn-east", "eu-west")
# Every values file the chart ships: None is the chart's defaults.
VALUES_FILES = (None, *(f"values-{region}.yaml" for region in REGIONS))
RELEASE = "revisit"
NAMESPACE = "revisit"
# Kubernetes versions the rendered objects must be valid for: the chart's floor
# (Chart.yaml kubeVersion) and the newest kubernetes-validate knows.
KUBE_FLOOR = "1.27.0"

# CI (.ci/run) sets this: a missing tool is then a failure, not a skip.
REQUIRED = os.environ.get("REVISIT_REQUIRE_SERVICES") == "1"


def need_module(name: str, why: str):
    """Import ``name`` or skip (fail in CI) with the reason."""
    try:
        return __import__(name)
    except ImportError:
        message = f"{name} is not installed ({why}); pip install '.[test]'"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


def need_program(name: str, why: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not on PATH ({why}); .ci/run installs it"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    return path


# ---------------------------------------------------------------- YAML without surprises


class StrictLoader(yaml.SafeLoader):
    """Safe YAML that refuses a key twice in one mapping (Kubernetes' decoder rejects it)."""


def _no_duplicates(loader: StrictLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def load_yaml(text: str):
    return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass


# ---------------------------------------------------------------- the chart


def values_for(values_file: str | None) -> dict:
    if values_file is None:
        return {}
    return yaml.safe_load((CHART / values_file).read_text())


@functools.cache
def _chart():
    helm_python = need_module("helm_python", "renders and lints the chart")
    return helm_python.Chart.load(str(CHART))


def render(values: dict | None = None, *, release: str = RELEASE) -> dict[str, str]:
    """Template path → rendered text (NOTES.txt included)."""
    return _chart().render(values or {}, name=release, namespace=NAMESPACE)


def objects(rendered: dict[str, str]) -> list[dict]:
    """Every Kubernetes object the rendered templates hold."""
    found = []
    for path, text in sorted(rendered.items()):
        if not path.endswith((".yaml", ".yml")):
            continue
        for doc in yaml.load_all(text, Loader=StrictLoader):  # noqa: S506 - SafeLoader subclass
            if doc:
                found.append(doc)
    return found


@functools.cache
def _rendered_file(values_file: str | None) -> tuple[dict[str, str], tuple]:
    rendered = render(values_for(values_file))
    return rendered, tuple(objects(rendered))


def rendered_objects(values_file: str | None) -> list[dict]:
    return list(_rendered_file(values_file)[1])


def by_kind(objs: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objs if o["kind"] == kind}


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def containers(obj: dict) -> Iterator[dict]:
    spec = pod_spec(obj)
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def env_names(objs: list[dict], container: dict) -> set[str]:
    """Every variable a container gets: env entries plus the keys of envFrom sources."""
    names = {e["name"] for e in container.get("env", [])}
    config_maps = by_kind(objs, "ConfigMap")
    secrets = by_kind(objs, "Secret")
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(config_maps[source["configMapRef"]["name"]]["data"])
        if "secretRef" in source:
            secret = secrets.get(source["secretRef"]["name"])
            if secret is not None:  # an existingSecret is not ours to inspect
                names |= set(secret.get("stringData", {})) | set(secret.get("data", {}))
    return names


def matches(selector: dict, labels: dict) -> bool:
    """Does a Kubernetes label selector select these labels?"""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


# ---------------------------------------------------------------- compose


@functools.cache
def compose() -> dict:
    return load_yaml(COMPOSE_FILE.read_text())


# ---------------------------------------------------------------- what the code reads

# Variables the compose file and the chart may set although no revisit module reads them,
# each with who reads it.
ENV_ALLOWLIST = {
    "WEB_CONCURRENCY": "gunicorn: the number of workers (also revisit_runner.gunicorn_conf)",
    "PROMETHEUS_MULTIPROC_DIR": "prometheus-client's multiprocess mode under gunicorn "
    "(also revisit_common.metrics and revisit_runner.gunicorn_conf)",
}
# Third-party images in docker-compose.yml and the variables their entrypoints read.
IMAGE_ENV_ALLOWLIST = {
    "postgres": ({"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}, "postgres entrypoint"),
    "rabbitmq": ({"RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS"}, "rabbitmq entrypoint"),
    "grafana/grafana": (
        {
            "GF_SECURITY_ADMIN_PASSWORD",
            "GF_USERS_ALLOW_SIGN_UP",
            "GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH",
        },
        "Grafana maps GF_<SECTION>_<KEY> onto grafana.ini",
    ),
    "prom/prometheus": (set(), "configured by flags and files only"),
}


class _RecordingEnv(dict):
    """An empty environment that remembers every name looked up in it."""

    def __init__(self):
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return default

    def __getitem__(self, key):
        self.asked.add(key)
        raise KeyError(key)

    def __contains__(self, key):
        self.asked.add(key)
        return False


def _is_environ(node: ast.AST) -> bool:
    """``os.environ``, ``environ`` or ``env`` (the mapping Settings.from_env reads)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id in {"environ", "env"}


# revisit_common.env's readers of a service's options (``flag(env, "REVISIT_KEY_CACHE")``).
ENV_READERS = frozenset({"flag", "integer", "number", "text"})


def _names_in_source(root: Path) -> set[str]:
    """Names read as string literals with ``os.environ.get``, ``os.getenv``,
    ``os.environ[...]`` (or ``env.get``/``env[...]``), or a reader of ``revisit_common.env``
    in the Python files under ``root``."""
    names: set[str] = set()
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            arg = None
            if isinstance(node, ast.Call) and node.args:
                func = node.func
                if isinstance(func, ast.Attribute) and (
                    func.attr == "getenv"
                    or (func.attr in {"get", "setdefault", "pop"} and _is_environ(func.value))
                ):
                    arg = node.args[0]
                elif isinstance(func, ast.Name) and func.id in ENV_READERS and len(node.args) > 1:
                    arg = node.args[1]  # revisit_common.env: reader(env, "REVISIT_...", default)
            elif isinstance(node, ast.Subscript) and _is_environ(node.value):
                arg = node.slice
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                names.add(arg.value)
    return names


@functools.cache
def env_read_by_code() -> frozenset[str]:
    """Every environment variable revisit's code reads: what ``Settings.from_env`` looks up
    (including the per-service names it builds), plus names read directly anywhere in
    libs/, services/ and deploy/ (gunicorn.conf.py, the worker entry point)."""
    from revisit_common.config import Settings

    env = _RecordingEnv()
    Settings.from_env(env)
    names = set(env.asked)
    for folder in ("libs", "services", "deploy"):
        names |= _names_in_source(REPO / folder)
    return frozenset(names)


def unread(names: set[str]) -> set[str]:
    """The names nothing reads."""
    return {n for n in names if n not in env_read_by_code() and n not in ENV_ALLOWLIST}

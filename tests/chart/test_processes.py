"""The two commands the image runs, run for real on this machine (SQLite, in-memory bus,
loopback only): gunicorn with revisit_runner.gunicorn_conf, and the worker with --metrics-port."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.artefacts import REPO
from tests.support.ports import free_port


def wait_for(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"exited early ({proc.returncode}):\n{log.read_text()}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    pytest.fail(f"{url} did not answer:\n{log.read_text()}")


def stop(proc: subprocess.Popen, log: Path) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"did not stop on SIGTERM:\n{log.read_text()}")


@contextlib.contextmanager
def running_process(command: list[str], *, cwd: Path, env: dict, log: Path) -> Iterator:
    """``command`` started in its own session, its output in ``log``; on exit stopped with
    SIGTERM, on which it must exit with code 0."""
    with open(log, "w") as out:
        proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield proc
    finally:
        code = stop(proc, log)
    assert code == 0, log.read_text()


METRICS_TOKEN = "metrics-token-for-tests"
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REVISIT_", "PROMETHEUS_"))}
    env.update(
        REVISIT_INTERNAL_TOKEN="internal-token-for-tests-0123456789abcdef",
        REVISIT_METRICS_TOKEN=METRICS_TOKEN,
        REVISIT_DATA_DIR=str(tmp_path / "var"),
        HOME=str(tmp_path),
        # Every service package importable even before pyproject.toml lists it.
        PYTHONPATH=os.pathsep.join(
            [str(p) for p in sorted((REPO / "services").glob("*")) if p.is_dir()]
            + [str(REPO / "libs" / "common"), str(REPO / "libs" / "runner")]
        ),
    )
    return env


def samples(text: str, name: str) -> dict[str, float]:
    found = {}
    for line in text.splitlines():
        match = re.match(rf"^{name}(\{{.*\}})? ([0-9.e+-]+)$", line)
        if match:
            found[match.group(1) or ""] = float(match.group(2))
    return found


def test_gunicorn_config_sums_metrics_over_workers_and_wipes_stale_files(tmp_path):
    port = free_port()
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    stale = metrics_dir / "counter_999999.db"
    stale.write_bytes(b"left over from a previous run")
    env = base_env(tmp_path) | {
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "WEB_CONCURRENCY": "2",
        "REVISIT_WEB_THREADS": "2",
    }
    log = tmp_path / "gunicorn.log"
    command = [
        *(sys.executable, "-m", "gunicorn", "--config", "python:revisit_runner.gunicorn_conf"),
        *("--bind", f"127.0.0.1:{port}"),  # the config binds 0.0.0.0:8000 in a container
        'revisit_runner.web:app("customer")',
    ]
    with running_process(command, cwd=tmp_path, env=env, log=log) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz", proc, log)
        assert not stale.exists()
        session_count = 40
        for _ in range(session_count):
            # A new connection each time, so both workers answer some of them.
            assert requests.get(base + "/healthz", headers={"Connection": "close"}).ok
        text = requests.get(base + "/metrics", headers=SCRAPE).text
        healthz = {
            labels: value
            for labels, value in samples(text, "revisit_http_requests_total").items()
            if 'route="/healthz"' in labels
        }
        assert sum(healthz.values()) >= session_count
        assert 'service="customer"' in next(iter(healthz))
        assert samples(text, "revisit_outbox_pending")
        pids = {p.name.rsplit("_", 1)[-1] for p in metrics_dir.glob("*.db")}
        assert pids, "no multiprocess files: PROMETHEUS_MULTIPROC_DIR not used"


def test_worker_serves_its_metrics_and_stops_on_sigterm(tmp_path):
    port = free_port()
    log = tmp_path / "worker.log"
    command = [*(sys.executable, "-m", "revisit_runner.worker"), "--metrics-port", str(port)]
    command.append("customer")
    with running_process(command, cwd=REPO, env=base_env(tmp_path), log=log) as proc:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz", proc, log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = requests.get(base + "/metrics", headers=SCRAPE).text
            if samples(text, "revisit_outbox_pending"):
                break
            time.sleep(0.2)
        assert samples(text, "revisit_outbox_pending") == {
            '{region="local",service="customer"}': 0.0
        }
        assert "# TYPE revisit_dead_letters_total counter" in text
        assert requests.get(base + "/nothing").status_code == 404


def test_the_migrations_job_command_migrates_every_service(tmp_path):
    """The chart's hook Job command, run as it is (SQLite files instead of PostgreSQL)."""
    from tests.support.artefacts import by_kind, containers, rendered_objects

    (job,) = by_kind(rendered_objects(None), "Job").values()
    (container,) = containers(job)
    command = container["command"]
    assert command[0] == "python"
    result = subprocess.run(
        [sys.executable, *command[1:]],
        cwd=tmp_path,
        env=base_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "migrated gateway" in result.stderr
    assert (tmp_path / "var" / "gateway.sqlite3").exists()

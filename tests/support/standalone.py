"""Start revisit in standalone mode as a real process (the command `make run` runs)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

from .ports import free_port

REPO = Path(__file__).resolve().parents[2]
ADMIN = "platform-token-for-tests"  # the platform token the tests give a server
CUSTOMER = {
    "name": "Huadong Trading",
    "type": "dealer",
    "region": "east",
    "annual_purchase_amount": 1500000,
    "cooperation_start": "2019-03-01",
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def tenant_with_customer(base: str, timeout: float = 10) -> tuple[str, requests.Response]:
    """On a server at ``base`` (platform token ADMIN): a new tenant's admin key, and the
    response creating one of its customers (CUSTOMER)."""
    r = requests.post(
        base + "/api/v1/tenants", json={"name": "Acme"}, headers=bearer(ADMIN), timeout=timeout
    )
    assert r.status_code == 201, r.text
    key = r.json()["admin_key"]
    r = requests.post(
        base + "/api/v1/customers", json=CUSTOMER, headers=bearer(key), timeout=timeout
    )
    assert r.status_code == 201, r.text
    return key, r


def uses_repo_venv() -> bool:
    return Path(sys.prefix).resolve() == (REPO / ".venv").resolve()


class Server:
    """One standalone revisit process; ``start`` waits until /healthz answers."""

    def __init__(self, data_dir: Path, port: int | None = None, env: dict | None = None):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "REVISIT_PORT": str(self.port),
            "REVISIT_DATA_DIR": str(data_dir),
            **(env or {}),
        }
        self.proc: subprocess.Popen | None = None
        self.log_path = data_dir / f"server-{self.port}.log"

    def command(self) -> list[str]:
        # In the repo's own venv (make test), run the README's command itself.
        if uses_repo_venv():
            return ["make", "--no-print-directory", "-C", str(REPO), "run"]
        return [sys.executable, "-m", "revisit_runner"]

    def start(self, timeout: float = 60) -> Server:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.command(),
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.output()}")
            try:
                if requests.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not become healthy:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
        self.log.close()

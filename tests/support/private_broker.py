"""A RabbitMQ node of a test session's own, on free ports, for the tests that stop the
broker or block its publishers: nothing else uses it, so those tests run beside the rest of
the suite (and beside a `make stack`) without disturbing them.

It is the machine's RabbitMQ installation started again under another node name, with its
data and logs in a temporary folder (removed afterwards) and no plugins. The server scripts
run the node as the ``rabbitmq`` user when started by root; anyone else needs to be that
user. Control it with ``rabbitmqctl -n <node>``.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.polling import wait_until
from tests.support.ports import free_block

START_SECONDS = 60


@dataclass(frozen=True)
class PrivateBroker:
    node: str
    port: int

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def ctl(self) -> list[str]:
        """The ``rabbitmqctl`` command line for this node."""
        return ["rabbitmqctl", "-n", self.node]


def _owned_by_rabbitmq(folder: Path) -> None:
    if os.geteuid() != 0:
        return
    user = pwd.getpwnam("rabbitmq")
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)


@contextlib.contextmanager
def private_broker() -> Iterator[PrivateBroker]:
    """Start a node, yield it once it accepts connections, stop it and remove its data.
    Raises ``RuntimeError`` (with the node's log) when it cannot start."""
    if shutil.which("rabbitmq-server") is None:
        raise RuntimeError("rabbitmq-server is not installed")
    folder = Path(tempfile.mkdtemp(prefix="revisit-broker-"))
    port = free_block(2)  # the AMQP port, and the one after it for Erlang distribution
    broker = PrivateBroker(f"revisit-{secrets.token_hex(4)}@localhost", port)
    (folder / "rabbitmq.conf").write_text(
        f"listeners.tcp.local = 127.0.0.1:{port}\nloopback_users = none\n"
    )
    (folder / "enabled_plugins").write_text("[].\n")
    (folder / "data").mkdir()
    (folder / "log").mkdir()
    folder.chmod(0o755)
    _owned_by_rabbitmq(folder)
    env = {
        **os.environ,
        "RABBITMQ_NODENAME": broker.node,
        "RABBITMQ_DIST_PORT": str(port + 1),
        "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
        "RABBITMQ_MNESIA_BASE": str(folder / "data"),
        "RABBITMQ_LOG_BASE": str(folder / "log"),
    }
    try:
        subprocess.run(
            ["rabbitmq-server", "-detached"], env=env, capture_output=True, timeout=60, check=True
        )

        # -detached returns before the node has registered; until it has, await_startup
        # fails at once instead of waiting, so it is asked again.
        def started() -> bool:
            done = subprocess.run(
                [*broker.ctl(), "await_startup", "--timeout", "10"],
                capture_output=True,
                text=True,
                timeout=40,
                check=False,
            )
            return done.returncode == 0

        try:
            wait_until(started, timeout=START_SECONDS, interval=0.5, message="the node started")
        except AssertionError:
            logs = "\n".join(p.read_text()[-2000:] for p in (folder / "log").glob("*.log"))
            raise RuntimeError(f"the private RabbitMQ node did not start:\n{logs}") from None
        yield broker
    finally:
        subprocess.run([*broker.ctl(), "stop"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(folder, ignore_errors=True)

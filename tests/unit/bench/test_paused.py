"""bench.procs.paused: the floor section's workers stop for a measured round, then go on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import procs
from tests.support.polling import wait_until


def _state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _waiting_child() -> subprocess.Popen:
    """A process group of one, waiting to read its input (state S) until it is killed."""
    return subprocess.Popen(
        [sys.executable, "-c", "input()"], stdin=subprocess.PIPE, start_new_session=True
    )


def test_a_paused_group_is_stopped_in_the_block_and_runs_after_it():
    child = _waiting_child()
    try:
        with procs.paused([child.pid]):
            wait_until(lambda: _state(child.pid) == "T", message="the child stopped")
            used = procs.cpu_seconds(child.pid)
            assert procs.cpu_seconds(child.pid) == used
        wait_until(lambda: _state(child.pid) == "S", message="the child waiting on its input again")
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()


def test_the_group_goes_on_when_the_block_raises():
    child = _waiting_child()
    try:
        with pytest.raises(RuntimeError), procs.paused([child.pid]):
            wait_until(lambda: _state(child.pid) == "T", message="the child stopped")
            raise RuntimeError("round failed")
        wait_until(lambda: _state(child.pid) == "S", message="the child continued")
    finally:
        child.kill()
        child.wait()

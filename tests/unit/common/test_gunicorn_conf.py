"""The gunicorn configuration's hooks that keep web workers' latency tails short."""

from __future__ import annotations

import gc
import importlib


def _collected(objects) -> int:
    """How many of ``objects`` the collector still walks (any generation)."""
    ids = {id(o) for o in objects}
    return sum(1 for o in gc.get_objects() if id(o) in ids)


def test_a_worker_freezes_what_it_built_out_of_the_collectors_sight(monkeypatch, tmp_path):
    # (importing the config sets PROMETHEUS_MULTIPROC_DIR when unset: not for later tests)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    gunicorn_conf = importlib.import_module("revisit_runner.gunicorn_conf")
    held = [[n] for n in range(1000)]  # lists: objects the collector tracks
    assert _collected(held) == len(held)
    before = gc.get_freeze_count()
    try:
        gunicorn_conf.post_worker_init(worker=None)
        assert gc.get_freeze_count() >= before + len(held)
        assert _collected(held) == 0
    finally:
        gc.unfreeze()
    assert _collected(held) == len(held)

"""One service in this process as its tests drive it: a runtime on SQLite under a test's
own directory (or the settings given), closed afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from revisit_common.clock import Clock, now
from revisit_common.runtime import ServiceRuntime
from tests.support.settings import make_settings

from .client import TOKEN
from .sqlite_templates import seed


@contextlib.contextmanager
def service_runtime(
    spec,
    data_dir: Path,
    *,
    peers: Mapping[str, object] | None = None,
    clock: Clock = now,
    **settings,
) -> Iterator[ServiceRuntime]:
    """The service of ``spec`` with its data under ``data_dir``, the tests' internal token
    and ``settings``; ``peers`` stand in for the services it reads synchronously, ``clock``
    (a :class:`tests.support.clock.FakeClock`) for the system clock."""
    values = make_settings(data_dir=data_dir, internal_token=TOKEN, **settings)
    seed(values, [spec])
    runtime = ServiceRuntime(spec, values, clock=clock)
    runtime.peers.update(peers or {})
    try:
        yield runtime
    finally:
        runtime.close()

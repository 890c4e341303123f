"""Test-only fault injection: a process that kills itself at a named point, when asked to.

Nothing happens unless ``REVISIT_FAULT_INJECT`` is set (never in a deployment): the runner
reads it once at start-up (``Settings.fault_inject``) and calls :func:`arm`. The fault
tests (tests/faults) set it on a worker process to make it die at an exact point, the way a
SIGKILL or a power cut would, then restart the process without it and check the outcome:

    REVISIT_FAULT_INJECT=relay_after_confirm       # die the first time the point is reached
    REVISIT_FAULT_INJECT=consumer_after_commit:5   # ... the fifth time

Points: ``relay_after_confirm`` (the broker confirmed a batch, its rows are not yet marked
sent), ``consumer_before_commit`` (the handler ran, its transaction is not committed),
``consumer_after_commit`` (committed, not yet acknowledged).
"""

from __future__ import annotations

import os
import threading

ENV = "REVISIT_FAULT_INJECT"
EXIT_CODE = 137  # what a shell reports for a process killed by SIGKILL

_lock = threading.Lock()
_armed: dict[str, int] = {}  # point -> the time it is reached that exits
_reached: dict[str, int] = {}


def parse(spec: str) -> dict[str, int]:
    """``"point[:nth],..."`` as point -> nth (1 when not given)."""
    armed: dict[str, int] = {}
    for item in spec.split(","):
        point, _, nth = item.strip().partition(":")
        if not point:
            continue
        try:
            armed[point] = int(nth or 1)
        except ValueError as exc:
            raise ValueError(f"{ENV} must be point[:count],..., got {spec!r}") from exc
    return armed


def arm(spec: str | None) -> None:
    """Arm the points of ``spec`` (``REVISIT_FAULT_INJECT``'s syntax); "" or None disarms."""
    armed = parse(spec or "")
    with _lock:
        if armed == _armed:
            return  # armed again by another runtime of this process: keep the counts
        _armed.clear()
        _armed.update(armed)
        _reached.clear()


def fault_point(name: str) -> None:
    """Exit the process at once (no cleanup, no flush) if ``name`` is armed; else nothing."""
    if name not in _armed:
        return
    with _lock:
        _reached[name] = _reached.get(name, 0) + 1
        if _reached[name] >= _armed.get(name, 1):
            os._exit(EXIT_CODE)

"""Processes a section starts, and their peak memory (VmHWM, whole process tree)."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):  # (Path.glob raised when a process exited mid-scan)
        if not entry.isdigit():
            continue
        try:
            text = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        pid = int(entry)
        ppid = int(text.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(pid)
    return out


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants still running."""
    children = _children()
    out, todo = [], [pid]
    while todo:
        each = todo.pop()
        out.append(each)
        todo.extend(children.get(each, []))
    return out


def peak_mb(pid: int) -> float | None:
    """The peak resident memory of one process (VmHWM), in MiB; None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def tree_peak_mb(pid: int) -> float | None:
    """The largest peak of any process in ``pid``'s tree (a gunicorn master or a worker)."""
    peaks = [p for p in (peak_mb(each) for each in tree(pid)) if p is not None]
    return max(peaks) if peaks else None


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User and system CPU seconds of one process so far (0 once it is gone); ``reaped``:
    with those of its children that exited and were waited for (a recycled gunicorn
    worker)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(f) for f in fields[11 : 15 if reaped else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid``'s process tree, exited workers included."""
    return sum(cpu_seconds(each, reaped=True) for each in tree(pid))


def server_cpu_seconds(command: str) -> float:
    """CPU seconds of every process whose command name starts with ``command``
    ("postgres", "beam.smp": a whole server, other users' work included)."""
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as comm:
                if not comm.read().startswith(command):
                    continue
        except OSError:
            continue
        total += cpu_seconds(int(entry), reaped=True)
    return total


def pss_mb(pid: int) -> float | None:
    """The proportional share of resident memory of one process now (smaps_rollup Pss, in
    MiB): pages shared since a fork count once over a tree, unlike VmHWM."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return round(int(line.split()[1]) / 1024, 1)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def paused(groups: list[int]) -> Iterator[None]:
    """The process groups ``groups`` stopped (SIGSTOP) for the block, then continued: their
    processes use no CPU meanwhile, and pick up where they were (queued work waits)."""
    for group in groups:
        os.killpg(group, signal.SIGSTOP)
    try:
        yield
    finally:
        for group in groups:
            os.killpg(group, signal.SIGCONT)

"""Processes a section starts, and their peak memory (VmHWM, whole process tree)."""

from __future__ import annotations

from pathlib import Path


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        pid = int(stat.parent.name)
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

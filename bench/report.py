"""The table ``make bench`` prints, and ``bench/results/latest.json``."""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

from .context import Figure


def _value(figure: Figure) -> str:
    if figure.value is None:
        return "-"
    value = figure.value
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.3g}"
    return f"{text} {figure.unit}".strip()


def table(figures: list[Figure]) -> str:
    rows = [("section", "figure", "value", "target", "met")]
    for f in figures:
        met = "" if f.met is None else ("yes" if f.met else "NO")
        rows.append((f.section, f.name, _value(f), f.target or "", met))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    notes = [f"  {f.section} / {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


def write(path: Path, figures: list[Figure], extra: dict, *, quick: bool, seconds: float) -> None:
    document = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "quick": quick,
        "seconds": round(seconds, 1),
        "machine": {
            "python": platform.python_version(),
            "cpus": _cpus(),
            "load_before": extra.pop("load_before", None),
        },
        "figures": [f.as_json() for f in figures],
        "data": extra,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")


def _cpus() -> int | None:
    import os

    return os.cpu_count()

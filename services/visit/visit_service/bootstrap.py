"""The visit service, declared: its routes, migrations, events consumed and the sweep."""

from __future__ import annotations

import os
from pathlib import Path

from revisit_common.runtime import ServiceSpec

from . import api, handlers, settings_api, sweep


def sweep_interval(env=os.environ) -> float:
    """Seconds between overdue sweeps (``REVISIT_OVERDUE_SWEEP_SECONDS``, default 60)."""
    raw = env.get("REVISIT_OVERDUE_SWEEP_SECONDS") or "60"
    try:
        seconds = float(raw)
    except ValueError as exc:
        raise ValueError(f"REVISIT_OVERDUE_SWEEP_SECONDS must be a number, got {raw!r}") from exc
    if not seconds > 0:
        raise ValueError(f"REVISIT_OVERDUE_SWEEP_SECONDS must be positive, got {raw!r}")
    return seconds


SPEC = ServiceSpec(
    name="visit",
    title="revisit visit service",
    migrations=Path(__file__).parent / "migrations",
    blueprints=(api.blp, api.issues_blp, settings_api.blp),
    handlers=handlers.HANDLERS,
    settings_catch_up=True,  # its settings handler only keeps the copy
    periodic=((sweep_interval(), sweep.run),),
)

"""The visit service's own settings: how often its worker looks for overdue visits.

Read once, when its runtime is built, from the ``REVISIT_*`` environment ``Settings`` took
(``runtime.options``); a bad value stops the start with a ValueError naming the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from revisit_common.env import positive


@dataclass(frozen=True)
class VisitOptions:
    # Seconds between overdue sweeps (REVISIT_OVERDUE_SWEEP_SECONDS).
    overdue_sweep_seconds: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> VisitOptions:
        return cls(overdue_sweep_seconds=positive(env, "REVISIT_OVERDUE_SWEEP_SECONDS", 60.0))

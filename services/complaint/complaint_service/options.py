"""The complaint service's own settings: the window of its "due soon" gauge.

Read once, when its runtime is built, from the ``REVISIT_*`` environment ``Settings`` took
(``runtime.options``); a bad value stops the start with a ValueError naming the variable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from revisit_common.env import number


@dataclass(frozen=True)
class ComplaintOptions:
    # Hours ahead the revisit_complaints_due_soon gauge looks (REVISIT_COMPLAINT_DUE_SOON_HOURS).
    due_soon_hours: float = 4.0

    @property
    def due_soon_window(self) -> timedelta:
        return timedelta(hours=self.due_soon_hours)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ComplaintOptions:
        return cls(due_soon_hours=number(env, "REVISIT_COMPLAINT_DUE_SOON_HOURS", 4.0))

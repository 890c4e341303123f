"""The complaint service's own settings: the window of its "due soon" gauge, read as
:mod:`revisit_common.service_options` says."""

from __future__ import annotations

from datetime import timedelta

from revisit_common.env import number
from revisit_common.service_options import service_options, setting


@service_options
class ComplaintOptions:
    # Hours ahead the revisit_complaints_due_soon gauge looks.
    due_soon_hours: float = setting("REVISIT_COMPLAINT_DUE_SOON_HOURS", number, 4.0)

    @property
    def due_soon_window(self) -> timedelta:
        return timedelta(hours=self.due_soon_hours)

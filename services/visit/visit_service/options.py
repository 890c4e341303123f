"""The visit service's own settings: how often its worker looks for overdue visits, read as
:mod:`revisit_common.service_options` says."""

from __future__ import annotations

from revisit_common.env import positive
from revisit_common.service_options import service_options, setting


@service_options
class VisitOptions:
    # Seconds between overdue sweeps.
    overdue_sweep_seconds: float = setting("REVISIT_OVERDUE_SWEEP_SECONDS", positive, 60.0)

"""The visit service, declared: its routes, migrations, events consumed, the overdue sweep
and the care planning job."""

from __future__ import annotations

from revisit_common.runtime import ServiceRuntime
from revisit_common.service_spec import service_spec

from . import api, care, cases_api, handlers, settings_api, sweep
from .options import VisitOptions


def sweep_interval(runtime: ServiceRuntime) -> float:
    """Seconds between overdue sweeps (``REVISIT_OVERDUE_SWEEP_SECONDS``, default 60)."""
    return runtime.options.overdue_sweep_seconds


# Seconds between two runs of the care planning job: care visits are planned days ahead,
# so once an hour is soon enough (and cheap).
CARE_INTERVAL = 3600.0


SPEC = service_spec(
    __package__,
    (api.blp, api.issues_blp, cases_api.blp, settings_api.blp),
    handlers.HANDLERS,
    settings_catch_up=True,  # its settings handler only keeps the copy
    periodic=((sweep_interval, sweep.run), (CARE_INTERVAL, care.run)),
    options=VisitOptions,
)

"""The complaint service, declared: its routes, migrations, events consumed, periodic jobs."""

from __future__ import annotations

from revisit_common import metrics as common_metrics
from revisit_common.runtime import ServiceRuntime
from revisit_common.service_spec import service_spec

from . import api, handlers, jobs, metrics, settings_api, transfer
from .options import ComplaintOptions


def register_metrics(runtime: ServiceRuntime) -> None:
    common_metrics.register_collector(
        metrics.DeadlineCollector(
            runtime.db, runtime.options.due_soon_window, region=runtime.settings.region
        ),
        key="complaint-deadlines",
    )


SPEC = service_spec(
    __package__,
    (api.blp, transfer.blp, settings_api.blp),
    handlers.HANDLERS,
    settings_catch_up=True,  # its settings handler only keeps the copy
    periodic=((jobs.ESCALATION_INTERVAL, jobs.escalation_sweep),),
    on_start=register_metrics,
    options=ComplaintOptions,
)

"""The complaint service, declared: its routes, migrations, events consumed, periodic jobs."""

from __future__ import annotations

from pathlib import Path

from revisit_common import metrics as common_metrics
from revisit_common.runtime import ServiceRuntime, ServiceSpec

from . import api, handlers, jobs, metrics, settings_api
from .options import ComplaintOptions


def register_metrics(runtime: ServiceRuntime) -> None:
    common_metrics.register_collector(
        metrics.DeadlineCollector(
            runtime.db, runtime.options.due_soon_window, region=runtime.settings.region
        ),
        key="complaint-deadlines",
    )


SPEC = ServiceSpec(
    name="complaint",
    title="revisit complaint service",
    migrations=Path(__file__).parent / "migrations",
    blueprints=(api.blp, settings_api.blp),
    handlers=handlers.HANDLERS,
    settings_catch_up=True,  # its settings handler only keeps the copy
    periodic=((jobs.ESCALATION_INTERVAL, jobs.escalation_sweep),),
    on_start=register_metrics,
    options=ComplaintOptions,
)

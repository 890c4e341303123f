"""The KPI service, declared: its routes (KPIs, reports, its settings section ``kpis``),
migrations, every event, and its metrics."""

from __future__ import annotations

from pathlib import Path

from revisit_common import metrics
from revisit_common.runtime import ServiceRuntime, ServiceSpec

from . import api, handlers, reports_api, settings_api, transfer
from .collector import KpiCollector

MIGRATIONS = Path(__file__).parent / "migrations"


def register_metrics(runtime: ServiceRuntime) -> None:
    """Business counters and gauges, read from this runtime's store at every scrape."""
    metrics.register_collector(KpiCollector(runtime.db, runtime.settings.region), key=runtime.name)


SPEC = ServiceSpec(
    name="kpi",
    title="revisit kpi service",
    migrations=MIGRATIONS,
    blueprints=(api.blp, transfer.blp, reports_api.blp, settings_api.blp),
    handlers=handlers.HANDLERS,
    on_start=register_metrics,
)

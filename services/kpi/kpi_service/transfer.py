"""``GET /kpis/export``: the figures of ``GET /kpis`` for a period (same arguments), as a CSV
or XLSX file (``revisit_common.tabular``): one row per KPI, with its numerator, denominator
and value, for the tenant and then (with ``group_by``) for each group.

Rows (:func:`kpi_rows`): the rates of DOMAIN.md §5 (numerator and denominator the counts
they divide), NPS (promoters minus detractors over responses, times 100), then, for the
tenant only, the policies' own rates; ``sales_growth_rate`` and ``satisfaction_change``
compare with the previous period and have no numerator or denominator of their own. A rate
whose denominator is 0 has no value (an empty cell).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from flask_smorest import Blueprint

from revisit_common import tabular, use_case
from revisit_common.runtime import runtime

from . import domain, policy_kpis, service
from .schemas import KpiArgs

blp = Blueprint(
    "kpi_files", __name__, url_prefix="/api/v1/kpis", description="KPIs out as CSV or XLSX"
)
KpiExportArgs = tabular.export_args(KpiArgs, "KpiExportArgs")
HEADERS = (
    "period_from", "period_to", "group_by", "group", "kpi", "numerator", "denominator", "value",
)  # fmt: skip


def _rates(body: Mapping[str, Any], rates: Mapping[str, tuple[str, str]]) -> Iterator[list]:
    counts = body["counts"]
    for name, (numerator, denominator) in rates.items():
        yield [name, counts.get(numerator, 0), counts.get(denominator, 0), body.get(name)]


def figure_rows(body: Mapping[str, Any], policies: bool) -> Iterator[list]:
    """[kpi, numerator, denominator, value] of one body of ``GET /kpis`` (the tenant's, or
    a group's); the policies' own figures only with ``policies``."""
    yield from _rates(body, domain.RATES)
    counts = body["counts"]
    promoters_less_detractors = counts.get("nps_promoters", 0) - counts.get("nps_detractors", 0)
    yield ["nps", promoters_less_detractors, counts.get("nps_responses", 0), body.get("nps")]
    if policies:
        yield from _rates(body, policy_kpis.RATES)
        for name in policy_kpis.FIGURES:
            if name not in policy_kpis.RATES:
                yield [name, None, None, body.get(name)]


def kpi_rows(body: Mapping[str, Any], group_by: str | None) -> Iterator[list]:
    """The export's rows of a ``GET /kpis`` answer: the tenant's, then each group's."""
    period = [body["period"]["from"], body["period"]["to"]]
    for row in figure_rows(body, policies=True):
        yield [*period, None, None, *row]
    for group in body.get("groups", []):
        for row in figure_rows(group, policies=False):
            yield [*period, group_by, group["key"], *row]


@tabular.export_route(blp, "/export", KpiExportArgs)
def kpis_export(args):
    """The KPIs of ``GET /kpis`` for the period (default: this month), one row per KPI with
    its numerator, denominator and value, as a CSV (UTF-8 with BOM) or XLSX file."""
    caller = use_case.caller()
    group_by = args.get("group_by")

    def read(session):
        start, end = service.period_of(session, caller.tenant_id, args)
        return service.kpis(session, caller.tenant_id, start, end, group_by)

    body = use_case.run(read, read=True)  # a bad period is a 422 before the file starts
    return tabular.download(
        args["format"],
        "kpis",
        HEADERS,
        lambda _read: kpi_rows(body, group_by),
        runtime().db,
        stamp=caller.now().date(),
    )

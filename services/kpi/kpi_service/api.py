"""HTTP routes of the KPI service: validate the query, read the aggregates, render."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from revisit_common import use_case
from revisit_common.identity import current

from . import service
from .schemas import WEIGHT_ARGS, KpiArgs, KpiSchema, RankingArgs, RankingSchema

blp = Blueprint("kpis", __name__, url_prefix="/api/v1/kpis", description="KPIs")


def _read(args: dict, fn):
    """Resolve the period in the tenant's zone (422 for a bad one) and run ``fn`` on the
    aggregates."""
    tenant = current().tenant_id

    def read(session):
        start, end = service.period_of(session, tenant, args)
        return fn(session, tenant, start, end)

    return use_case.run(read, read=True)


@blp.route("")
class Kpis(MethodView):
    @blp.arguments(KpiArgs, location="query", unknown=RAISE)
    @blp.response(200, KpiSchema)
    def get(self, args):
        """Every KPI of DOMAIN.md §5 for a period (default: this month), optionally grouped."""
        group_by = args.get("group_by")
        return _read(args, lambda s, t, a, b: service.kpis(s, t, a, b, group_by))


@blp.route("/ranking")
class Ranking(MethodView):
    @blp.arguments(RankingArgs, location="query", unknown=RAISE)
    @blp.response(200, RankingSchema)
    def get(self, args):
        """Staff ranked for an assessment period: by ``metric`` or ``by`` (default visit
        completion rate; ``by=score``: the composite score of completion, satisfaction and
        issue resolution rates, weighted by the tenant's ``kpis.ranking_weights``, each
        overridden by its ``*_weight`` parameter when given), then satisfaction rate, then
        visits completed."""
        metric = args.get("by") or args.get("metric") or "visit_completion_rate"
        weights = {rate: args[name] for rate, name in WEIGHT_ARGS.items() if name in args}
        return _read(args, lambda s, t, a, b: service.ranking(s, t, a, b, metric, weights))

"""HTTP routes of the KPI service's reports: root causes and the visit summary."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from revisit_common import use_case
from revisit_common.identity import current

from . import domain, service
from .report_schemas import ReportArgs, RootCausesSchema, VisitSummarySchema

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Reports")


def _report(args: dict, fn):
    """Check the period (422 for a bad one) and run ``fn`` on the KPI store."""
    tenant = current().tenant_id
    start, end = domain.report_period(args["start"], args["end"])
    return use_case.run(lambda session: fn(session, tenant, start, end), read=True)


@blp.route("/root-causes")
class RootCauses(MethodView):
    @blp.arguments(ReportArgs, location="query", unknown=RAISE)
    @blp.response(200, RootCausesSchema)
    def get(self, args):
        """Complaints and issues per category and department, beside the previous period
        of equal length."""
        return _report(args, service.root_causes)


@blp.route("/visit-summary")
class VisitSummary(MethodView):
    @blp.arguments(ReportArgs, location="query", unknown=RAISE)
    @blp.response(200, VisitSummarySchema)
    def get(self, args):
        """Satisfaction levels, repurchase share, NPS and issues by category for the
        period, also by region."""
        return _report(args, service.visit_summary)

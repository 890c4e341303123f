"""HTTP routes of the case library: write up a resolved issue or complaint, search, read."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE

from revisit_common import routes, use_case
from revisit_common.identity import current
from revisit_common.paging import listing

from . import cases
from .models import Case
from .schemas import CaseInSchema, CaseListArgs, CaseOutSchema, CasePageSchema

blp = Blueprint("cases", __name__, url_prefix="/api/v1/cases", description="Cases")


@blp.route("")
class Cases(MethodView):
    @blp.arguments(routes.once(CaseListArgs), location="query", unknown=RAISE)
    @blp.response(200, CasePageSchema)
    def get(self, args):
        """Search cases: ``q`` in the title, summary or lessons (any case, Chinese too),
        ``category``, ``department``; oldest first, with cursor paging."""
        tenant = current().tenant_id
        query = cases.case_query(tenant, args)
        return use_case.run(lambda s: listing(s, query, Case.id, args), read=True)

    @blp.arguments(routes.once(CaseInSchema))
    @blp.response(201, CaseOutSchema)
    def post(self, data):
        """Write up a resolved (or confirmed) issue, or a complaint whose resolution this
        service has seen, as a case; it copies the source's category and department.
        Unknown source → 404, not resolved → 409."""
        return use_case.write(cases.create_case, data)


@routes.get(blp, "/<case_id>", CaseOutSchema)
def case_item(case_id):
    return use_case.read(cases.get_case, case_id)

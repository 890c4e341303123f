"""HTTP routes of marketing events: an event and the tenant's customers who attended it."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from revisit_common import routes, use_case
from revisit_common.paging import PageArgs

from . import projects
from .models import MarketingEvent
from .schemas import MarketingEventInSchema, MarketingEventOutSchema, MarketingEventPageSchema

blp = Blueprint(
    "marketing_events",
    __name__,
    url_prefix="/api/v1/marketing-events",
    description="Marketing events and their attendees",
)


@blp.route("")
class MarketingEvents(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, MarketingEventPageSchema)
    def get(self, args):
        """List the tenant's marketing events, oldest first, with cursor paging."""
        return use_case.tenant_page(MarketingEvent, args)

    @blp.arguments(MarketingEventInSchema)
    @blp.response(201, MarketingEventOutSchema)
    def post(self, data):
        """Record a marketing event; a post_event visit follows for each attendee."""
        return use_case.write(projects.record_marketing_event, data)


@routes.get(blp, "/<event_id>", MarketingEventOutSchema)
def marketing_event(event_id):
    return use_case.read(projects.get_marketing_event, event_id)

"""HTTP routes of the survey service: validate, call one service function, render.

``/surveys/...`` is called for a tenant (the gateway's identity); ``/survey-responses/{token}``
is reached without one: the single-use token in the URL is the credential, and the tenant is
the invitation's, so those routes never read the caller's identity.
"""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from revisit_common import routes, use_case
from revisit_common.paging import PageArgs
from revisit_common.runtime import runtime

from . import service
from .models import Invitation, Response, Survey
from .schemas import (
    AnswersInSchema,
    InvitationInSchema,
    InvitationListArgs,
    InvitationPageSchema,
    InvitationsCreatedSchema,
    PublicSurveySchema,
    ResponsePageSchema,
    ResponseReceiptSchema,
    ResultsSchema,
    SurveyInSchema,
    SurveyListArgs,
    SurveyOutSchema,
    SurveyPageSchema,
)

blp = Blueprint("surveys", __name__, url_prefix="/api/v1/surveys", description="Surveys")
responses_blp = Blueprint(
    "survey-responses",
    __name__,
    url_prefix="/api/v1/survey-responses",
    description="Answering a survey through its single-use link (no API key)",
)


@blp.route("")
class Surveys(MethodView):
    @blp.arguments(SurveyListArgs, location="query")
    @blp.response(200, SurveyPageSchema)
    def get(self, args):
        """List the tenant's surveys, oldest first, with cursor paging."""
        status = [Survey.status == args["status"]] if "status" in args else []
        return use_case.tenant_page(Survey, args, *status)

    @blp.arguments(SurveyInSchema)
    @blp.response(201, SurveyOutSchema)
    def post(self, data):
        """Create a questionnaire (rating, nps, choice, text, satisfaction questions)."""
        return use_case.run(lambda s: service.create_survey(s, use_case.caller(), data))


@routes.get(blp, "/<survey_id>", SurveyOutSchema)
def survey_item(survey_id):
    return use_case.read(service.get_survey, survey_id)


@routes.post(blp, "/<survey_id>/close", None, SurveyOutSchema)
def survey_close(survey_id):
    """Stop accepting answers and invitations; closing twice → 409."""
    return use_case.run(lambda s: service.close_survey(s, use_case.caller(), survey_id))


@blp.route("/<survey_id>/invitations")
class Invitations(MethodView):
    @blp.arguments(InvitationListArgs, location="query")
    @blp.response(200, InvitationPageSchema)
    def get(self, args, survey_id):
        """Who was invited and who answered (tokens are never shown again)."""
        where = []
        if "customer_id" in args:
            where.append(Invitation.customer_id == args["customer_id"])
        if "used" in args:
            used = Invitation.used_at.is_not(None)
            where.append(used if args["used"] else ~used)
        return use_case.list_of(service.get_survey, survey_id, Invitation.survey_id, args, *where)

    @blp.arguments(InvitationInSchema)
    @blp.response(201, InvitationsCreatedSchema)
    def post(self, data, survey_id):
        """Invite customers by list or segment; each new token is shown only here."""
        return use_case.run(lambda s: service.invite(s, use_case.caller(), survey_id, data))


@routes.get(blp, "/<survey_id>/responses", ResponsePageSchema, query=PageArgs)
def responses(args, survey_id):
    """Every answer given, oldest first (the backup and the raw data of the results)."""
    return use_case.list_of(service.get_survey, survey_id, Response.survey_id, args)


@routes.get(blp, "/<survey_id>/results", ResultsSchema)
def results(survey_id):
    """Counts per question, average rating, NPS and satisfaction levels."""
    return use_case.read(service.results_of, survey_id)


@responses_blp.route("/<token>")
class SurveyResponse(MethodView):
    @responses_blp.response(200, PublicSurveySchema)
    def get(self, token):
        """The questionnaire behind a link; a used link → 409, an unknown one → 404."""
        return use_case.run(lambda s: service.open_invitation(s, token)[1], read=True)

    @responses_blp.arguments(AnswersInSchema)
    @responses_blp.response(201, ResponseReceiptSchema)
    def post(self, data, token):
        """Answer a survey once; a used link → 409, an unknown one → 404, bad answers → 422."""
        rt = runtime()
        rid = g.get("request_id")
        return use_case.run(
            lambda s: service.respond(s, rt.outbox, token, data["answers"], rid, rt.clock)
        )

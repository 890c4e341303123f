"""The survey service layer: each function is one use case, run inside a transaction.

Routes and event handlers call these; they load rows, apply the domain rules, and add the
events the change causes to the outbox in the same transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common import events
from revisit_common.caller import Caller
from revisit_common.clock import Clock, now
from revisit_common.errors import Conflict, NotFound
from revisit_common.ids import new_id
from revisit_common.messaging.outbox import Outbox
from revisit_common.rows import copied, tenant_row

from . import domain
from .models import CustomerCopy, Invitation, Response, Survey, SurveyResult

MAX_INVITATIONS = 5000  # per call; a larger segment is invited over several calls
TOKEN_BYTES = 32  # 256 bits from the OS's CSPRNG
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
_CHUNK = 500  # ids per IN (...) list


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What is stored instead of the token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def questionnaire_of(survey: Survey) -> domain.Questionnaire:
    return domain.build_questionnaire(
        survey.questions, survey.satisfaction_question, survey.recommend_question
    )


# --------------------------------------------------------------------------- surveys


def create_survey(session: Session, caller: Caller, data: dict) -> Survey:
    questionnaire = domain.build_questionnaire(
        data["questions"], data.get("satisfaction_question"), data.get("recommend_question")
    )
    stamp = caller.now()
    survey = Survey(
        id=new_id(),
        tenant_id=caller.tenant_id,
        title=data["title"],
        description=data.get("description"),
        questions=[q.to_dict() for q in questionnaire.questions],
        satisfaction_question=questionnaire.satisfaction_question,
        recommend_question=questionnaire.recommend_question,
        status="open",
        created_by=caller.actor,
        created_at=stamp,
    )
    session.add(survey)
    session.flush()
    session.add(
        SurveyResult(survey_id=survey.id, tally=domain.new_tally(questionnaire), updated_at=stamp)
    )
    return survey


def get_survey(session: Session, tenant_id: str, survey_id: str) -> Survey:
    return tenant_row(session, Survey, tenant_id, survey_id, "survey")


def close_survey(session: Session, caller: Caller, survey_id: str) -> Survey:
    survey = get_survey(session, caller.tenant_id, survey_id)
    if survey.status != "open":
        raise Conflict("survey is already closed")
    survey.status = "closed"
    survey.closed_at = caller.now()
    return survey


def results_of(session: Session, tenant_id: str, survey_id: str) -> dict:
    survey = get_survey(session, tenant_id, survey_id)
    row = session.get(SurveyResult, survey.id)
    return domain.results(questionnaire_of(survey), row.tally)


# --------------------------------------------------------------------------- invitations


def invite(session: Session, caller: Caller, survey_id: str, data: dict) -> dict:
    """Invitations for a list of customers or a segment; returns each new token once."""
    survey = get_survey(session, caller.tenant_id, survey_id)
    if survey.status != "open":
        raise Conflict("survey is closed")
    if "segment" in data:
        targets = _segment(session, survey, data["segment"])
        more, targets = len(targets) > MAX_INVITATIONS, targets[:MAX_INVITATIONS]
        existing: dict = {}
    else:
        ids = list(dict.fromkeys(data["customer_ids"]))
        visits = data.get("visit_ids") or {}
        targets, more = [(cid, visits.get(cid)) for cid in ids], False
        existing = _existing(session, survey.id, ids)
    skipped: list[str] = []
    stamp = caller.now()
    items = []
    for customer_id, visit_id in targets:
        prior = existing.get((customer_id, visit_id), [])
        if prior and not data.get("reinvite"):
            skipped.append(customer_id)
            continue
        token = new_token()
        unused = next((inv for inv in prior if inv.used_at is None), None)
        if unused is not None:
            unused.token_hash = token_hash(token)  # the old link stops working
            invitation = unused
        else:
            invitation = Invitation(
                id=new_id(),
                tenant_id=caller.tenant_id,
                survey_id=survey.id,
                customer_id=customer_id,
                visit_id=visit_id,
                token_hash=token_hash(token),
                created_at=stamp,
            )
            session.add(invitation)
        items.append(
            {
                "invitation_id": invitation.id,
                "customer_id": customer_id,
                "visit_id": visit_id,
                "token": token,
            }
        )
    return {"items": items, "skipped": skipped, "more": more}


def _existing(session: Session, survey_id: str, ids: list[str]) -> dict:
    found: dict[tuple[str, str | None], list[Invitation]] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.survey_id == survey_id,
                Invitation.customer_id.in_(ids[start : start + _CHUNK]),
            )
            .order_by(Invitation.id)
        )
        for row in rows:
            found.setdefault((row.customer_id, row.visit_id), []).append(row)
    return found


def _segment(session: Session, survey: Survey, segment: dict) -> list[tuple[str, None]]:
    """Customers of the segment not yet invited (without a visit), at most one over the cap."""
    query = sa.select(CustomerCopy.customer_id).where(CustomerCopy.tenant_id == survey.tenant_id)
    for key in ("grade", "type", "region"):
        if segment.get(key):
            query = query.where(getattr(CustomerCopy, key) == segment[key])
    invited = sa.select(Invitation.id).where(
        Invitation.survey_id == survey.id,
        Invitation.customer_id == CustomerCopy.customer_id,
        Invitation.visit_id.is_(None),
    )
    query = query.where(~invited.exists()).order_by(CustomerCopy.customer_id)
    return [(cid, None) for cid in session.scalars(query.limit(MAX_INVITATIONS + 1))]


# --------------------------------------------------------------------------- responses


def invitation_for(session: Session, token: str) -> Invitation:
    """The invitation a token belongs to, in any tenant (the token is the credential)."""
    if not isinstance(token, str) or not _TOKEN_SHAPE.match(token):
        raise NotFound("survey invitation")
    invitation = session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == token_hash(token))
    )
    if invitation is None:
        raise NotFound("survey invitation")
    return invitation


def open_invitation(session: Session, token: str) -> tuple[Invitation, Survey]:
    invitation = invitation_for(session, token)
    if invitation.used_at is not None:
        raise Conflict("this survey link has already been used")
    survey = session.get(Survey, invitation.survey_id)
    if survey.status != "open":
        raise Conflict("this survey is closed")
    return invitation, survey


def claim(session: Session, invitation_id: str, stamp: datetime) -> bool:
    """Mark the invitation used, unless someone else did first (single use under races)."""
    result = session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.used_at.is_(None))
        .values(used_at=stamp)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def respond(
    session: Session,
    outbox: Outbox,
    token: str,
    answers: dict,
    correlation_id: str | None,
    clock: Clock = now,
) -> Response:
    """Record the answers of the link ``token`` once, at ``clock()`` (a respondent is no
    caller of ours: the link is the credential)."""
    invitation, survey = open_invitation(session, token)
    questionnaire = questionnaire_of(survey)
    clean = domain.validate_answers(questionnaire, answers)
    stamp = clock()
    if not claim(session, invitation.id, stamp):
        raise Conflict("this survey link has already been used")
    summary = domain.summarize(questionnaire, clean)
    response = Response(
        id=new_id(),
        survey_id=survey.id,
        invitation_id=invitation.id,
        **copied(invitation, "tenant_id", "customer_id", "visit_id"),
        answers=clean,
        **copied(summary, "satisfaction", "recommend_score", "average_rating"),
        responded_at=stamp,
    )
    session.add(response)
    result = session.get(SurveyResult, survey.id, with_for_update=True)
    result.tally = domain.add_to_tally(result.tally, questionnaire, clean)
    result.updated_at = stamp
    event = events.SurveyResponded(
        response_id=response.id,
        responded_at=stamp.isoformat(),
        **copied(response, "survey_id", "invitation_id", "customer_id", "visit_id"),
        **copied(response, "satisfaction", "recommend_score", "average_rating"),
    )
    outbox.add(session, event, tenant_id=invitation.tenant_id, correlation_id=correlation_id)
    return response


# --------------------------------------------------------------------------- customer copy


def note_customer(
    session: Session,
    tenant_id: str,
    customer_id: str,
    as_of: datetime,
    *,
    type: str | None = None,
    region: str | None = None,
    grade: str | None = None,
) -> CustomerCopy:
    """Keep the segment fields of a customer; an event older than the copy changes only
    what the copy lacks (events of one customer may arrive out of order after retries)."""
    row = session.get(CustomerCopy, (tenant_id, customer_id))
    if row is None:
        row = CustomerCopy(tenant_id=tenant_id, customer_id=customer_id)
        session.add(row)
    newer = row.as_of is None or as_of >= row.as_of
    row.type = type or row.type
    for key, value in (("region", region), ("grade", grade)):
        if value and (newer or getattr(row, key) is None):
            setattr(row, key, value)
    if newer:
        row.as_of = as_of
    row.updated_at = now()
    return row

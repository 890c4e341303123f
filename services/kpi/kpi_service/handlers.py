"""Events the KPI service consumes: all of them, each into the event log and the projection.

One handler for every type: it hands the event, or a consumer batch's run of events, to
projection.record, which logs them and merges them into their facts and the aggregates (the
same projection rebuild.py replays the log through). Types no figure uses yet are logged
only, so a later rebuild can use them.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from revisit_common.messaging.envelope import Envelope
from revisit_common.messaging.registry import BatchHandler, HandlerContext

from . import projection


def _record_one(session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
    projection.record(session, [envelope])


def _record_many(session: Session, envelopes: list[Envelope], ctx: HandlerContext) -> None:
    projection.record(session, envelopes)


# One event at a time, or a consumer batch's events at once (the same effect, fewer queries).
event_recorded = BatchHandler(_record_one, _record_many)


HANDLERS = {
    # gateway: the tenant's time zone decides what "a day" is
    "TenantRegistered": event_recorded,
    "TenantSettingsChanged": event_recorded,
    "StaffChanged": event_recorded,  # logged only (the people, for a later figure)
    # customer
    "CustomerRegistered": event_recorded,
    "CustomerGraded": event_recorded,
    "CustomerRiskChanged": event_recorded,
    "PurchaseRecorded": event_recorded,
    "RepairClosed": event_recorded,
    "ProjectCompleted": event_recorded,
    "MarketingEventHeld": event_recorded,
    "ContactDatesChanged": event_recorded,
    # visit
    "VisitScheduled": event_recorded,
    "VisitCompleted": event_recorded,
    "VisitOverdue": event_recorded,
    "VisitCancelled": event_recorded,
    "VisitAudited": event_recorded,
    "IssueRaised": event_recorded,
    "IssueResolved": event_recorded,
    "IssueConfirmed": event_recorded,
    "IssueReopened": event_recorded,
    # complaint
    "ComplaintRaised": event_recorded,
    "ComplaintEscalated": event_recorded,
    "ComplaintAssigned": event_recorded,
    "ComplaintClosed": event_recorded,
    "ComplaintReopened": event_recorded,
    "ComplaintReportedUpward": event_recorded,
    # survey
    "SurveyResponded": event_recorded,
}

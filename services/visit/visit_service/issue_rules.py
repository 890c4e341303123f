"""Pure rules of an issue's follow-through: its state machine (open → resolved → confirmed,
or open again when the customer is not satisfied), its timetable of stages, and which issues
may be written up as cases. No Flask, SQL or messaging here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from .domain import IllegalTransition, _transition

ISSUE_STATUSES = ("open", "resolved", "confirmed")
STAGE_STATUSES = ("pending", "done", "overdue")
MAX_STAGES = 20

ISSUE_TRANSITIONS: Mapping[str, Mapping[str, str]] = {
    "open": {"resolve": "resolved"},
    # the visitor told the customer the result: satisfied confirms it, not satisfied reopens it
    "resolved": {"confirm": "confirmed", "reopen": "open"},
    "confirmed": {},
}
CASE_SOURCE_STATUSES = ("resolved", "confirmed")


class NoSuchStage(LookupError):
    """A stage number the issue's timetable does not have (HTTP 404)."""


def issue_transition(status: str, action: str) -> str:
    """The status after ``action`` (``resolve``, ``confirm``, ``reopen``) on an issue of
    ``status``; an action the status does not allow raises :class:`IllegalTransition`."""
    return _transition(ISSUE_TRANSITIONS, "issue", status, action)  # the visit machine's step


def confirmation(status: str, satisfied: bool) -> str:
    """The status after the customer heard the result of a resolved issue: ``confirmed``
    when satisfied, ``open`` again when not. Only a resolved issue is confirmed."""
    if status != "resolved":
        raise IllegalTransition(f"only a resolved issue is confirmed; this one is {status}")
    return issue_transition(status, "confirm" if satisfied else "reopen")


def may_become_case(status: str) -> bool:
    """Only a resolved (or confirmed) issue is written up as a case."""
    return status in CASE_SOURCE_STATUSES


# --------------------------------------------------------------------------- stages


def stage_status(stage: Mapping, today: date) -> str:
    """``done`` once completed; ``overdue`` when its due date (tenant-local) has passed;
    else ``pending``."""
    if stage.get("completed_at"):
        return "done"
    due = stage.get("due_date")
    if due and date.fromisoformat(due) < today:
        return "overdue"
    return "pending"


def stage_view(stages: Sequence[Mapping], today: date) -> list[dict]:
    """The stages as shown: numbered from 1, each with its status as of ``today`` (dates
    and times parsed from their stored ISO form)."""
    return [
        {
            "n": n,
            "name": stage["name"],
            "owner": stage.get("owner"),
            "due_date": _parsed(date, stage.get("due_date")),
            "status": stage_status(stage, today),
            "completed_at": _parsed(datetime, stage.get("completed_at")),
            "completed_by": stage.get("completed_by"),
        }
        for n, stage in enumerate(stages, start=1)
    ]


def _parsed(kind: type[date], value: str | None):
    return kind.fromisoformat(value) if value else None


def complete_stage(
    stages: Sequence[Mapping], n: int, at: datetime, by: str | None, issue_status: str
) -> list[dict]:
    """A new timetable with stage ``n`` (from 1) done at ``at`` by ``by``. An unknown ``n``
    raises :class:`NoSuchStage`; a stage done already, or any stage of a confirmed issue,
    raises :class:`IllegalTransition`."""
    if not 1 <= n <= len(stages):
        raise NoSuchStage(f"the issue has no stage {n}")
    if issue_status == "confirmed":
        raise IllegalTransition("the issue is confirmed; its stages are closed")
    if stages[n - 1].get("completed_at"):
        raise IllegalTransition(f"stage {n} has been completed already")
    done = {**stages[n - 1], "completed_at": at.isoformat(), "completed_by": by}
    return [dict(s) for s in stages[: n - 1]] + [done] + [dict(s) for s in stages[n:]]

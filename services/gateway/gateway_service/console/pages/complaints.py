"""Complaints: the list (filters, next limit with a live countdown, paging) with the intake
form, and one complaint (deadlines, ledger, the steps allowed now, assignment).

Everything goes through the API as the signed-in person: ``GET/POST /complaints``,
``GET /complaints/{id}``, ``POST /complaints/{id}/transitions`` and ``/assign``. The steps
offered are the complaint's ``actions`` as the API gives them (its state machine, not a copy
here); the API decides every POST (403 role, 409 a step no longer allowed, 422 fields).
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for

from ..blueprint import bp
from ..guard import signed_in
from ..i18n import gettext, parse_time
from ..words import N_, word
from .common import call, can, customer_names, customer_options, page, read, staff_options

MAX_FIELD = 5000
FILTERS = ("status", "severity", "department", "overdue", "assignee", "cursor")
INTAKE_FIELDS = (
    "customer_id",
    "channel",
    "severity",
    "category",
    "department",
    "description",
    "complainant",
    "assignee",
)
# The time each limit was met at, among the complaint's fields (null: not met yet).
MET_AT = {"first_response": "first_responded_at", "plan": "planned_at", "resolve": "resolved_at"}
# Ledger steps that are not lifecycle actions (those have their words in words.py).
LEDGER_STEPS = {
    "receive": N_("Received"),
    "assign": N_("Assigned"),
    "escalate": N_("Escalated"),
}
SEVERITY_REASONS = {
    "given": N_("as given at intake"),
    "category": N_("by its category"),
    "customer": N_("by the customer's size or grade"),
    "several_departments": N_("several departments involved"),
    "escalated": N_("escalated after a missed limit"),
}


def ledger_step(action: str) -> str:
    label = LEDGER_STEPS.get(action)
    return gettext(label) if label else word(action, "action")


def _refused(answer) -> None:
    """The error page for an answer a form cannot show (role, not found, failures)."""
    if answer.status in (400, 403, 404, 429):
        abort(answer.status)
    abort(502)


def _problem_of(answer, shown: tuple[str, ...]) -> str:
    """What to say above a form the API refused: its detail, or for a 422 a summary with
    the messages of fields the form does not show (those it shows carry their own)."""
    if answer.status == 409:
        return gettext("Not done: %(detail)s", detail=answer.problem())
    if answer.status != 422:
        return answer.problem()
    hidden = [
        f"{name}: {' '.join(map(str, messages))}"
        for name, messages in answer.field_errors().items()
        if name not in shown
    ]
    return " ".join([gettext("Some fields are not valid."), *hidden])


def _form_text(name: str) -> str:
    return request.form.get(name, "").strip()[:MAX_FIELD]


# --------------------------------------------------------------------------- the list


def _filters() -> dict[str, str]:
    """The list's filters from the query string, as the API takes them (empty: left out)."""
    chosen = {name: request.args.get(name, "").strip()[:200] for name in FILTERS}
    if chosen["overdue"] not in ("true", "false"):
        chosen["overdue"] = ""
    if chosen["assignee"] != "me":
        chosen["assignee"] = ""
    return {name: value for name, value in chosen.items() if value}


def _without_cursor(filters: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in filters.items() if name != "cursor"}


def _pick_lists() -> dict[str, Any]:
    """Customers and staff to choose from in the intake form (None: type an id)."""
    return {"customer_choices": customer_options(), "staff_choices": staff_options()}


def _list_page(status: int = 200, values=None, errors=None, problem: str = ""):
    filters = _filters()
    answer = call("GET", "/complaints", query=filters)
    filter_errors: dict[str, list[str]] = {}
    listing: dict[str, Any] = {"items": [], "next_cursor": None}
    if answer.status == 422:
        filter_errors, status = answer.field_errors(), 422
    elif answer.status != 200:
        _refused(answer)
    else:
        listing = answer.body
    may_record = can("POST", "/complaints")
    picks = _pick_lists() if may_record else {}
    known = {cid: name for cid, name in (picks.get("customer_choices") or [])}
    missing = [i["customer_id"] for i in listing["items"] if i["customer_id"] not in known]
    names = {**known, **customer_names(missing)}
    return page(
        "console/complaints.html",
        status,
        complaints=listing["items"],
        first_page=url_for("console.complaints", **_without_cursor(filters))
        if "cursor" in filters
        else None,
        next_page=url_for(
            "console.complaints", **_without_cursor(filters), cursor=listing["next_cursor"]
        )
        if listing.get("next_cursor")
        else None,
        filters=filters,
        filter_errors=filter_errors,
        names=names,
        may_record=may_record,
        values=values or {},
        errors=errors or {},
        problem=problem,
        **picks,
    )


@bp.get("/complaints")
@signed_in
def complaints():
    return _list_page()


@bp.post("/complaints")
@signed_in
def record_complaint():
    values = {name: _form_text(name) for name in INTAKE_FIELDS}
    body = {name: value for name, value in values.items() if value}
    answer = call("POST", "/complaints", body=body)
    if answer.status == 201:
        return redirect(url_for("console.complaint", complaint_id=answer.body["id"]), code=303)
    if answer.status in (404, 409, 422):
        problem = _problem_of(answer, INTAKE_FIELDS)
        return _list_page(answer.status, values, answer.field_errors(), problem)
    _refused(answer)


# --------------------------------------------------------------------------- one complaint


def _deadlines(complaint: dict) -> list[dict[str, Any]]:
    """Each limit that applies: its deadline, when it was met (None: not yet), on time."""
    rows = []
    for limit, met_field in MET_AT.items():
        deadline = (complaint.get("deadlines") or {}).get(f"{limit}_by")
        if not deadline:
            continue
        met_at = complaint.get(met_field)
        late = met_at is not None and parse_time(met_at) > parse_time(deadline)
        rows.append(
            {
                "limit": limit,
                "deadline": deadline,
                "met_at": met_at,
                "late": late,
                "escalated": limit in (complaint.get("escalated") or []),
            }
        )
    return rows


def _complaint_page(complaint_id: str, status: int = 200, **extra):
    complaint = read(f"/complaints/{complaint_id}")
    may_act = can("POST", f"/complaints/{complaint_id}/transitions")
    may_assign = can("POST", f"/complaints/{complaint_id}/assign")
    staff = None
    if may_assign:
        staff = staff_options()
    return page(
        "console/complaint.html",
        status,
        complaint=complaint,
        customer_name=customer_names([complaint["customer_id"]]).get(complaint["customer_id"]),
        deadlines=_deadlines(complaint),
        severity_reason=SEVERITY_REASONS.get(complaint.get("severity_reason") or ""),
        ledger_step=ledger_step,
        may_act=may_act,
        may_assign=may_assign,
        staff_choices=staff,
        failed_action=extra.pop("failed_action", ""),
        values=extra.pop("values", {}),
        errors=extra.pop("errors", {}),
        problem=extra.pop("problem", ""),
    )


@bp.get("/complaints/<complaint_id>")
@signed_in
def complaint(complaint_id: str):
    return _complaint_page(complaint_id)


@bp.post("/complaints/<complaint_id>/transitions")
@signed_in
def complaint_transition(complaint_id: str):
    action = _form_text("action")
    values = {"note": _form_text("note"), "resolution": _form_text("resolution")}
    body = {"action": action, **{name: value for name, value in values.items() if value}}
    answer = call("POST", f"/complaints/{complaint_id}/transitions", body=body)
    if answer.ok:
        return redirect(url_for("console.complaint", complaint_id=complaint_id), code=303)
    if answer.status in (409, 422):
        return _complaint_page(
            complaint_id,
            answer.status,
            failed_action=action,
            values=values,
            errors=answer.field_errors(),
            problem=_problem_of(answer, ("note", "resolution")),
        )
    _refused(answer)


@bp.post("/complaints/<complaint_id>/assign")
@signed_in
def assign_complaint(complaint_id: str):
    assignee = _form_text("assignee") or None
    answer = call("POST", f"/complaints/{complaint_id}/assign", body={"assignee": assignee})
    if answer.ok:
        return redirect(url_for("console.complaint", complaint_id=complaint_id), code=303)
    if answer.status in (409, 422):
        return _complaint_page(
            complaint_id,
            answer.status,
            failed_action="assign",
            values={"assignee": assignee or ""},
            errors=answer.field_errors(),
            problem=_problem_of(answer, ("assignee",)),
        )
    _refused(answer)

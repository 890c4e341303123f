"""Visits: the list with its filters and the "Plan a visit" form (``GET``/``POST /visits``);
one visit with every field, its appointment (``POST /visits/{id}/book``), an email visit's
reply (``POST /visits/{id}/reply``), the record of the visit with every field of
``POST /visits/{id}/complete`` (ratings, satisfaction, NPS, feedback, needs, competitor info
and issues to departments), cancelling it, and resolving its open issues
(``POST /issues/{id}/resolve``).

The forms are plain HTML forms whose input names are the API's field paths
(``ratings.sales_attitude``, ``issues.0.department``), so the API's 422 field errors land
next to their inputs. The API validates: a value the page cannot read (a score that is not a
number) is passed on as written, and the API says what is wrong with it.
"""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from ..api_client import Answer
from ..blueprint import bp
from ..guard import signed_in
from ..i18n import aware_time
from .common import call, can, customer_names, customer_options, page, read, staff_options
from .visit_record import (
    BLANK_ISSUE_ROWS,
    COMPETITOR_TEXTS,
    MAX_ISSUE_ROWS,
    PRODUCT_FEEDBACK,
    RATINGS,
    form_errors,
    inputs,
    issue_rows,
    record_body,
)

PAGE_SIZE = "50"
PLAN_FIELDS = ("customer_id", "reason", "method", "due_date", "assignee")


# --------------------------------------------------------------------------- the list


def list_filters(args: MultiDict) -> dict[str, str]:
    """The list's filters as chosen: planned visits of mine unless the form says otherwise
    (an empty status or assignee is every one)."""
    return {
        "status": args.get("status", "planned"),
        "assignee": args.get("assignee", "me"),
        "overdue": "true" if args.get("overdue") == "true" else "",
        "due_from": args.get("due_from", ""),
        "due_to": args.get("due_to", ""),
        "reason": args.get("reason", ""),
    }


def list_query(filters: dict[str, str], cursor: str) -> dict[str, str]:
    query = {"sort": "due_date", "limit": PAGE_SIZE}
    query.update({name: value for name, value in filters.items() if value})
    if cursor:
        query["cursor"] = cursor
    return query


def list_page(
    status: int = 200,
    plan: dict | None = None,
    plan_errors: dict | None = None,
    plan_problem: str = "",
):
    filters = list_filters(request.args)
    cursor = request.args.get("cursor", "")
    answer = call("GET", "/visits", query=list_query(filters, cursor))
    filter_errors: dict = {}
    items: list = []
    next_cursor = None
    if answer.status == 422:
        filter_errors = answer.field_errors()
        status = max(status, 422)
    elif answer.status != 200:
        refuse(answer)
    else:
        items = answer.body.get("items", [])
        next_cursor = answer.body.get("next_cursor")
    may_plan = can("POST", "/visits")
    staff = staff_options()
    return page(
        "console/visits.html",
        status,
        filters=filters,
        filter_errors=filter_errors,
        visits=items,
        names=customer_names(v.get("customer_id") for v in items),
        more=url_for("console.visits", **filters, cursor=next_cursor) if next_cursor else "",
        may_plan=may_plan,
        customers=customer_options() if may_plan else None,
        staff=staff,
        plan=plan or {},
        plan_errors=plan_errors or {},
        plan_problem=plan_problem,
    )


@bp.get("/visits")
@signed_in
def visits():
    return list_page()


@bp.post("/visits")
@signed_in
def plan_visit():
    sent = {name: request.form.get(name, "").strip() for name in PLAN_FIELDS}
    answer = call("POST", "/visits", body={k: v for k, v in sent.items() if v})
    if answer.status == 201:
        return redirect(url_for("console.visit", visit_id=answer.body["id"]), code=303)
    if answer.status == 422:
        return list_page(422, sent, answer.field_errors())
    if answer.status == 404:  # a customer (or person) not the tenant's
        return list_page(404, sent, {"customer_id": [answer.problem()]})
    if answer.status == 409:  # the customer has such a visit open already
        return list_page(409, sent, plan_problem=answer.problem())
    refuse(answer)


# --------------------------------------------------------------------------- one visit


def visit_page(
    visit_id: str,
    status: int = 200,
    *,
    sent: str = "",
    values: dict | None = None,
    errors: dict | None = None,
    problem: str = "",
):
    """The visit page; ``sent`` names the form that came back (``record``, ``book``,
    ``reply``, ``cancel``, ``resolve-<issue id>``) with its ``values`` and field ``errors``."""
    visit = read(f"/visits/{visit_id}")
    values = values or {}
    record_rows = issue_rows(values) if sent == "record" else list(range(BLANK_ISSUE_ROWS))
    errors = errors or {}
    path = f"/visits/{visit_id}"
    planned = visit.get("status") == "planned"
    return page(
        "console/visit.html",
        status,
        visit=visit,
        customer=customer_names([visit.get("customer_id")]).get(
            visit.get("customer_id"), visit.get("customer_id")
        ),
        sent=sent,
        values=values,
        errors=errors,
        loose={k: v for k, v in errors.items() if k not in inputs(record_rows)},
        problem=problem,
        may_book=planned and visit.get("method") == "on_site" and can("POST", path + "/book"),
        may_reply=planned
        and visit.get("method") == "email"
        and not visit.get("replied_at")
        and can("POST", path + "/reply"),
        may_record=planned and can("POST", path + "/complete"),
        may_cancel=planned and can("POST", path + "/cancel"),
        issues=visit.get("issues") or [],
        ratings=RATINGS,
        product_feedback=PRODUCT_FEEDBACK,
        competitor_texts=COMPETITOR_TEXTS,
        rows=record_rows,
        next_row=(max(record_rows) + 1) if record_rows else 0,
        max_rows=MAX_ISSUE_ROWS,
    )


@bp.get("/visits/<visit_id>")
@signed_in
def visit(visit_id: str):
    return visit_page(visit_id)


@bp.get("/visits/<visit_id>/issue-row")
@signed_in
def visit_issue_row(visit_id: str):
    """One more blank issue row of the record form (the "Add an issue" button), and the
    button again for the row after it."""
    n = request.args.get("n", "")
    if not n.isdigit() or int(n) >= MAX_ISSUE_ROWS:
        abort(400)
    return page(
        "console/visit_issue_row.html",
        visit_id=visit_id,
        n=int(n),
        max_rows=MAX_ISSUE_ROWS,
        values={},
        errors={},
        more=True,
    )


def answered(visit_id: str, answer: Answer, form: str, mapped_errors: dict | None = None):
    """Back to the visit after a write (303), or the page again with what went wrong."""
    if answer.ok:
        return redirect(url_for("console.visit", visit_id=visit_id), code=303)
    values = request.form.to_dict()
    if answer.status == 422:
        errors = mapped_errors if mapped_errors is not None else answer.field_errors()
        return visit_page(visit_id, 422, sent=form, values=values, errors=errors)
    if answer.status == 409:
        return visit_page(visit_id, 409, sent=form, values=values, problem=answer.problem())
    refuse(answer)


@bp.post("/visits/<visit_id>/book")
@signed_in
def book_visit(visit_id: str):
    body = {}
    if request.form.get("appointment_at", "").strip():
        body["appointment_at"] = aware_time(request.form["appointment_at"])
    return answered(visit_id, call("POST", f"/visits/{visit_id}/book", body=body), "book")


@bp.post("/visits/<visit_id>/reply")
@signed_in
def reply_visit(visit_id: str):
    body = {}
    if request.form.get("replied_at", "").strip():
        body["replied_at"] = aware_time(request.form["replied_at"])
    return answered(visit_id, call("POST", f"/visits/{visit_id}/reply", body=body), "reply")


@bp.post("/visits/<visit_id>/cancel")
@signed_in
def cancel_visit(visit_id: str):
    reason = request.form.get("reason", "").strip()
    body = {"reason": reason} if reason else {}
    return answered(visit_id, call("POST", f"/visits/{visit_id}/cancel", body=body), "cancel")


@bp.post("/visits/<visit_id>/complete")
@signed_in
def record_visit(visit_id: str):
    body, rows = record_body(request.form)
    answer = call("POST", f"/visits/{visit_id}/complete", body=body)
    errors = None
    if answer.status == 422:
        errors = form_errors(answer.field_errors(), rows)
    return answered(visit_id, answer, "record", errors)


@bp.post("/visits/<visit_id>/issues/<issue_id>/resolve")
@signed_in
def resolve_issue(visit_id: str, issue_id: str):
    resolution = request.form.get("resolution", "").strip()
    body = {"resolution": resolution} if resolution else {}
    answer = call("POST", f"/issues/{issue_id}/resolve", body=body)
    return answered(visit_id, answer, f"resolve-{issue_id}")


def refuse(answer: Answer):
    """The API's refusal as the console's error page."""
    abort(answer.status if answer.status in (400, 403, 404, 413, 429) else 502)

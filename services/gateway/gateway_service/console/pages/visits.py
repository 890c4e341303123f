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

import re
from typing import Any

from flask import abort, redirect, request, url_for
from werkzeug.datastructures import MultiDict

from ..api_client import Answer
from ..blueprint import bp
from ..guard import signed_in
from ..i18n import aware_time
from ..words import N_
from .common import call, can, customer_names, page, read

PAGE_SIZE = "50"
MANY = "500"  # the most a list returns: the customers and staff offered in selects
# The service-quality ratings of a visit record, each 1..5 (the visit API's RATING_KEYS).
RATINGS = (
    ("sales_attitude", N_("Sales: attitude")),
    ("sales_expertise", N_("Sales: expertise")),
    ("sales_response", N_("Sales: response")),
    ("aftersales_timeliness", N_("After-sales: timeliness")),
    ("aftersales_problem_solving", N_("After-sales: problem solving")),
    ("aftersales_attitude", N_("After-sales: attitude")),
)
PRODUCT_FEEDBACK = (
    ("familiarity", N_("Familiarity with the products")),
    ("performance", N_("How the products perform")),
    ("suggestions", N_("Suggestions for the products")),
)
COMPETITOR_TEXTS = (
    ("strengths", N_("Their strengths")),
    ("weaknesses", N_("Their weaknesses")),
    ("promotions", N_("Their promotions")),
    ("effect", N_("Effect on us")),
)
TEXTS = ("service_feedback", "needs", "notes")
ISSUE_FIELDS = ("category", "description", "department", "due_date")
BLANK_ISSUE_ROWS = 3
MAX_ISSUE_ROWS = 50  # the API takes at most 50 issues per record
ISSUE_FIELD = re.compile(r"^issues\.(\d{1,2})\.(category|description|department|due_date)$")
PRODUCT_SEPARATORS = re.compile(r"[,，、;；\n]+")
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


def staff_options() -> list[tuple[str, str]] | None:
    """(id, name) of the tenant's active people, None when the person may not list them."""
    if not can("GET", "/staff"):
        return None
    answer = call("GET", "/staff", query={"limit": MANY, "active": "true"})
    if answer.status != 200:
        return None
    return [(p["id"], f"{p['name']} ({p['id']})") for p in answer.body.get("items", [])]


def customer_options() -> list[tuple[str, str]] | None:
    """(id, name) of the tenant's customers for a select; None when there are more than a
    select can offer (the form asks for the id instead)."""
    answer = call("GET", "/customers", query={"limit": MANY})
    if answer.status != 200 or answer.body.get("next_cursor"):
        return None
    items = sorted(answer.body.get("items", []), key=lambda c: str(c.get("name")))
    return [(c["id"], c["name"]) for c in items]


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


# --------------------------------------------------------------------------- the record form


def record_body(form: MultiDict) -> tuple[dict[str, Any], list[int]]:
    """The body of ``POST /visits/{id}/complete`` from the record form, and the form rows
    the body's issues come from (in order: the API's issue 0 is the form's ``rows[0]``).
    Blank answers are left out; blank issue rows are ignored."""
    body: dict[str, Any] = {}
    satisfaction = form.get("satisfaction", "").strip()
    if satisfaction:
        body["satisfaction"] = satisfaction
    intent = form.get("repurchase_intent", "").strip()
    if intent in ("yes", "no"):
        body["repurchase_intent"] = intent == "yes"
    elif intent not in ("", "unknown"):
        body["repurchase_intent"] = intent
    score = form.get("recommend_score", "").strip()
    if score:
        body["recommend_score"] = number(score)
    ratings = {
        key: number(form.get(f"ratings.{key}", "").strip())
        for key, _label in RATINGS
        if form.get(f"ratings.{key}", "").strip()
    }
    if ratings:
        body["ratings"] = ratings
    feedback = texts(form, "product_feedback", PRODUCT_FEEDBACK)
    if feedback:
        body["product_feedback"] = feedback
    for name in TEXTS:
        if form.get(name, "").strip():
            body[name] = form[name].strip()
    competitor = texts(form, "competitor_info", COMPETITOR_TEXTS)
    products = [
        p.strip() for p in PRODUCT_SEPARATORS.split(form.get("competitor_info.products", ""))
    ]
    if any(products):
        competitor["products"] = [p for p in products if p]
    if competitor:
        body["competitor_info"] = competitor
    if form.get("completed_at", "").strip():
        body["completed_at"] = aware_time(form["completed_at"])
    issues, rows = [], []
    for n in issue_rows(form):
        row = {name: form.get(f"issues.{n}.{name}", "").strip() for name in ISSUE_FIELDS}
        if not (row["description"] or row["department"] or row["due_date"]):
            continue  # a blank row (its category alone says nothing)
        issues.append({name: value for name, value in row.items() if value})
        rows.append(n)
    if issues:
        body["issues"] = issues
    return body, rows


def texts(form: MultiDict, prefix: str, names) -> dict[str, str]:
    sent = {name: form.get(f"{prefix}.{name}", "").strip() for name, _label in names}
    return {name: value for name, value in sent.items() if value}


def issue_rows(form) -> list[int]:
    """The numbers of the issue rows a record form holds, in order (at least one)."""
    found = {int(m.group(1)) for m in map(ISSUE_FIELD.match, form.keys()) if m}
    return sorted(n for n in found if n < MAX_ISSUE_ROWS) or [0]


def number(value: str):
    """A whole number as such; anything else as written (the API says what is wrong)."""
    return int(value) if re.fullmatch(r"-?\d{1,6}", value) else value


def form_errors(errors: dict[str, list[str]], rows: list[int]) -> dict[str, list[str]]:
    """The record's errors by the form's input names: the API's issue ``k`` is the form's
    row ``rows[k]``; an error inside an input's value (the 2nd competitor product) is the
    input's."""
    mapped: dict[str, list[str]] = {}
    for name, messages in errors.items():
        parts = name.split(".")
        if parts[0] == "issues" and len(parts) > 1 and parts[1].isdigit():
            k = int(parts[1])
            parts[1] = str(rows[k]) if k < len(rows) else parts[1]
        if parts[:2] == ["competitor_info", "products"]:
            parts = parts[:2]
        key = ".".join(parts)
        mapped[key] = [*mapped.get(key, []), *messages]
    return mapped


def inputs(rows: list[int]) -> set[str]:
    """The names of the visit page's inputs (errors for anything else are listed apart)."""
    names = {"satisfaction", "repurchase_intent", "recommend_score", "completed_at", *TEXTS}
    names |= {f"ratings.{key}" for key, _label in RATINGS}
    names |= {f"product_feedback.{key}" for key, _label in PRODUCT_FEEDBACK}
    names |= {f"competitor_info.{key}" for key, _label in COMPETITOR_TEXTS}
    names |= {"competitor_info.products", "appointment_at", "replied_at", "reason", "resolution"}
    names |= {f"issues.{n}.{name}" for n in rows for name in ISSUE_FIELDS}
    return names


def refuse(answer: Answer):
    """The API's refusal as the console's error page."""
    abort(answer.status if answer.status in (400, 403, 404, 413, 429) else 502)

"""The visit page's record form and the API's ``POST /visits/{id}/complete`` body: the
form's inputs are named by the body's field paths (``ratings.sales_attitude``,
``issues.2.department``), so the API's 422 errors land on the inputs that caused them."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.datastructures import MultiDict

from ..i18n import aware_time
from ..words import N_

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

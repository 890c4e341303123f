"""The audit sample: the completed, unaudited visits up for review (``GET
/visits/audit-sample``: every key account's, and a random share of each person's others),
each with what was recorded and a form to mark it accurate or not (``POST
/visits/{id}/audit``). Auditors, managers and admins only: the role table decides, the API
refuses anyone else.

The sample is drawn with a seed (by default the tenant's day, by the runtime's clock), so
reloading the page shows the same visits while nothing else changes; after a mark the page
shows the visit just audited with its result (``done``).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, current_app, g, redirect, request, url_for

from revisit_common.runtime import runtime

from .. import i18n
from ..blueprint import bp
from ..guard import signed_in
from ..words import N_
from .common import call, customer_names, page
from .visit_record import COMPETITOR_TEXTS, PRODUCT_FEEDBACK, RATINGS

FILTERS = ("from", "to", "assignee", "seed")
REVIEWS = {"key_account": N_("Key account"), "sample": N_("Random sample")}
ACCURATE = {"true": True, "false": False}


def filters(source) -> dict[str, str]:
    """The sample's filters from ``source`` (query or form); the seed defaults to the
    tenant's day."""
    values = {name: (source.get(name) or "").strip() for name in FILTERS}
    if not values["seed"]:
        today = runtime().clock().astimezone(ZoneInfo(g.console.timezone)).date()
        values["seed"] = str(today.toordinal())
    return values


def record_lines(visit: dict) -> dict[str, list[str]]:
    """The structured parts of a visit record as lines of text (label: value), by field."""
    ratings = visit.get("ratings") or {}
    product = visit.get("product_feedback") or {}
    competitor = visit.get("competitor_info") or {}
    products = ", ".join(competitor.get("products") or [])
    return {
        "ratings": [
            f"{i18n.gettext(label)}: {ratings[key]}"
            for key, label in RATINGS
            if ratings.get(key) is not None
        ],
        "product_feedback": [
            f"{i18n.gettext(label)}: {product[key]}"
            for key, label in PRODUCT_FEEDBACK
            if product.get(key)
        ],
        "competitor_info": ([products] if products else [])
        + [
            f"{i18n.gettext(label)}: {competitor[key]}"
            for key, label in COMPETITOR_TEXTS
            if competitor.get(key)
        ],
    }


def just_audited(visit_id: str) -> dict | None:
    """The visit audited last (``done``), with its result, if it is one the person may see."""
    if not visit_id:
        return None
    answer = call("GET", f"/visits/{visit_id}")
    if answer.status != 200 or not answer.body.get("audit"):
        return None
    return answer.body


def show(values: dict[str, str], status: int = 200, *, failed: dict | None = None, done=None):
    """The sample page; ``failed``: the mark that was refused (visit id, the note sent,
    field errors, problem) to show again."""
    query = {name: value for name, value in values.items() if value}
    answer = call("GET", "/visits/audit-sample", query=query)
    form = {
        "values": values,
        "failed": failed or {},
        "done": done,
        "reviews": REVIEWS,
        "visit_pages": "console.visit" in current_app.view_functions,  # the visits page's
    }
    if answer.status == 422:
        return page(
            "console/audit.html",
            422,
            **form,
            errors=answer.field_errors(),
            problem=answer.problem(),
            sample=None,
        )
    if not answer.ok:
        abort(answer.status if answer.status in (400, 403, 404) else 502)
    sample = answer.body
    for item in sample.get("items", []):
        item["lines"] = record_lines(item)
    ids = [item.get("customer_id") for item in sample.get("items", [])]
    if done:
        ids.append(done.get("customer_id"))
    return page(
        "console/audit.html",
        status,
        **form,
        errors={},
        problem="",
        sample=sample,
        names=customer_names(ids),
    )


@bp.get("/audit")
@signed_in
def audit():
    return show(filters(request.args), done=just_audited(request.args.get("done", "")))


@bp.post("/audit/<visit_id>")
@signed_in
def audit_mark(visit_id: str):
    values = filters(request.form)
    note = (request.form.get("note") or "").strip()
    accurate = ACCURATE.get(request.form.get("accurate", ""))
    if accurate is None:
        message = i18n.gettext("Choose accurate or not accurate.")
        failed = {"id": visit_id, "note": note, "errors": {"accurate": [message]}}
        return show(values, 400, failed={**failed, "problem": message})
    body = {"accurate": accurate, **({"note": note} if note else {})}
    answer = call("POST", f"/visits/{visit_id}/audit", body=body)
    if answer.ok:
        kept = {name: value for name, value in values.items() if value}
        return redirect(url_for("console.audit", done=visit_id, **kept), code=303)
    if answer.status in (409, 422):
        failed = {
            "id": visit_id,
            "note": note,
            "errors": answer.field_errors(),
            "problem": answer.problem(),
        }
        return show(values, answer.status, failed=failed)
    abort(answer.status if answer.status in (400, 403, 404) else 502)

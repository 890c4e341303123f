"""Customers: the list with its filters (``GET /customers``); one customer with its grade and
risk level and what they come from, its contacts and its history (visits, complaints,
purchases); the forms that register a customer (``POST /customers``) and record a purchase
(``POST /customers/{id}/purchases``).

The API gives the risk level's reasons (``risk_reasons``, e.g. ``overdue_payment_days>=90``:
the indicator and the threshold it crossed), shown as sentences (:func:`risk_reason`). It
gives no reasons for the grade, only what it is derived from (the tiers and the score); the
page shows those, with the tenant's thresholds and weights to whoever may read the settings.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flask import abort, current_app, redirect, request, url_for

from ..blueprint import bp
from ..guard import signed_in
from ..i18n import aware_time, gettext, show_rate
from ..words import N_
from .common import call, can, page, read

FILTERS = ("type", "grade", "region", "risk_level", "q")
PAGE_SIZE = 50
HISTORY_SIZE = 50
GRADES = ("A", "B", "C")
CREDIT_RATINGS = {"good": N_("Good"), "fair": N_("Fair"), "poor": N_("Poor")}
# The new-customer form's fields: the customer's own, then its one contact's.
CUSTOMER_FIELDS = (
    "name",
    "type",
    "region",
    "annual_purchase_amount",
    "cooperation_start",
    "owner",
    "address",
)
CONTACT_FIELDS = ("name", "title", "phone", "email", "birthday")
PURCHASE_FIELDS = ("amount", "product", "quantity", "purchased_at")


def path_of(customer_id: str) -> str:
    return "/customers/" + quote(customer_id, safe="")


# --------------------------------------------------------------------------- the list


def chosen_filters() -> dict[str, str]:
    """The filters of the list's form that have a value."""
    chosen = {name: request.args.get(name, "").strip() for name in FILTERS}
    return {name: value for name, value in chosen.items() if value}


def customer_list(status: int = 200, **form_state: Any):
    """The list page; ``form_state``: the new-customer form sent back (values, errors)."""
    chosen = chosen_filters()
    query = {**chosen, "limit": str(PAGE_SIZE)}
    cursor = request.args.get("cursor", "")
    if cursor:
        query["cursor"] = cursor
    answer = call("GET", "/customers", query=query)
    filter_errors: dict[str, list[str]] = {}
    if answer.status == 422:
        filter_errors, listing = answer.field_errors(), {"items": [], "next_cursor": None}
        status = 422 if status == 200 else status
    elif answer.status != 200:
        abort(answer.status if answer.status in (400, 403, 404) else 502)
    else:
        listing = answer.body
    may_create = can("POST", "/customers")
    return page(
        "console/customers.html",
        status,
        customers=listing["items"],
        next_cursor=listing.get("next_cursor"),
        cursor=cursor,
        filters=chosen,
        filter_errors=filter_errors,
        grades=[(grade, grade) for grade in GRADES],
        may_create=may_create,
        staff=owner_choices() if may_create else [],
        form=form_state.get("form", {}),
        errors=form_state.get("errors", {}),
        problem=form_state.get("problem", ""),
        form_open=bool(form_state),
    )


def owner_choices() -> list[dict]:
    """The tenant's active people, suggested as owners (none when they may not be listed)."""
    answer = call("GET", "/staff", query={"active": "true", "limit": "500"})
    return answer.body.get("items", []) if answer.status == 200 else []


@bp.get("/customers")
@signed_in
def customers():
    return customer_list()


def form_values(names, prefix: str = "") -> dict[str, str]:
    return {name: request.form.get(prefix + name, "").strip() for name in names}


def customer_body(form: dict[str, str], contact: dict[str, str], decision_maker: bool) -> dict:
    """The body of ``POST /customers`` from the form: fields left empty are not sent (the
    API names the required ones), the contact only when any of its fields is filled."""
    body: dict[str, Any] = {name: value for name, value in form.items() if value}
    if any(contact.values()) or decision_maker:
        person: dict[str, Any] = {name: value for name, value in contact.items() if value}
        person["name"] = contact["name"]
        person["decision_maker"] = decision_maker
        body["contacts"] = [person]
    return body


def form_errors(errors: dict, fields: tuple[str, ...]) -> tuple[dict[str, list[str]], str]:
    """The API's errors by the form's field names (a contact's ``contacts.0.x`` as
    ``contact_x``), and the text of those that belong to no field of the form."""
    mine: dict[str, list[str]] = {}
    others: list[str] = []
    for name, messages in errors.items():
        field = re.sub(r"^contacts\.0\.", "contact_", name)
        if field in fields:
            mine[field] = messages
        else:
            others.append(f"{name}: {' '.join(messages)}")
    return mine, " ".join(others)


def refused(answer, form: dict, fields: tuple[str, ...], again):
    """The form again after the API refused it: its field errors (422) or its message
    (409 and the like); a role that may not is the 403 page."""
    if answer.status in (401, 403):
        abort(403)
    if answer.status == 404:
        abort(404)
    if answer.status == 422:
        errors, rest = form_errors(answer.field_errors(), fields)
        problem = rest or gettext("Some fields are not valid.")
        return again(422, form=form, errors=errors, problem=problem)
    status = answer.status if 400 <= answer.status < 500 else 502
    return again(status, form=form, errors={}, problem=answer.problem())


@bp.post("/customers")
@signed_in
def new_customer():
    form = form_values(CUSTOMER_FIELDS)
    contact = form_values(CONTACT_FIELDS, "contact_")
    decision_maker = request.form.get("contact_decision_maker") == "on"
    answer = call("POST", "/customers", body=customer_body(form, contact, decision_maker))
    if answer.status == 201:
        return redirect(url_for("console.customer", customer_id=answer.body["id"]), code=303)
    sent = {**form, **{f"contact_{name}": value for name, value in contact.items()}}
    sent["contact_decision_maker"] = "on" if decision_maker else ""
    fields = (
        *CUSTOMER_FIELDS,
        *(f"contact_{name}" for name in (*CONTACT_FIELDS, "decision_maker")),
    )
    return refused(answer, sent, fields, customer_list)


# --------------------------------------------------------------------------- one customer

# The risk reasons the API gives (domain.assess_risk), each as a sentence with its threshold.
RISK_REASONS = (
    (re.compile(r"^legal_dispute$"), N_("A legal dispute is open.")),
    (
        re.compile(r"^overdue_payment_days>=(?P<n>\d+)$"),
        N_("Payments overdue for %(n)s days or more."),
    ),
    (re.compile(r"^credit_rating=(?P<rating>\w+)$"), N_("Credit rating: %(rating)s.")),
    (
        re.compile(r"^complaints_12m>=(?P<n>\d+)$"),
        N_("%(n)s or more complaints in the last 12 months."),
    ),
    (
        re.compile(r"^purchase_drop>=(?P<share>[0-9.]+)$"),
        N_("Purchases of the last 12 months down by %(share)s or more on the 12 months before."),
    ),
)


def risk_reason(reason: str) -> str:
    """One of the API's risk reasons as a sentence (an unknown one as the API gives it)."""
    for pattern, message in RISK_REASONS:
        found = pattern.match(reason)
        if found is None:
            continue
        values = found.groupdict()
        if "rating" in values:
            label = CREDIT_RATINGS.get(values["rating"])
            values["rating"] = gettext(label) if label else values["rating"]
        if "share" in values:
            values["share"] = show_rate(float(values["share"]))
        return gettext(message, **values)
    return reason


def classification_policy() -> dict | None:
    """The tenant's classification thresholds and weights, for those who may read the
    settings (None for the others)."""
    if not can("GET", "/settings"):
        return None
    answer = call("GET", "/settings")
    if answer.status != 200:
        return None
    return (answer.body.get("settings") or {}).get("classification")


def listed(path: str, query: dict[str, str]) -> list[dict] | None:
    """The items of a list the person may read (None when their role may not)."""
    if not can("GET", path):
        return None
    return read(path, {**query, "limit": str(HISTORY_SIZE)})["items"]


def customer_page(customer_id: str, status: int = 200, **form_state: Any):
    """The customer's page; ``form_state``: the purchase form sent back (values, errors)."""
    customer = read(path_of(customer_id))
    history = {"customer_id": customer["id"]}
    return page(
        "console/customer.html",
        status,
        customer=customer,
        risk_reasons=[risk_reason(reason) for reason in customer.get("risk_reasons") or []],
        credit_rating=CREDIT_RATINGS.get(customer.get("credit_rating") or ""),
        policy=classification_policy(),
        visits=listed("/visits", {**history, "sort": "-due_date"}),
        complaints=listed("/complaints", history),
        purchases=listed(path_of(customer["id"]) + "/purchases", {}),
        # the history links to the visit and complaint pages where the console has them
        visit_page="console.visit" in current_app.view_functions,
        complaint_page="console.complaint" in current_app.view_functions,
        may_purchase=can("POST", path_of(customer["id"]) + "/purchases"),
        form=form_state.get("form", {}),
        errors=form_state.get("errors", {}),
        problem=form_state.get("problem", ""),
    )


@bp.get("/customers/<customer_id>")
@signed_in
def customer(customer_id: str):
    return customer_page(customer_id)


def purchase_body(form: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {name: value for name, value in form.items() if value}
    if body.get("quantity", "").isdigit():
        body["quantity"] = int(body["quantity"])
    if "purchased_at" in body:
        body["purchased_at"] = aware_time(body["purchased_at"])
    return body


@bp.post("/customers/<customer_id>/purchases")
@signed_in
def record_purchase(customer_id: str):
    form = form_values(PURCHASE_FIELDS)
    answer = call("POST", path_of(customer_id) + "/purchases", body=purchase_body(form))
    if answer.status == 201:
        target = url_for("console.customer", customer_id=customer_id, _anchor="purchases")
        return redirect(target, code=303)

    def again(status: int, **state: Any):
        return customer_page(customer_id, status, **state)

    return refused(answer, form, PURCHASE_FIELDS, again)

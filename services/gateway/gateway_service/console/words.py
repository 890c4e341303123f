"""The words of the domain as the console shows them: an English label for each value the
API gives (``on_site`` → "On site"), translated like every text (``N_`` marks them for the
catalog check). Templates use the ``word`` filter: ``{{ visit.method|word("method") }}``;
a value without a label is shown as it is."""

from __future__ import annotations

from flask import Flask

from .i18n import gettext


def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark, translate later"
    return message


WORDS: dict[str, dict[str, str]] = {
    "role": {
        "admin": N_("Administrator"),
        "manager": N_("Manager"),
        "agent": N_("Agent"),
        "auditor": N_("Auditor"),
        "viewer": N_("Viewer"),
        "department": N_("Department"),
    },
    "reason": {
        "new_customer": N_("New customer"),
        "repair": N_("After a repair"),
        "periodic": N_("Periodic"),
        "key_account": N_("Key account"),
        "post_project": N_("After a project"),
        "post_complaint": N_("After a complaint"),
        "post_event": N_("After an event"),
        "care": N_("Care"),
        "risk_watch": N_("Risk watch"),
    },
    "method": {
        "phone": N_("Phone"),
        "email": N_("Email"),
        "on_site": N_("On site"),
        "online_survey": N_("Online survey"),
    },
    "visit_status": {
        "planned": N_("Planned"),
        "completed": N_("Completed"),
        "cancelled": N_("Cancelled"),
    },
    "satisfaction": {
        "very_satisfied": N_("Very satisfied"),
        "satisfied": N_("Satisfied"),
        "neutral": N_("Neutral"),
        "dissatisfied": N_("Dissatisfied"),
        "very_dissatisfied": N_("Very dissatisfied"),
    },
    "issue_category": {
        "product_quality": N_("Product quality"),
        "service_quality": N_("Service quality"),
        "technical": N_("Technical"),
        "price": N_("Price"),
        "other": N_("Other"),
    },
    "issue_status": {
        "open": N_("Open"),
        "resolved": N_("Resolved"),
        "confirmed": N_("Confirmed"),
    },
    "complaint_status": {
        "received": N_("Received"),
        "acknowledged": N_("Acknowledged"),
        "investigating": N_("Investigating"),
        "solution_proposed": N_("Solution proposed"),
        "implementing": N_("Implementing"),
        "reopened": N_("Reopened"),
        "waiting_customer": N_("Waiting for the customer"),
        "resolved": N_("Resolved"),
        "closed": N_("Closed"),
    },
    "action": {
        "acknowledge": N_("Acknowledge"),
        "investigate": N_("Investigate"),
        "propose": N_("Propose a solution"),
        "implement": N_("Implement"),
        "resolve": N_("Resolve"),
        "close": N_("Close"),
        "reopen": N_("Reopen"),
        "wait_customer": N_("Pause: wait for the customer"),
        "resume": N_("Resume"),
    },
    "channel": {
        "phone": N_("Phone"),
        "email": N_("Email"),
        "online": N_("Online"),
        "in_person": N_("In person"),
    },
    "severity": {"general": N_("General"), "major": N_("Major")},
    "limit": {
        "first_response": N_("First response"),
        "plan": N_("Plan"),
        "resolve": N_("Resolution"),
    },
    "customer_type": {
        "dealer": N_("Dealer"),
        "agent": N_("Agent (reseller)"),
        "end_user": N_("End user"),
    },
    "level": {"low": N_("Low"), "medium": N_("Medium"), "high": N_("High")},
    "size_tier": {"large": N_("Large"), "medium": N_("Medium"), "small": N_("Small")},
    "cooperation_tier": {"long": N_("Long"), "medium": N_("Medium"), "short": N_("Short")},
}


def word(value, kind: str) -> str:
    """The label of ``value`` among the words of ``kind``, in the request's language."""
    if value is None:
        return ""
    label = WORDS.get(kind, {}).get(str(value))
    return gettext(label) if label else str(value)


def choices(kind: str) -> list[tuple[str, str]]:
    """(value, label) of every word of ``kind``, for a select."""
    return [(value, gettext(label)) for value, label in WORDS[kind].items()]


def install(app: Flask) -> None:
    app.jinja_env.filters["word"] = word
    app.jinja_env.globals["choices"] = choices

"""The console's answers to refusals and failures: pages, not problem+json."""

from __future__ import annotations

import logging

from werkzeug.exceptions import HTTPException

from .. import i18n
from ..blueprint import bp
from ..guard import Forged
from ..words import N_
from .common import page

log = logging.getLogger(__name__)

MESSAGES = {
    400: N_("The request could not be understood."),
    403: N_("Your role may not do this."),
    404: N_("Not found, or not your organisation's."),
    405: N_("This page does not take that kind of request."),
    413: N_("The file is too large."),
    422: N_("Some fields are not valid."),
    429: N_("Too many requests. Please wait a moment."),
    502: N_("A service did not answer. Please try again."),
    500: N_("Something went wrong on our side. Please try again."),
}


@bp.errorhandler(Forged)
def forged(_error: Forged):
    message = i18n.gettext("The form expired or was not sent from this page. Please try again.")
    return page("console/error.html", 400, message=message)


@bp.errorhandler(HTTPException)
def refused(error: HTTPException):
    status = error.code or 500
    text = MESSAGES.get(status, N_("Something went wrong."))
    return page("console/error.html", status, message=i18n.gettext(text))


@bp.errorhandler(Exception)
def failed(error: Exception):
    """A failure of ours (a bug, the database gone): logged, and a page, not JSON."""
    log.exception("console page failed", exc_info=error)
    return page("console/error.html", 500, message=i18n.gettext(MESSAGES[500]))


@bp.get("/<path:rest>")
def unknown(rest: str):
    return page("console/error.html", 404, message=i18n.gettext(MESSAGES[404]))

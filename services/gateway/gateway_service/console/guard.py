"""What every console request goes through: who is signed in, the language and time zone,
CSRF tokens on every form, and the security headers of every page.

* **Signed in**: the session cookie (sessions.py) names the person; a page that needs one
  (:func:`signed_in`) sends anyone else to the sign-in page (htmx: ``HX-Redirect``).
* **CSRF**: every POST carries the session's token (form field ``csrf_token`` or header
  ``X-CSRF-Token``); the sign-in form, before any session, a token of its own that must equal
  the one in its short-lived cookie. A missing or wrong token is a 400 and changes nothing.
* **Headers**: a strict Content-Security-Policy (scripts, styles, images and requests from
  this origin only; no inline script or style, no eval, no framing), no sniffing, no
  referrer to other sites, and no caching of pages (they hold personal data).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable

from flask import Response, current_app, g, redirect, request, url_for

from revisit_common.runtime import runtime

from . import i18n, sessions
from .blueprint import bp

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
FORM_COOKIE = "revisit_console_form"  # the sign-in form's token, before any session
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class Forged(Exception):
    """A POST without the right CSRF token."""


def cookies() -> sessions.Cookies:
    return current_app.extensions["console_cookies"]


def session_secret() -> str | None:
    return cookies().secret_of(request.cookies.get(sessions.COOKIE))


@bp.before_request
def load_person() -> None:
    """Who is signed in (``g.console``, None for nobody), their language and time zone."""
    secret = session_secret()
    person = sessions.find(runtime().db, secret, runtime().clock()) if secret else None
    g.console = person
    if person is not None:
        g.console_locale = person.locale
        g.console_timezone = person.timezone
    else:
        g.console_locale = request.accept_languages.best_match(i18n.LOCALES) or i18n.LOCALES[0]
    if request.method == "POST" and request.endpoint not in FORM_TOKEN_ENDPOINTS:
        sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
        if person is None:
            return None  # the page sends them to sign in; nothing is done
        if not hmac.compare_digest(sent.encode(), person.csrf_token.encode()):
            raise Forged()
    return None


# Forms posted without a session: they check a token of their own (form_token_ok).
FORM_TOKEN_ENDPOINTS = frozenset({"console.sign_in"})


def form_token_ok() -> bool:
    """Whether the sign-in form came back with the token of its cookie."""
    sent = request.form.get(CSRF_FIELD, "")
    kept = request.cookies.get(FORM_COOKIE, "")
    return bool(sent) and bool(kept) and hmac.compare_digest(sent.encode(), kept.encode())


@bp.after_request
def security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
    return response


def to_sign_in() -> Response:
    target = url_for("console.sign_in")
    if request.headers.get("HX-Request"):
        response = Response(status=204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, code=303)


def signed_in(view: Callable) -> Callable:
    """A page for signed-in people only."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("console") is None:
            return to_sign_in()
        return view(*args, **kwargs)

    return wrapper

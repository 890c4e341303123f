"""Signing in and out, and the person's choice of language."""

from __future__ import annotations

import secrets

from flask import current_app, g, make_response, redirect, request, url_for

from revisit_common.runtime import runtime

from ... import credentials
from .. import i18n, sessions
from ..blueprint import bp
from ..guard import FORM_COOKIE, form_token_ok, session_secret, signed_in
from .common import page

MAX_FIELD = 300


def _options():
    return runtime().options


def _secure() -> bool:
    return request.is_secure or _options().console_secure_cookies


def _sign_in_page(status: int = 200, error: str = "", tenant: str = "", staff_id: str = ""):
    token = secrets.token_urlsafe(24)
    body, code = page(
        "console/sign_in.html",
        status,
        form_token=token,
        error=error,
        tenant=tenant,
        staff_id=staff_id,
    )
    response = make_response(body, code)
    response.set_cookie(
        FORM_COOKIE,
        token,
        max_age=3600,
        path="/console/",
        secure=_secure(),
        httponly=True,
        samesite="Strict",
    )
    return response


def too_many_attempts() -> bool:
    """Whether this address is over the gateway's per-address limit of requests without a
    credential (REVISIT_RATE_LIMIT_ANONYMOUS), sign-in attempts counted on their own."""
    limiter = current_app.extensions.get("gateway_limiter")
    if limiter is None:
        return False
    key = f"console-sign-in:{request.remote_addr}"
    return limiter.count(key, False, g.get("request_id")) is not None


@bp.get("/sign-in")
def sign_in_form():
    if g.console is not None:
        return redirect(url_for("console.agenda"), code=303)
    tenant = request.args.get("tenant", "")[:MAX_FIELD]
    return _sign_in_page(tenant=tenant)


@bp.post("/sign-in")
def sign_in():
    tenant = request.form.get("tenant", "").strip()[:MAX_FIELD]
    staff_id = request.form.get("staff_id", "").strip()[:MAX_FIELD]
    password = request.form.get("password", "")
    if too_many_attempts():
        message = i18n.gettext("Too many sign-in attempts. Please wait a minute.")
        return _sign_in_page(429, message, tenant, staff_id)
    if not form_token_ok():
        message = i18n.gettext("The form expired. Please sign in again.")
        return _sign_in_page(400, message, tenant, staff_id)
    if not tenant or not staff_id or not password or len(password) > 1000:
        message = i18n.gettext("Enter your organisation, staff id and password.")
        return _sign_in_page(422, message, tenant, staff_id)
    rt = runtime()
    now = rt.clock()
    with rt.db.transaction() as session:
        result = credentials.check_sign_in(
            session, tenant, staff_id, password, at=now, cost=_options().password_cost
        )
        secret = None
        if result.person is not None:
            hours = _options().console_session_hours
            secret = sessions.open_session(session, tenant, staff_id, now, hours)
    if secret is None:
        if result.locked:
            message = i18n.gettext(
                "Too many failed sign-ins: this account is locked for %(minutes)s minutes.",
                minutes=credentials.passwords.LOCK_MINUTES,
            )
            return _sign_in_page(429, message, tenant, staff_id)
        message = i18n.gettext("Wrong organisation, staff id or password.")
        return _sign_in_page(401, message, tenant, staff_id)
    response = redirect(url_for("console.agenda"), code=303)
    response.set_cookie(
        sessions.COOKIE,
        current_app.extensions["console_cookies"].sign(secret),
        max_age=_options().console_session_hours * 3600,
        path="/console/",
        secure=_secure(),
        httponly=True,
        samesite="Lax",
    )
    response.delete_cookie(FORM_COOKIE, path="/console/")
    return response


@bp.post("/sign-out")
@signed_in
def sign_out():
    secret = session_secret()
    if secret:
        with runtime().db.transaction() as session:
            sessions.close_session(session, secret)
    response = redirect(url_for("console.sign_in_form"), code=303)
    response.delete_cookie(sessions.COOKIE, path="/console/")
    return response


@bp.post("/language")
@signed_in
def choose_language():
    locale = request.form.get("locale", "")
    if locale not in i18n.LOCALES:
        return page("console/error.html", 422, message=i18n.gettext("Unknown language."))
    person = g.console
    with runtime().db.transaction() as session:
        sessions.choose_locale(session, person.tenant_id, person.staff_id, locale)
    back = request.form.get("back", "")
    local = back.startswith("/console/") and "//" not in back and "\\" not in back
    return redirect(back if local else url_for("console.agenda"), code=303)

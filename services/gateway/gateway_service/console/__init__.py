"""The web console for staff (CONTRACT §4.8): server-rendered pages (Jinja2, htmx) served by
the gateway at ``/console/``, calling the same API as the same person (api_client.py), in
zh-CN and English (i18n.py).

:func:`install` adds it to the gateway's app. The page modules are listed here, each adding
its routes to the blueprint.
"""

from __future__ import annotations

from flask import Flask

from revisit_common.runtime import ServiceRuntime

from . import guard, i18n, words  # noqa: F401 - guard's hooks are the blueprint's
from .api_client import ApiClient
from .blueprint import bp
from .pages import (  # noqa: F401 - their routes
    agenda,
    audit,
    common,
    complaints,
    customers,
    errors,
    kpis,
    sign_in,
    transfer,
    visits,
)
from .sessions import Cookies, cookie_key


def install(app: Flask, runtime: ServiceRuntime) -> None:
    """The console's routes, catalogs and cookie key on the gateway's ``app``; its API
    calls go to ``app.wsgi_app`` as it is when a page calls (the whole gateway)."""
    settings = runtime.settings
    app.extensions["console_cookies"] = Cookies(
        cookie_key(settings.admin_token, settings.internal_token)
    )
    app.extensions["console_api"] = ApiClient(lambda environ, start: app.wsgi_app(environ, start))
    i18n.install(app)
    words.install(app)
    app.jinja_env.globals.update(
        form_key=common.form_key, session_csrf=common.session_csrf, csrf_field=guard.CSRF_FIELD
    )
    app.register_blueprint(bp)

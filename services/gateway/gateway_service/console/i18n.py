"""The console's languages: English (the messages as written) and zh-CN (gettext catalogs).

Every text of a page is written in English inside ``_()`` (templates and page code) and
translated in ``locales/zh-CN/*.po``, one catalog per page module, read with Babel when the
app is built (no compile step). The language of a request is the signed-in person's
(``g.console_locale``): their choice, else their tenant's; before sign-in the browser's
``Accept-Language``. Dates and times are shown in the tenant's time zone, formatted for the
language by Babel (CLDR).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_percent
from flask import Flask, current_app, g

LOCALES = ("zh-CN", "en")
CATALOGS = Path(__file__).parent / "locales"


@functools.cache
def load_catalog(locale: str) -> Mapping[str, str]:
    """Every translated message of ``locale`` (msgid → msgstr), from its .po files (read
    once a process: they are part of the code)."""
    messages: dict[str, str] = {}
    for path in sorted((CATALOGS / locale).glob("*.po")):
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=locale.replace("-", "_"))
        for message in catalog:
            if message.id and isinstance(message.id, str) and message.string:
                messages[message.id] = message.string
    return MappingProxyType(messages)


class Translations:
    """gettext for the request's language."""

    def __init__(self, catalogs: Mapping[str, Mapping[str, str]]):
        self.catalogs = catalogs

    def gettext(self, message: str) -> str:
        catalog = self.catalogs.get(current_locale())
        return catalog.get(message, message) if catalog else message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def gettext(message: str, **values) -> str:
    """``message`` in the request's language, with ``%(name)s`` filled from ``values`` (for
    texts made by page code, e.g. flash messages)."""
    text = current_app.extensions["console_translations"].gettext(message)
    return text % values if values else text


_ = gettext


def current_locale() -> str:
    return g.get("console_locale") or LOCALES[0]


def babel_locale() -> str:
    return current_locale().replace("-", "_")


def zone() -> ZoneInfo:
    """The tenant's time zone (of the signed-in person)."""
    return ZoneInfo(g.get("console_timezone") or "Asia/Shanghai")


def parse_time(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def show_datetime(value) -> str:
    """An RFC 3339 time (or datetime) in the tenant's time zone, for the language."""
    at = parse_time(value)
    if at is None:
        return "" if value is None else str(value)
    return format_datetime(at, "medium", tzinfo=zone(), locale=babel_locale())


def show_date(value) -> str:
    """A date (``YYYY-MM-DD``, a date, or a time in the tenant's zone), for the language."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            at = parse_time(value)
            if at is None:
                return value
            value = at
    if isinstance(value, datetime):
        value = value.astimezone(zone()).date()
    if not isinstance(value, date):
        return "" if value is None else str(value)
    return format_date(value, "medium", locale=babel_locale())


def show_rate(value) -> str:
    """A fraction 0..1 as a percentage; ``—`` for none (a rate with no denominator)."""
    if value is None:
        return "—"
    return format_percent(value, "#,##0.0%", locale=babel_locale())


def local_input(value) -> str:
    """An RFC 3339 time as the value of an ``<input type=datetime-local>`` in the tenant's
    zone (``YYYY-MM-DDTHH:MM``)."""
    at = parse_time(value)
    return "" if at is None else at.astimezone(zone()).strftime("%Y-%m-%dT%H:%M")


def aware_time(value: str) -> str:
    """A ``datetime-local`` input (no offset: a time in the tenant's zone) as RFC 3339;
    anything else as it was typed (the API says what is wrong with it)."""
    value = value.strip()
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return value
    if at.tzinfo is None:
        at = at.replace(tzinfo=zone())
    return at.isoformat()


def install(app: Flask) -> Translations:
    """Catalogs loaded, ``_`` and the filters in the app's Jinja environment."""
    translations = Translations({"zh-CN": load_catalog("zh-CN")})
    app.extensions["console_translations"] = translations
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        translations.gettext, translations.ngettext, newstyle=True
    )
    app.jinja_env.filters.update(
        datetime=show_datetime, date=show_date, rate=show_rate, local_input=local_input
    )
    return translations

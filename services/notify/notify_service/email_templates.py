"""Email texts from Jinja2 templates, in zh-CN and en (``templates/<locale>/<kind>.*.txt``).

Each kind of email has a subject and a plain-text body template per locale. The
environment is made once per process; templates are plain text (no autoescaping, nothing
is rendered as HTML), undefined names raise instead of rendering empty, and a subject is
one line (line breaks in the data become spaces, so no header can be injected).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from .notification_rules import LOCALES

TEMPLATES = Path(__file__).parent / "templates"
KINDS = ("digest", "complaint_reported", "complaint_escalated", "risk_warning")
# Words the zh-CN templates translate (the en ones show the codes as they are).
ZH_WORDS = {
    "limits": {"first_response": "首次响应", "plan": "处理方案", "resolve": "解决"},
    "levels": {"low": "低", "medium": "中", "high": "高"},
}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    locale: str


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )


def render(kind: str, locale: str, **data: Any) -> Rendered:
    """The subject and body of an email of ``kind`` in ``locale`` (zh-CN or en)."""
    if kind not in KINDS:
        raise ValueError(f"unknown email kind {kind!r}")
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r}")
    env = environment()
    values = {**ZH_WORDS, **data}
    subject = env.get_template(f"{locale}/{kind}.subject.txt").render(values)
    body = env.get_template(f"{locale}/{kind}.body.txt").render(values)
    return Rendered(" ".join(subject.split())[:500], body.strip() + "\n", locale)

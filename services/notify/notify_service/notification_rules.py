"""The rules of email notifications (CONTRACT §4.7), plain functions and one policy class.

* :class:`NotificationPolicy`: the tenant settings section ``notifications`` this service
  owns. ``locale`` of the emails ("zh-CN", the default, or "en"); ``supervisors``, the staff
  ids or emails that get major complaints (ComplaintReportedUpward) and escalations
  (ComplaintEscalated), by default none (then the ``supervisors`` of the ``complaints``
  section are used); ``digest`` (default on) and ``digest_hour`` (0..23, default 18): the
  tenant-local hour from which each assignee's digest of tomorrow's open visits is sent, once
  a day.
* :func:`addresses`: staff ids or emails to email addresses (a staff id through the people
  copy; a person without an email, or one who left, gets nothing).
* :func:`digest_day`: whether a tenant's digest is due at an instant, and for which day.
* :class:`SmtpTarget`: ``REVISIT_SMTP_URL`` read (``smtp://`` or ``smtps://``, optional
  ``user:password@``, optional port, ``?starttls=true``, ``?from=``).
* :func:`retry_delay`: the back-off between two sending attempts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

from revisit_common.policy import Policy, check_bounds, setting

LOCALES = ("zh-CN", "en")
MAX_SUPERVISORS = 50
MAX_PERSON = 200  # characters of a staff id or email
EMAIL_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


def is_email(value: str) -> bool:
    """Whether ``value`` is written as an email address (else it is a staff id)."""
    return bool(EMAIL_RE.fullmatch(value))


@dataclass(frozen=True)
class NotificationPolicy(Policy):
    """The per-tenant email settings (settings section ``notifications``)."""

    policy_name = "notification"
    none_is_empty = True

    locale: str = setting("zh-CN", "locale")
    supervisors: tuple = setting((), "people", max_items=MAX_SUPERVISORS, max_length=MAX_PERSON)
    digest: bool = setting(True, "flag")
    digest_hour: int = setting(18, "hour", minimum=0, maximum=23)

    @staticmethod
    def coerce(value: Any, meta: Mapping[str, Any]) -> Any:
        kind = meta["kind"]
        if kind == "locale":
            if value not in LOCALES:
                raise ValueError(f"must be one of {', '.join(LOCALES)}, got {value!r}")
            return value
        if kind == "flag":
            if not isinstance(value, bool):
                raise ValueError(f"must be true or false, got {value!r}")
            return value
        if kind == "people":
            return _people(value, meta)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a whole number, got {value!r}")
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError(f"must be a whole number, got {value!r}")
            value = int(value)
        check_bounds(value, meta, value)
        return value

    @staticmethod
    def json_value(value: Any, meta: Mapping[str, Any]) -> Any:
        return list(value) if meta["kind"] == "people" else value


def _people(value: Any, meta: Mapping[str, Any]) -> tuple[str, ...]:
    """Staff ids or emails: each 1..max_length characters, not blank, no repeats."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        raise ValueError(f"must be a list of staff ids or emails, got {value!r}")
    if len(value) > meta["max_items"]:
        raise ValueError(f"at most {meta['max_items']} entries")
    for person in value:
        if not isinstance(person, str) or not 1 <= len(person) <= meta["max_length"]:
            raise ValueError(f"entries must be strings of 1..{meta['max_length']} characters")
        if not person.strip() or any(ch in person for ch in "\r\n"):
            raise ValueError("entries must not be blank or hold line breaks")
    if len(set(value)) != len(value):
        raise ValueError("entries must not repeat")
    return tuple(value)


def supervisors_of(policy: NotificationPolicy, complaints_section: Mapping[str, Any]) -> list[str]:
    """Who gets major complaints and escalations: the section's ``supervisors``, or, when it
    names none, the supervision group of the ``complaints`` section."""
    if policy.supervisors:
        return list(policy.supervisors)
    fallback = complaints_section.get("supervisors") or []
    return [str(person) for person in fallback if isinstance(person, str)]


def addresses(people: Iterable[str], email_of: Callable[[str], str | None]) -> list[str]:
    """The email addresses of ``people`` (staff ids or emails), in order, without repeats:
    an email as written, a staff id through ``email_of`` (None: nobody to write to)."""
    found: list[str] = []
    for person in people:
        address = person if is_email(person) else email_of(person)
        if address and is_email(address) and address not in found:
            found.append(address)
    return found


def digest_day(policy: NotificationPolicy, timezone: str, at: datetime) -> date | None:
    """The day whose visits a digest due at ``at`` lists (the tenant's local tomorrow), or
    None when the digest is off or the local hour is before ``digest_hour``."""
    if not policy.digest:
        return None
    local = at.astimezone(ZoneInfo(timezone))
    if local.hour < policy.digest_hour:
        return None
    return local.date() + timedelta(days=1)


def retry_delay(attempts: int, backoff: float, cap: float = 6 * 3600.0) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: ``backoff * 2**(attempts-1)``,
    at most ``cap`` seconds."""
    return timedelta(seconds=min(cap, backoff * 2 ** max(attempts - 1, 0)))


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how emails are sent (``REVISIT_SMTP_URL``)."""

    host: str
    port: int
    tls: bool  # smtps: TLS from the start
    starttls: bool
    username: str | None
    password: str | None
    sender: str

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        """Read an SMTP URL; ``ValueError`` (never showing the password) when unusable."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("REVISIT_SMTP_URL must start with smtp:// or smtps://")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("REVISIT_SMTP_URL has an invalid port") from None
        if not parts.hostname:
            raise ValueError("REVISIT_SMTP_URL names no host")
        query = parse_qs(parts.query)
        starttls = (query.get("starttls") or ["false"])[-1].lower()
        if starttls not in ("true", "false", "1", "0"):
            raise ValueError("REVISIT_SMTP_URL: starttls must be true or false")
        sender = (query.get("from") or [""])[-1]
        if sender and not is_email(sender):
            raise ValueError("REVISIT_SMTP_URL: from must be an email address")
        tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=port or (465 if tls else 25),
            tls=tls,
            starttls=starttls in ("true", "1"),
            username=unquote(parts.username) if parts.username is not None else None,
            password=unquote(parts.password) if parts.password is not None else None,
            sender=sender or f"revisit@{parts.hostname}",
        )

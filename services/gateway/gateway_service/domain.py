"""The gateway's rules: API keys, who may call what, and the tenant settings document.

Plain functions and data, no Flask or SQL, so they are easy to read and to test:

* **API keys** are 256-bit random tokens shown once; only their SHA-256 is stored. A key is
  random and long, so a fast hash is enough (no password stretching needed), and a lookup by
  hash on every request keeps revocation instant.
* **The role table** (:data:`ROLE_RULES`) says which roles may call which method and path;
  :func:`allowed` reads it, first matching rule wins.
* **The settings document** has one section per policy, each checked by a pure validator
  registered in :data:`SECTIONS`. The gateway stores only a tenant's overrides; the
  effective document (defaults filled in) is what clients read and what events carry.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from complaint_service.domain import ComplaintPolicy
from customer_service.domain import ClassificationPolicy
from revisit_common.calendar import WorkCalendar
from revisit_common.identity import ROLES
from visit_service.domain import VisitPolicy

# --------------------------------------------------------------------------- API keys

KEY_PREFIX = "rvk_"
KEY_BYTES = 32  # 256 bits of randomness
DISPLAY_CHARS = 12  # "rvk_" + 8 characters, enough to tell keys apart in a list
MAX_KEY_LENGTH = 200  # longer bearer tokens are rejected before hashing


def generate_key() -> str:
    """A new API key: ``rvk_`` and 43 URL-safe characters (256 random bits)."""
    return KEY_PREFIX + secrets.token_urlsafe(KEY_BYTES)


def hash_key(key: str) -> str:
    """The SHA-256 of a key, as stored and looked up (hex, 64 characters)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_matches(key: str, stored_hash: str) -> bool:
    """Constant-time check of a presented key against a stored hash."""
    return hmac.compare_digest(hash_key(key), stored_hash)


def display_prefix(key: str) -> str:
    """The part of a key that may be shown in lists, to recognise it."""
    return key[:DISPLAY_CHARS]


def token_matches(sent: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a shared secret (the platform token); never true when
    either side is missing."""
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))


# --------------------------------------------------------------------------- roles

READ = frozenset({"GET", "HEAD"})
WRITE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ANY = READ | WRITE

READERS = frozenset({"admin", "manager", "agent", "auditor", "viewer"})
WRITERS = frozenset({"admin", "manager", "agent"})
DEPARTMENT = frozenset({"department"})
ADMIN = frozenset({"admin"})
SUPERVISORS = frozenset({"auditor", "manager", "admin"})


@dataclass(frozen=True)
class Rule:
    """Callers with one of ``roles`` may use ``methods`` on paths matching ``pattern``.

    Patterns are paths under ``/api/v1``: ``*`` matches one segment, a final ``**`` matches
    any number of segments (none included, so ``/complaints/**`` covers ``/complaints``).
    """

    methods: frozenset[str]
    pattern: str
    roles: frozenset[str]

    def matches(self, method: str, path: str) -> bool:
        return method in self.methods and _path_matches(self.pattern, path)


# Read top to bottom: the first rule matching the method and path decides.
ROLE_RULES: tuple[Rule, ...] = (
    # the tenant's own administration
    Rule(ANY, "/api-keys/**", ADMIN),
    Rule(ANY, "/audit-log/**", ADMIN),
    Rule(READ, "/settings", frozenset({"admin", "manager"})),
    Rule(ANY, "/settings", ADMIN),
    Rule(ANY, "/webhooks/**", frozenset({"admin", "manager"})),
    # supervision of visit records
    Rule(WRITE, "/visits/*/audit", SUPERVISORS),
    Rule(READ, "/visits/audit-sample", SUPERVISORS),
    # departments work on their own complaints and issues
    Rule(frozenset({"POST"}), "/issues/*/resolve", WRITERS | DEPARTMENT),
    Rule(frozenset({"POST"}), "/complaints/*/transitions", WRITERS | DEPARTMENT),
    Rule(READ, "/issues/**", READERS | DEPARTMENT),
    Rule(READ, "/complaints/**", READERS | DEPARTMENT),
    # everything else: everyone but departments reads, staff write
    Rule(READ, "/**", READERS),
    Rule(WRITE, "/**", WRITERS),
)


def allowed(role: str, method: str, path: str) -> bool:
    """May a key with ``role`` call ``method path``? ``path`` is relative to ``/api/v1``
    (``/customers/42``) or absolute (``/api/v1/customers/42``); unknown roles and methods
    are refused."""
    if role not in ROLES:
        return False
    method = method.upper()
    have = [s for s in _relative(path).split("/") if s]
    for rule in ROLE_RULES:
        if method in rule.methods and _segments_match(rule.pattern, have):
            return role in rule.roles
    return False


def _relative(path: str) -> str:
    if path == "/api/v1" or path.startswith("/api/v1/"):
        path = path[len("/api/v1") :]
    return "/" + path.strip("/")


def _path_matches(pattern: str, path: str) -> bool:
    return _segments_match(pattern, [s for s in path.split("/") if s])


@functools.cache
def _pattern(pattern: str) -> tuple[tuple[str, ...], bool]:
    """A pattern's segments, and whether it ends in ``**`` (which is left out)."""
    want = tuple(s for s in pattern.split("/") if s)
    if want and want[-1] == "**":
        return want[:-1], True
    return want, False


def _segments_match(pattern: str, have: list[str]) -> bool:
    want, open_ended = _pattern(pattern)
    if open_ended:
        if len(have) < len(want):
            return False
        have = have[: len(want)]
    if len(want) != len(have):
        return False
    return all(w == "*" or w == h for w, h in zip(want, have, strict=True))


# --------------------------------------------------------------------------- settings


class SettingsSection(Protocol):
    """A pure validator: ``from_dict`` raises ``ValueError`` on bad input."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any: ...

    def to_dict(self) -> dict[str, Any]: ...


# One line per policy section; its validator owns its keys and defaults.
SECTIONS: dict[str, type[SettingsSection]] = {
    "classification": ClassificationPolicy,
    "calendar": WorkCalendar,
    "visits": VisitPolicy,
    "complaints": ComplaintPolicy,
}

DEFAULT_TIMEZONE = "Asia/Shanghai"


class SettingsError(ValueError):
    """An invalid settings change; ``errors`` maps ``section`` or ``section.key`` to
    messages, ready for a 422 ``errors`` member."""

    def __init__(self, errors: Mapping[str, list[str]]):
        self.errors = {key: list(messages) for key, messages in errors.items()}
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items()))


def initial_overrides(timezone: str) -> dict[str, dict[str, Any]]:
    """A new tenant's overrides: its time zone is its working calendar's."""
    return {"calendar": {"timezone": timezone}}


def effective_settings(overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The whole document: every section with its defaults filled in."""
    return {
        name: section.from_dict(dict(overrides.get(name) or {})).to_dict()
        for name, section in SECTIONS.items()
    }


def settings_timezone(effective: Mapping[str, Any]) -> str:
    """The tenant's time zone, as its effective working calendar has it."""
    return str(effective.get("calendar", {}).get("timezone") or DEFAULT_TIMEZONE)


def apply_patch(overrides: Mapping[str, Any], patch: Any) -> dict[str, dict[str, Any]]:
    """Validate a partial change and return the new overrides.

    ``patch`` maps sections to partial objects: a key set to a value overrides it, a key set
    to ``null`` returns it to its default, a section set to ``null`` returns the whole
    section to its defaults. Sections not named keep their overrides. Every problem is
    collected (unknown sections, unknown keys, bad values) and raised together as one
    :class:`SettingsError`. Stored values are the validator's normalised form.
    """
    if not isinstance(patch, Mapping):
        raise SettingsError({"_schema": ["settings must be a JSON object"]})
    result = {name: dict(value) for name, value in overrides.items() if value}
    errors: dict[str, list[str]] = {}
    for name, changes in patch.items():
        section = SECTIONS.get(name)
        if section is None:
            errors[str(name)] = [f"unknown settings section; known: {', '.join(SECTIONS)}"]
            continue
        if changes is None:
            result.pop(name, None)
            continue
        if not isinstance(changes, Mapping):
            errors[name] = ["must be an object of settings"]
            continue
        base = dict(result.get(name) or {})
        merged = dict(base)
        for key, value in changes.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        try:
            normalised = section.from_dict(merged).to_dict()
        except ValueError as exc:
            errors.update(_section_errors(name, section, base, changes, exc))
            continue
        merged = {key: normalised.get(key, value) for key, value in merged.items()}
        if merged:
            result[name] = merged
        else:
            result.pop(name, None)
    if errors:
        raise SettingsError(errors)
    return result


def _section_errors(
    name: str,
    section: type[SettingsSection],
    base: Mapping[str, Any],
    changes: Mapping[str, Any],
    exc: ValueError,
) -> dict[str, list[str]]:
    """Errors of one section, per key as far as can be told.

    A validator may report per key itself (an ``errors`` mapping, ``_schema`` for the
    section); it may also stop at its first problem, so each changed key is also tried
    alone on the stored values. What no single key explains is reported on the section.
    """
    errors: dict[str, list[str]] = {}
    reported = getattr(exc, "errors", None)
    if isinstance(reported, Mapping):
        for key, messages in reported.items():
            errors[name if key == "_schema" else f"{name}.{key}"] = [str(m) for m in messages]
    for key, value in changes.items():
        if value is None or f"{name}.{key}" in errors:
            continue
        try:
            section.from_dict({**base, key: value})
        except ValueError as one:
            own = getattr(one, "errors", None)
            if not isinstance(own, Mapping):
                errors[f"{name}.{key}"] = [str(one)]
            elif key in own:
                errors[f"{name}.{key}"] = [str(m) for m in own[key]]
    return errors or {name: [str(exc)]}

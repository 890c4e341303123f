"""The gateway's rules: API keys and who may call what.

Plain functions and data, no Flask or SQL, so they are easy to read and to test:

* **API keys** are 256-bit random tokens shown once; only their SHA-256 is stored. A key is
  random and long, so a fast hash is enough (no password stretching needed), and a lookup by
  hash on every request keeps revocation instant.
* **The role table** (:data:`ROLE_RULES`) says which roles may call which method and path;
  :func:`allowed` reads it, first matching rule wins.

The tenant settings document is in ``settings_document.py``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from revisit_common.identity import ROLES

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
    Rule(READ, "/notifications/**", frozenset({"admin", "manager"})),
    # the tenant's people: admins and managers change them, everyone but departments reads;
    # a password is set by the admin or the person (the route checks which)
    Rule(frozenset({"POST"}), "/staff/*/password", READERS | DEPARTMENT),
    Rule(WRITE, "/staff/**", frozenset({"admin", "manager"})),
    # my agenda: anyone whose key acts as a person (a key of nobody gets 422)
    Rule(READ, "/me/**", READERS | DEPARTMENT),
    # supervision of visit records
    Rule(WRITE, "/visits/*/audit", SUPERVISORS),
    Rule(READ, "/visits/audit-sample", SUPERVISORS),
    # departments work on their own complaints and issues
    Rule(frozenset({"POST"}), "/issues/*/resolve", WRITERS | DEPARTMENT),
    Rule(frozenset({"POST"}), "/complaints/*/transitions", WRITERS | DEPARTMENT),
    Rule(frozenset({"POST"}), "/complaints/*/assign", WRITERS | DEPARTMENT),
    Rule(frozenset({"POST"}), "/issues/*/stages/*/complete", WRITERS | DEPARTMENT),
    # the supervision group watches major complaints
    Rule(READ, "/complaints/watch", frozenset({"admin", "manager"})),
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
    # only the rules that can match the first segment, in the table's order (_RULES_BY_FIRST)
    rules = _RULES_BY_FIRST.get(have[0], _WILD_RULES) if have else _EMPTY_RULES
    for methods, want, open_ended, roles in rules:
        if method in methods and _compiled_match(want, open_ended, have):
            return role in roles
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
    return _compiled_match(want, open_ended, have)


def _compiled_match(want: tuple[str, ...], open_ended: bool, have: list[str]) -> bool:
    if open_ended:
        if len(have) < len(want):
            return False
        have = have[: len(want)]
    if len(want) != len(have):
        return False
    return all(w == "*" or w == h for w, h in zip(want, have, strict=True))


_Compiled = tuple[frozenset[str], tuple[str, ...], bool, frozenset[str]]


def _compile(
    rules: tuple[Rule, ...],
) -> tuple[dict[str, tuple[_Compiled, ...]], tuple[_Compiled, ...], tuple[_Compiled, ...]]:
    """The role table indexed by a path's first segment: for each literal first segment of
    a pattern, the rules that can match a path starting with it (that segment, ``*`` or an
    open ``/**``), in the table's order; then those for any other first segment and for an
    empty path. Reading only these gives the same first match as reading the whole table."""
    compiled = [(rule.methods, *_pattern(rule.pattern), rule.roles) for rule in rules]

    def can_start(want: tuple[str, ...], open_ended: bool, first: str | None) -> bool:
        if not want:
            return open_ended or first is None
        return first is not None and want[0] in ("*", first)

    literals = {want[0] for _, want, _, _ in compiled if want and want[0] != "*"}
    by_first = {
        first: tuple(c for c in compiled if can_start(c[1], c[2], first)) for first in literals
    }
    wild = tuple(c for c in compiled if can_start(c[1], c[2], "\x00"))
    empty = tuple(c for c in compiled if can_start(c[1], c[2], None))
    return by_first, wild, empty


_RULES_BY_FIRST, _WILD_RULES, _EMPTY_RULES = _compile(ROLE_RULES)

"""The rules of ``Idempotency-Key`` (CONTRACT.md §4.1), without HTTP or SQL.

- A POST or PATCH may carry ``Idempotency-Key``: 1 to 255 visible ASCII characters (and
  spaces inside); anything else is a 400.
- Keys are per tenant. A request is identified by its fingerprint: the method, the path,
  the query string and the body (a JSON body in canonical form, so key order and spacing do
  not matter; a multipart form by its fields and files, not its boundary; any other body
  byte for byte), hashed with SHA-256.
- The first request whose response is a 2xx stores that response for 24 hours. Another
  request with the same key within them gets it again, status and body, with
  ``Idempotent-Replayed: true``, and changes nothing, if its fingerprint is the same (422
  otherwise). A response that is not a 2xx is not stored: the key stays free to retry.
- While the first request with a key is still running, another with the same key gets 409.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
METHODS = frozenset({"POST", "PATCH"})
TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# Response headers kept with a stored response and sent again with its replay.
KEPT_HEADERS = ("Content-Type", "Location", "ETag", "Last-Modified")

_VISIBLE_ASCII = re.compile(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")


class Verdict(enum.Enum):
    FRESH = "fresh"  # never seen (or expired): run the request
    REPLAY = "replay"  # seen with the same fingerprint: send the stored response
    MISMATCH = "mismatch"  # seen with another request: 422


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status: int
    body: bytes
    headers: dict[str, str]
    expires_at: datetime


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a usable idempotency key, or None when it is."""
    if len(key) > MAX_KEY_LENGTH:
        return f"{KEY_HEADER} is longer than {MAX_KEY_LENGTH} characters"
    if not _VISIBLE_ASCII.match(key):
        return f"{KEY_HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
    return None


def canonical_body(body: bytes) -> bytes:
    """A JSON body in canonical form (sorted keys, no spaces); any other body unchanged."""
    if not body:
        return b""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return body
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8", "surrogatepass")


def form_body(fields: list[tuple[str, str]], files: list[tuple[str, str, bytes]]) -> bytes:
    """A multipart form as the body to fingerprint: its fields and files (name, file name,
    content), not its bytes, whose boundary a client makes up anew for every send."""
    document = {
        "fields": sorted([name, value] for name, value in fields),
        "files": sorted(
            [name, filename, hashlib.sha256(content).hexdigest()]
            for name, filename, content in files
        ),
    }
    return json.dumps(document, sort_keys=True, ensure_ascii=False).encode("utf-8", "surrogatepass")


def fingerprint(method: str, path: str, query: bytes, body: bytes, caller: str = "") -> str:
    """SHA-256 of what makes two requests the same request: who sends it (role and actor:
    a replay never shows one caller's response to another), method, path, query, body."""
    digest = hashlib.sha256()
    parts = (caller.encode("utf-8", "surrogatepass"), method.upper().encode())
    for part in (*parts, path.encode("utf-8", "surrogatepass"), query):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    digest.update(canonical_body(body))
    return digest.hexdigest()


def judge(stored: StoredResponse | None, request_fingerprint: str, now: datetime) -> Verdict:
    """What to do with a request, given the response stored under its key (if any)."""
    if stored is None or stored.expires_at <= now:
        return Verdict.FRESH
    if stored.fingerprint != request_fingerprint:
        return Verdict.MISMATCH
    return Verdict.REPLAY


def recordable(status: int) -> bool:
    """Only successful responses are stored (a 4xx or 5xx leaves the key free)."""
    return 200 <= status < 300


def expiry(now: datetime) -> datetime:
    return now + TTL


def lock_id(scope: str, tenant_id: str, key: str) -> int:
    """A signed 64-bit number for (scope, tenant, key): the advisory lock PostgreSQL holds
    while the first request with the key runs."""
    digest = hashlib.sha256("\x00".join((scope, tenant_id, key)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)

"""The rules about the tenant's people (CONTRACT §4.3) and what "my agenda" holds. Plain
functions, no Flask or SQL.

* **A staff id** is 1..64 characters of lower-case letters, digits, ``.``, ``_`` and ``-``
  (``wang.fang``), unique in the tenant. ``me`` is no staff id: it means "the calling
  person" in lists (``assignee=me``).
* **Managers** form a tree: a person's manager must be a person of the tenant, and
  following managers upward never comes back to where it started (:func:`manager_cycle`).
* **A person's role** (``agent`` unless given) is what they may do in the console, as an API
  key's role is (the role table). Only an admin makes someone an admin or changes an admin's
  role (:func:`may_set_role`); a person with the ``department`` role needs a department.
* **A key that acts as a person** (``POST /api-keys {"staff"}``) makes every write name that
  person: the ledgers of the services and the gateway's audit log show the staff id, not the
  key's id. A person who left (``active`` false) can no longer be acted as: such keys get 401.
* **My agenda** (``GET /me/agenda``) of the calling person, on the tenant's today:
  ``visits_due_today`` (planned, due today, assigned to me), ``visits_overdue`` (planned and
  past due, assigned to me), ``complaints_due_soon`` (assigned to me, still running, with a
  time limit not yet met that falls due within :data:`DUE_SOON_HOURS` hours; those already
  past a limit are included, they need the person most) and ``issues_open`` (open issues
  whose assignee is me, or with a stage of mine not done yet). A part the caller's role
  may not read (the role table) is an empty list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

STAFF_ID_PATTERN = r"^[a-z0-9._-]{1,64}$"
LOCALES = ("zh-CN", "en")  # the console's languages
_STAFF_ID = re.compile(STAFF_ID_PATTERN)
ME = "me"  # "the calling person" in lists; never a staff id
DUE_SOON_HOURS = 24


def is_staff_id(value: Any) -> bool:
    """Whether ``value`` may name a person (:data:`STAFF_ID_PATTERN`, and not ``me``)."""
    return isinstance(value, str) and bool(_STAFF_ID.fullmatch(value)) and value != ME


def manager_cycle(person: str, manager: str | None, managers: Mapping[str, str | None]) -> bool:
    """Whether giving ``person`` the manager ``manager`` closes a loop: ``manager`` is the
    person, or ``person`` is found going up from ``manager`` through ``managers`` (staff id ->
    their manager, the tenant's current tree). A loop already in ``managers`` that does not
    pass through ``person`` is not this change's and ends the walk."""
    seen: set[str] = set()
    current = manager
    while current is not None and current not in seen:
        if current == person:
            return True
        seen.add(current)
        current = managers.get(current)
    return False


def may_set_role(caller_role: str, role: str, previous: str | None = None) -> bool:
    """Whether a caller with ``caller_role`` may give a person ``role`` (their role was
    ``previous``; None for a new person): only an admin grants or takes away ``admin``."""
    if caller_role == "admin":
        return True
    return role != "admin" and previous != "admin"


def open_issue_of(issue: Mapping[str, Any], person: str) -> bool:
    """Whether an open issue (as ``GET /issues`` lists it) is the person's: its assignee, or
    the owner of a stage not done yet."""
    if issue.get("assignee") == person:
        return True
    stages = issue.get("stages") or []
    return any(
        isinstance(stage, Mapping)
        and stage.get("owner") == person
        and stage.get("status") != "done"
        for stage in stages
    )


def by_deadline(complaints: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Complaints ordered by their next unmet deadline (an RFC 3339 time), earliest first;
    those without one last, each group in the order given."""

    def key(complaint: Mapping[str, Any]) -> tuple[int, datetime]:
        try:
            at = datetime.fromisoformat(str(complaint.get("next_deadline")))
        except ValueError:
            return 1, datetime.min.replace(tzinfo=UTC)
        return 0, at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    return sorted(complaints, key=key)

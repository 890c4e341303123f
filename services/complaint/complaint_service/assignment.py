"""Who handles a complaint (CONTRACT §4.3): its assignee, a person of the tenant.

* An assignee is a staff id: 1..64 lower-case letters, digits, ``.``, ``_`` or ``-``. The
  people are the gateway's (``/staff``); this service keeps no copy of them and takes any
  well-formed staff id, as a visit's assignee is taken (a person added later, or one who
  left, is still a name in the ledger). ``me`` in a list filter is the calling person.
* A complaint is given to a person at intake (``assignee``) or later
  (``POST /complaints/{id}/assign``, null to take it back); each change is a ledger step
  ``assign`` and a ComplaintAssigned event (the staff ranking counts the person's complaint
  work from it). Giving it to whom it is given already changes nothing. A closed complaint
  is no one's work any more: assigning it is a conflict (409).
* "Due soon" (``?due_within_hours=N``): still running, with a limit not yet met that falls
  due within N hours; a limit already missed counts too.
"""

from __future__ import annotations

STAFF_ID_PATTERN = r"^[a-z0-9._-]{1,64}$"
ME = "me"
CLOSED = "closed"
MAX_DUE_WITHIN_HOURS = 24 * 31


class NotAssignable(ValueError):
    """The complaint cannot be given to anyone in its status."""


def check_assignable(status: str) -> None:
    if status == CLOSED:
        raise NotAssignable("a closed complaint cannot be assigned; reopen it first")


def assignment_note(assignee: str | None, previous: str | None) -> str:
    """The ledger note of an assignment."""
    if assignee is None:
        return f"unassigned (was {previous})"
    if previous is None:
        return f"assigned to {assignee}"
    return f"assigned to {assignee} (was {previous})"

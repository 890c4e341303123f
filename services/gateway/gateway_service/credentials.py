"""Setting a person's console password and checking it at sign-in (the rules: passwords.py).

``POST /staff/{id}/password`` may be called by the tenant's admin, or by the person
themselves (a key or a console session acting as them), who then also gives their current
password when they have one. Setting a password ends every console session of the person.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from revisit_common.errors import Forbidden, Invalid
from revisit_common.identity import Identity

from . import passwords, people
from .models import ConsoleSession, Staff, StaffCredential
from .service import get_staff


def set_password(
    session: Session,
    caller: Identity,
    staff_id: str,
    password: str,
    current_password: str | None,
    *,
    at: datetime,
    cost: int = passwords.LOG2_N,
) -> None:
    """Give ``staff_id`` the password ``password`` (rules: passwords.weakness); the caller is
    the tenant's admin, or the person (Forbidden otherwise) with their current password when
    they have one (Invalid when it does not match)."""
    person = get_staff(session, caller.tenant_id, staff_id, for_update=True)
    if caller.role != "admin" and caller.staff != person.id:
        raise Forbidden("only the tenant's admin or the person may set a person's password")
    credential = session.get(StaffCredential, (caller.tenant_id, person.id))
    stored = credential.password_hash if credential is not None else None
    own_checked = caller.role == "admin" or not stored
    if not own_checked and not passwords.verify_password(current_password or "", stored):
        raise Invalid({"current_password": ["does not match the person's password"]})
    problem = passwords.weakness(password, person.id)
    if problem is not None:
        raise Invalid({"password": [problem]})
    if credential is None:
        credential = StaffCredential(tenant_id=caller.tenant_id, staff_id=person.id)
        session.add(credential)
    credential.password_hash = passwords.hash_password(password, cost=cost)
    credential.failed_sign_ins, credential.locked_until = passwords.after_success()
    credential.changed_at = at
    session.execute(
        sa.delete(ConsoleSession).where(
            ConsoleSession.tenant_id == caller.tenant_id, ConsoleSession.staff_id == person.id
        )
    )


class SignIn(NamedTuple):
    person: Staff | None  # None: refused
    locked: bool = False  # refused because of too many failures


def check_sign_in(
    session: Session,
    tenant_id: str,
    staff_id: str,
    password: str,
    *,
    at: datetime,
    cost: int = passwords.LOG2_N,
) -> SignIn:
    """Whether ``password`` signs ``staff_id`` of ``tenant_id`` in at ``at``: an active person
    with that password, not locked out. A failure is counted (the caller commits it, refused
    or not); unknown people take as long as known ones."""
    person = (
        session.get(Staff, (tenant_id, staff_id))
        if people.is_staff_id(staff_id) and len(tenant_id) <= 36
        else None
    )
    credential = (
        session.get(StaffCredential, (tenant_id, staff_id), with_for_update=True)
        if person is not None and person.active
        else None
    )
    if credential is None or not credential.password_hash:
        passwords.burn_time(password, cost)
        return SignIn(None)
    state = passwords.Lock(credential.failed_sign_ins, credential.locked_until)
    if passwords.locked(state, at):
        return SignIn(None, locked=True)
    if not passwords.verify_password(password, credential.password_hash):
        state = passwords.after_failure(state, at)
        credential.failed_sign_ins, credential.locked_until = state
        return SignIn(None, locked=passwords.locked(state, at))
    credential.failed_sign_ins, credential.locked_until = passwords.after_success()
    return SignIn(person)

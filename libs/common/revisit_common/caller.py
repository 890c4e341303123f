"""Who causes a change: the :class:`Caller` every use case takes. Standard library only.

A route builds it from the identity the gateway vouches for (:func:`.use_case.caller`); an
event handler from the event (:meth:`Caller.of_event`), as the ``system`` role: a consumed
event acts for nobody in particular and is allowed nothing a role check would refuse. It
carries the clock a use case reads the current instant from (:meth:`Caller.now`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from .clock import Clock, now
from .errors import Invalid

if TYPE_CHECKING:
    from .messaging.envelope import Envelope

SYSTEM = "system"


@dataclass(frozen=True, kw_only=True)
class Caller:
    """The tenant, the request id carried into events, the actor (API key id or
    ``system``), its role, and the department of a department key."""

    tenant_id: str
    correlation_id: str | None = None
    actor: str = SYSTEM
    role: str = SYSTEM
    department: str | None = None
    staff: str | None = None  # the person the API key acts as (None: a key of nobody)
    # Where the use case reads the current instant: the runtime's clock (a fake in tests).
    clock: Clock = field(default=now, compare=False, repr=False)

    def person(self) -> str:
        """The staff id of the calling person, for ``assignee=me`` and ``/me``: 422 for a
        key that acts as nobody."""
        if not self.staff:
            raise Invalid(
                {"assignee": ['this API key acts as no person: create it with "staff"']},
                "this API key acts as no person",
            )
        return self.staff

    def now(self) -> datetime:
        """The current instant by the caller's clock (aware, UTC)."""
        return self.clock()

    @classmethod
    def of_event(cls, envelope: Envelope) -> Caller:
        """The caller of an event handler: the event's tenant and correlation id."""
        return cls(tenant_id=envelope.tenantid, correlation_id=envelope.correlationid)

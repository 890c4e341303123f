"""A service's event → handler registry, and what is derived from it.

A service declares one mapping, event type name → handler, read top to bottom in its
``handlers.py``; the routing keys its queue binds come from the same mapping (each event's
``routing`` in the catalogue, with ``.*`` for events routed by department), so nothing is
kept in step by hand. A handler takes ``(session, envelope, context)`` and runs inside the
consumer's transaction; :class:`BatchHandler` also applies a run of events at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..events import CATALOGUE, Event
from .envelope import Envelope
from .outbox import Outbox


@dataclass(frozen=True)
class HandlerContext:
    """What a handler may use besides its session: the outbox, to publish follow-up events."""

    service: str
    outbox: Outbox

    def publish(self, session: Session, event: Event, envelope: Envelope) -> None:
        """Add a follow-up event for the same tenant, keeping the correlation id."""
        self.outbox.add(
            session, event, tenant_id=envelope.tenantid, correlation_id=envelope.correlationid
        )


Handler = Callable[[Session, Envelope, HandlerContext], None]


class BatchHandler:
    """A handler that can also apply a run of events in one call.

    ``one(session, envelope, ctx)`` is what a plain handler does; ``many(session, envelopes,
    ctx)`` must have the same effect as calling ``one`` for each envelope in order, in the
    same transaction. The consumer calls ``many`` for consecutive events of one batch that
    share this handler."""

    def __init__(
        self,
        one: Handler,
        many: Callable[[Session, list[Envelope], HandlerContext], None],
    ):
        self.one = one
        self.many = many

    def __call__(self, session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
        self.one(session, envelope, ctx)


def routing_key_of(event_cls: type[Event]) -> str:
    """The binding that receives every event of ``event_cls``."""
    return event_cls.routing + (".*" if event_cls.by_department else "")


def routing_keys(
    handlers: Mapping[str, Handler], catalogue: Mapping[str, type[Event]] = CATALOGUE
) -> tuple[str, ...]:
    """The bindings a queue needs to receive every event ``handlers`` handle, sorted."""
    unknown = sorted(set(handlers) - set(catalogue))
    if unknown:
        raise ValueError(f"events not in the catalogue (give their routing keys): {unknown}")
    return tuple(sorted({routing_key_of(catalogue[name]) for name in handlers}))

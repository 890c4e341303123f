"""A service's event → handler registry, and what is derived from it.

A service declares one mapping, event type name → handler, read top to bottom in its
``handlers.py``; the routing keys its queue binds come from the same mapping (each event's
``routing`` in the catalogue, with ``.*`` for events routed by department), so nothing is
kept in step by hand. A handler takes ``(session, envelope, context)`` and runs inside the
consumer's transaction; :class:`BatchHandler` also applies a run of events at once.

A handler may instead take the event decoded (:func:`reads`): it declares the catalogue
events it handles and the fields it reads, and is called with ``(session, event, context)``
where ``event`` holds those fields as attributes (``event.customer_id``) and the envelope
(``event.envelope``: id, tenant, correlation id, time). Other fields of the data are
ignored; a declared field the data lacks raises :class:`MissingField`, which the consumer
treats as any handler error (retried, then dead-lettered with the reason). Both kinds of
handler can sit in one registry, so services convert one at a time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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


class MissingField(ValueError):
    """An event lacks a field its handler requires (or is not of a type it handles)."""


class EventView:
    """Decodes envelopes of ``events`` into their declared fields.

    ``fields`` must be present in the data; ``optional`` may be missing (then the
    catalogue's default, else None). Every name must be a field of every one of ``events``
    (checked here, at import). The decoded value is a frozen dataclass named after the
    event, with the declared fields and ``envelope``; undeclared fields are not on it.
    :func:`reads` makes one per handler; a :class:`BatchHandler` may use one directly."""

    def __init__(
        self, *events: type[Event], fields: Sequence[str] = (), optional: Sequence[str] = ()
    ):
        if not events:
            raise ValueError("an event view needs at least one event type")
        self.fields = tuple(fields)
        self.optional = tuple(optional)
        self.types = {
            cls.type_name(): _view_class(cls, self.fields, self.optional) for cls in events
        }

    def decode(self, envelope: Envelope) -> Any:
        view = self.types.get(envelope.type)
        if view is None:
            raise MissingField(
                f"{envelope.type} event {envelope.id}: handler reads only {sorted(self.types)}"
            )
        data = envelope.data
        missing = [name for name in self.fields if name not in data]
        if missing:
            raise MissingField(
                f"{envelope.type} event {envelope.id} lacks required field(s): "
                + ", ".join(missing)
            )
        values = {name: data[name] for name in self.fields}
        values.update((name, data[name]) for name in self.optional if name in data)
        return view(envelope=envelope, **values)


def _view_class(cls: type[Event], fields: tuple[str, ...], optional: tuple[str, ...]) -> type:
    declared = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [name for name in (*fields, *optional) if name not in declared]
    if unknown:
        raise ValueError(f"{cls.type_name()} has no field(s) {unknown}")
    spec: list[Any] = [("envelope", Envelope)]
    spec += [(name, declared[name].type) for name in fields]
    for name in optional:
        source = declared[name]
        if source.default_factory is not dataclasses.MISSING:
            default = dataclasses.field(default_factory=source.default_factory)
        else:
            missing = source.default is dataclasses.MISSING
            default = dataclasses.field(default=None if missing else source.default)
        spec.append((name, source.type, default))
    view = dataclasses.make_dataclass(cls.type_name(), spec, frozen=True, kw_only=True)
    view.__module__ = cls.__module__
    names = ", ".join(name for name, *_ in spec)
    view.__doc__ = f"What a handler reads of {cls.type_name()}: {names}."
    return view


class TypedHandler:
    """A handler that takes the event decoded by ``view``; callable as a plain
    :data:`Handler` (so the consumer needs no other path)."""

    def __init__(self, view: EventView, handle: Callable[[Session, Any, HandlerContext], None]):
        self.view = view
        self.handle = handle
        self.__name__ = getattr(handle, "__name__", type(self).__name__)
        self.__doc__ = handle.__doc__

    @property
    def type_names(self) -> frozenset[str]:
        return frozenset(self.view.types)

    def __call__(self, session: Session, envelope: Envelope, ctx: HandlerContext) -> None:
        self.handle(session, self.view.decode(envelope), ctx)


def reads(
    *events: type[Event], fields: Sequence[str] = (), optional: Sequence[str] = ()
) -> Callable[[Callable[[Session, Any, HandlerContext], None]], TypedHandler]:
    """Decorate a handler of ``(session, event, context)``: it handles ``events`` and reads
    ``fields`` (required) and ``optional`` of their data (see :class:`EventView`)."""
    view = EventView(*events, fields=fields, optional=optional)

    def decorate(handle: Callable[[Session, Any, HandlerContext], None]) -> TypedHandler:
        return TypedHandler(view, handle)

    return decorate


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
    misfiled = sorted(
        name
        for name, handler in handlers.items()
        if isinstance(handler, TypedHandler) and name not in handler.type_names
    )
    if misfiled:
        raise ValueError(f"handlers registered for events they do not read: {misfiled}")
    return tuple(sorted({routing_key_of(catalogue[name]) for name in handlers}))

"""The :class:`~.runtime.ServiceSpec` of a backend service, from its package.

Every backend service is named after its package (``visit`` for ``visit_service``), titled
"revisit <name> service", keeps its migrations in the package's ``migrations`` folder and
consumes the events of its handler registry; its ``bootstrap.py`` passes ``__package__``,
its blueprints and its handlers, and only what is its own besides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import import_module
from pathlib import Path

from .messaging.registry import Handler
from .runtime import ServiceSpec


def service_spec(
    package: str, blueprints: Sequence, handlers: Mapping[str, Handler], **more
) -> ServiceSpec:
    """The spec of the service in ``package`` (e.g. ``"visit_service"``); ``more`` are the
    other fields of :class:`~.runtime.ServiceSpec` (periodic jobs, options, ...)."""
    name = package.removesuffix("_service")
    return ServiceSpec(
        name=name,
        title=f"revisit {name} service",
        migrations=Path(import_module(package).__file__).parent / "migrations",
        blueprints=blueprints,
        handlers=handlers,
        **more,
    )

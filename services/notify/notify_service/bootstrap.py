"""The notify service, declared: its routes, migrations, the events it delivers (all of
them) and the delivery job of its worker."""

from __future__ import annotations

from pathlib import Path

from revisit_common.runtime import ServiceSpec

from . import api, handlers, jobs
from .options import NotifyOptions

SPEC = ServiceSpec(
    name="notify",
    title="revisit notify service",
    migrations=Path(__file__).parent / "migrations",
    blueprints=(api.blp,),
    handlers=handlers.HANDLERS,
    periodic=((jobs.DELIVERY_INTERVAL, jobs.webhook_delivery),),
    options=NotifyOptions,
)

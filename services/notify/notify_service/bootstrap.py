"""The notify service, declared: its routes, migrations, the events it delivers (all of
them) and the delivery job of its worker."""

from __future__ import annotations

from revisit_common.service_spec import service_spec

from . import api, handlers, jobs
from .options import NotifyOptions

SPEC = service_spec(
    __package__,
    (api.blp,),
    handlers.HANDLERS,
    periodic=((jobs.DELIVERY_INTERVAL, jobs.webhook_delivery),),
    options=NotifyOptions,
)

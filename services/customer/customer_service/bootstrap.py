"""The customer service, declared: its routes, migrations, events consumed, periodic jobs."""

from __future__ import annotations

from revisit_common.service_spec import service_spec

from . import api, files_api, handlers, marketing_api, regrading, settings_api

SPEC = service_spec(
    __package__,
    (api.blp, files_api.blp, marketing_api.blp, settings_api.blp),
    handlers.HANDLERS,
    periodic=((regrading.REGRADE_INTERVAL, regrading.regrade_sweep),),
)

"""The customer service, declared: its routes, migrations, and the events it consumes."""

from __future__ import annotations

from revisit_common.service_spec import service_spec

from . import api, handlers, settings_api

SPEC = service_spec(__package__, (api.blp, settings_api.blp), handlers.HANDLERS)

"""The survey service, declared: its routes, migrations, and the events it consumes."""

from __future__ import annotations

from revisit_common.service_spec import service_spec

from . import api, handlers

SPEC = service_spec(
    __package__,
    (api.blp, api.responses_blp),
    handlers.HANDLERS,
    settings_catch_up=True,  # its settings handler only keeps the copy
    token_only_prefixes=("/api/v1/survey-responses/",),
)

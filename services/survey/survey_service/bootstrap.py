"""The survey service, declared: its routes, migrations, and the events it consumes."""

from __future__ import annotations

from pathlib import Path

from revisit_common.runtime import ServiceSpec

from . import api, handlers

SPEC = ServiceSpec(
    name="survey",
    title="revisit survey service",
    migrations=Path(__file__).parent / "migrations",
    blueprints=(api.blp, api.responses_blp),
    handlers=handlers.HANDLERS,
    settings_catch_up=True,  # its settings handler only keeps the copy
    token_only_prefixes=("/api/v1/survey-responses/",),
)

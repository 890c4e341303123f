"""The customer service, declared: its routes, migrations, and the events it consumes."""

from __future__ import annotations

from pathlib import Path

from revisit_common.runtime import ServiceSpec

from . import api, handlers, settings_api

SPEC = ServiceSpec(
    name="customer",
    title="revisit customer service",
    migrations=Path(__file__).parent / "migrations",
    blueprints=(api.blp, settings_api.blp),
    handlers=handlers.HANDLERS,
)

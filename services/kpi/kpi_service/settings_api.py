"""The internal endpoint where the gateway checks changes to the ``kpis`` settings section,
which this service owns: checked with its own :class:`~.domain.KpiPolicy`."""

from __future__ import annotations

from revisit_common import settings_section_api

from .domain import KpiPolicy

SECTION = "kpis"

blp = settings_section_api.blueprint(SECTION, KpiPolicy)

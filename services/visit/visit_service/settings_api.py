"""The internal endpoint where the gateway checks changes to the ``visits`` settings section,
which this service owns: checked with its own :class:`~.domain.VisitPolicy`."""

from __future__ import annotations

from revisit_common import settings_section_api

from .domain import VisitPolicy

SECTION = "visits"

blp = settings_section_api.blueprint(SECTION, VisitPolicy)

"""The internal endpoint where the gateway checks changes to the ``complaints`` settings section,
which this service owns: checked with its own :class:`~.domain.ComplaintPolicy`."""

from __future__ import annotations

from revisit_common import settings_section_api

from .domain import ComplaintPolicy

SECTION = "complaints"

blp = settings_section_api.blueprint(SECTION, ComplaintPolicy)

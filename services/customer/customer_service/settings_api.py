"""The internal endpoint where the gateway checks changes to the ``classification`` settings
section, which this service owns: checked with its own :class:`~.domain.ClassificationPolicy`."""

from __future__ import annotations

from revisit_common import settings_section_api

from .domain import ClassificationPolicy

SECTION = "classification"

blp = settings_section_api.blueprint(SECTION, ClassificationPolicy)

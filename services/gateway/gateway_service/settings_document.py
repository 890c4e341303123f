"""The tenant settings document: one section per owning service, routed and composed here.

Plain functions, no Flask or SQL. Each section belongs to a service (:data:`SECTION_OWNERS`)
that checks changes to it with its own policy class; the working calendar (of
``revisit_common``) is checked by the gateway itself. The gateway does not know any
section's keys or defaults: it asks through a :class:`SectionCheck` (``settings_owners.py``
over HTTP or in process) and stores what the owners answer: a tenant's overrides, and the
effective document (defaults filled in) that clients read and events carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from revisit_common.calendar import DEFAULT_TIMEZONE
from revisit_common.errors import Invalid
from revisit_common.settings_section import SECTION_LEVEL, SectionError, SectionResult

# Which service owns each section (None: the gateway, for the working calendar), in the
# order of the document.
SECTION_OWNERS: dict[str, str | None] = {
    "classification": "customer",
    "calendar": None,
    "visits": "visit",
    "complaints": "complaint",
    "kpis": "kpi",
    "notifications": "notify",
}
SECTIONS = tuple(SECTION_OWNERS)


class SectionCheck(Protocol):
    """Asks the owner of ``section`` to apply ``changes`` to the stored overrides ``base``:
    raises ``SectionError`` (invalid) or ``revisit_common.directory.Unavailable``."""

    def __call__(
        self, section: str, base: Mapping[str, Any], changes: Mapping[str, Any]
    ) -> SectionResult: ...


class SettingsError(Invalid):
    """An invalid settings change; ``errors`` maps ``section`` or ``section.key`` to
    messages, ready for a 422 ``errors`` member."""

    detail = "invalid settings"


@dataclass(frozen=True)
class Patched:
    overrides: dict[str, dict[str, Any]]  # the tenant's new overrides, every section
    effective: dict[str, dict[str, Any]]  # the effective sections the patch named


def initial_overrides(timezone: str) -> dict[str, dict[str, Any]]:
    """A new tenant's overrides: its time zone is its working calendar's."""
    return {"calendar": {"timezone": timezone}}


def effective_settings(
    overrides: Mapping[str, Any],
    check: SectionCheck,
    known: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """The whole document: every section with its defaults filled in. Sections in ``known``
    (already effective) are taken as they are; the owners are asked for the others."""
    known = known or {}
    return {
        name: dict(known[name])
        if isinstance(known.get(name), Mapping)
        else check(name, dict(overrides.get(name) or {}), {}).effective
        for name in SECTIONS
    }


def settings_timezone(effective: Mapping[str, Any]) -> str:
    """The tenant's time zone, as its effective working calendar has it."""
    return str(effective.get("calendar", {}).get("timezone") or DEFAULT_TIMEZONE)


def apply_patch(overrides: Mapping[str, Any], patch: Any, check: SectionCheck) -> Patched:
    """Validate a partial change; the new overrides and the effective sections it names.

    ``patch`` maps sections to partial objects: a key set to a value overrides it, a key set
    to ``null`` returns it to its default, a section set to ``null`` returns the whole
    section to its defaults. Sections not named keep their overrides. Every problem is
    collected (unknown sections, unknown keys, bad values) and raised together as one
    :class:`SettingsError`; an owner that cannot be asked raises ``Unavailable``. Stored
    values are the owner's normalised form.
    """
    if not isinstance(patch, Mapping):
        raise SettingsError({"_schema": ["settings must be a JSON object"]})
    result = {name: dict(value) for name, value in overrides.items() if value}
    effective: dict[str, dict[str, Any]] = {}
    errors: dict[str, list[str]] = {}
    for name, changes in patch.items():
        if name not in SECTION_OWNERS:
            errors[str(name)] = [f"unknown settings section; known: {', '.join(SECTIONS)}"]
            continue
        if changes is not None and not isinstance(changes, Mapping):
            errors[name] = ["must be an object of settings"]
            continue
        base = {} if changes is None else dict(result.get(name) or {})
        try:
            checked = check(name, base, changes or {})
        except SectionError as exc:
            for key, messages in exc.errors.items():
                errors[name if key == SECTION_LEVEL else f"{name}.{key}"] = messages
            continue
        effective[name] = checked.effective
        if checked.overrides:
            result[name] = checked.overrides
        else:
            result.pop(name, None)
    if errors:
        raise SettingsError(errors)
    return Patched(result, effective)

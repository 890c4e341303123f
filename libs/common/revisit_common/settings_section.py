"""One section of the tenant settings document: a change merged, checked and normalised.

The gateway stores a tenant's overrides per section; the service owning a section checks a
change to it with its own policy class (``from_dict`` raises ``ValueError``, ``to_dict``
gives JSON values). :func:`check_section` is that check, the same wherever it runs: a key
set to a value overrides it, a key set to ``None`` returns it to its default; the result is
the new overrides (each in the policy's normalised form) and the effective section
(defaults filled in). Problems are reported per key where they can be told apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

SECTION_LEVEL = "_schema"  # the key of problems of the whole section


class SectionValidator(Protocol):
    """A pure validator: ``from_dict`` raises ``ValueError`` on bad input."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any: ...

    def to_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class SectionResult:
    overrides: dict[str, Any]  # what the tenant set, normalised
    effective: dict[str, Any]  # every setting of the section, defaults filled in


class SectionError(ValueError):
    """An invalid section change; ``errors`` maps setting names (``_schema`` for the whole
    section) to messages."""

    def __init__(self, errors: Mapping[str, list[str]]):
        self.errors = {str(key): [str(m) for m in messages] for key, messages in errors.items()}
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items()))


def check_section(
    validator: type[SectionValidator], base: Mapping[str, Any], changes: Mapping[str, Any]
) -> SectionResult:
    """Apply ``changes`` to the stored overrides ``base``; raise :class:`SectionError` with
    every problem found. ``check_section(v, base, {})`` is the effective section of ``base``."""
    merged = dict(base)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    try:
        normalised = validator.from_dict(merged).to_dict()
    except ValueError as exc:
        raise SectionError(_errors(validator, base, changes, exc)) from None
    overrides = {key: normalised.get(key, value) for key, value in merged.items()}
    return SectionResult(overrides, normalised)


def _errors(
    validator: type[SectionValidator],
    base: Mapping[str, Any],
    changes: Mapping[str, Any],
    exc: ValueError,
) -> dict[str, list[str]]:
    """Errors of one section, per key as far as can be told.

    A validator may report per key itself (an ``errors`` mapping, ``_schema`` for the
    section); it may also stop at its first problem, so each changed key is also tried
    alone on the stored values. What no single key explains is reported on the section.
    """
    errors: dict[str, list[str]] = {}
    reported = getattr(exc, "errors", None)
    if isinstance(reported, Mapping):
        for key, messages in reported.items():
            errors[str(key)] = [str(m) for m in messages]
    for key, value in changes.items():
        if value is None or key in errors:
            continue
        try:
            validator.from_dict({**base, key: value})
        except ValueError as one:
            own = getattr(one, "errors", None)
            if not isinstance(own, Mapping):
                errors[key] = [str(one)]
            elif key in own:
                errors[key] = [str(m) for m in own[key]]
    return errors or {SECTION_LEVEL: [str(exc)]}

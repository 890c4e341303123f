"""The machinery every per-tenant policy shares: fields with bounds, checks, JSON in and out.

A service's policy (customer's ClassificationPolicy, visit's VisitPolicy, complaint's
ComplaintPolicy) is a frozen dataclass that derives from :class:`Policy` and declares its
settings with :func:`setting`. The policy says how one value of each kind is checked and
converted (:meth:`Policy.coerce`) and how it is written as JSON (:meth:`Policy.json_value`);
what it has in common is here:

* every value is checked on construction (so also by :func:`dataclasses.replace`), all
  problems are collected and raised together as one :class:`PolicyError`;
* :meth:`Policy.from_dict` reads a partial JSON object of overrides, refusing unknown keys;
* :meth:`Policy.to_dict` writes every setting as JSON-ready values.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import field, fields, replace
from typing import Any, Self


class PolicyError(ValueError):
    """An invalid policy. ``errors`` maps each setting to its messages (``_schema`` for
    problems of the whole section), ready for a 422 ``errors`` member."""

    def __init__(self, errors: Mapping[str, list[str]], policy: str = "") -> None:
        self.errors = {key: list(messages) for key, messages in errors.items()}
        detail = "; ".join(f"{key}: {', '.join(msgs)}" for key, msgs in self.errors.items())
        what = f"{policy} policy" if policy else "policy"
        super().__init__(f"invalid {what}: {detail}")


def setting(default: Any, kind: str, **bounds: Any) -> Any:
    """A policy field of ``kind`` (the policy's :meth:`Policy.coerce` knows its kinds);
    ``minimum``/``maximum`` are inclusive bounds, ``above`` an exclusive lower bound."""
    meta = {"kind": kind, "minimum": None, "above": None, "maximum": None, **bounds}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


def check_bounds(
    number: Any, meta: Mapping[str, Any], shown: Any, *, zero_minimum_as_negative: bool = False
) -> None:
    """``ValueError`` when ``number`` is out of the field's bounds; messages show ``shown``.
    With ``zero_minimum_as_negative``, a minimum of 0 reads "must not be negative"."""
    if meta["above"] is not None and not number > meta["above"]:
        raise ValueError(f"must be greater than {meta['above']}, got {shown}")
    if meta["minimum"] is not None and number < meta["minimum"]:
        if zero_minimum_as_negative and meta["minimum"] == 0:
            raise ValueError(f"must not be negative, got {shown}")
        raise ValueError(f"must be at least {meta['minimum']}, got {shown}")
    if meta["maximum"] is not None and number > meta["maximum"]:
        raise ValueError(f"must be at most {meta['maximum']}, got {shown}")


class Policy(ABC):
    """Base of the per-tenant policies (frozen dataclasses of :func:`setting` fields); a
    policy says how its settings are checked (:meth:`coerce`) and written (:meth:`json_value`)."""

    # What the policy is called in error messages ("invalid visit policy: ...").
    policy_name = ""
    # Whether from_dict(None) reads as no overrides (else None is "not a JSON object").
    none_is_empty = False

    def __post_init__(self) -> None:
        errors: dict[str, list[str]] = {}
        for f in fields(self):  # type: ignore[arg-type]
            try:
                value = self.coerce(getattr(self, f.name), f.metadata)
            except ValueError as exc:
                errors.setdefault(f.name, []).append(str(exc))
                continue
            object.__setattr__(self, f.name, value)
        if not errors:
            self.check_relations(errors)
        if errors:
            raise PolicyError(errors, self.policy_name)

    @staticmethod
    @abstractmethod
    def coerce(value: Any, meta: Mapping[str, Any]) -> Any:
        """One setting's value, checked and converted; ``ValueError`` when it is bad."""

    @staticmethod
    def json_value(value: Any, meta: Mapping[str, Any]) -> Any:
        """One setting's value as JSON (the value itself unless the policy says otherwise)."""
        return value

    def check_relations(self, errors: dict[str, list[str]]) -> None:  # noqa: B027 - a hook: none by default
        """Add the problems between settings to ``errors`` (each value is valid alone)."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, base: Self | None = None) -> Self:
        """A policy from a (partial) JSON object of overrides on ``base`` (the defaults when
        ``None``). Unknown keys and invalid values raise :class:`PolicyError`."""
        if data is None and cls.none_is_empty:
            data = {}
        if not isinstance(data, Mapping):
            raise PolicyError(
                {"_schema": [f"must be a JSON object, got {type(data).__name__}"]},
                cls.policy_name,
            )
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = [str(key) for key in data if key not in known]
        if unknown:
            raise PolicyError({key: ["unknown setting"] for key in unknown}, cls.policy_name)
        return replace(base if base is not None else cls(), **data)  # type: ignore[type-var]

    def to_dict(self) -> dict[str, Any]:
        """Every setting as JSON-ready values; ``from_dict(to_dict())`` is an equal policy."""
        return {
            f.name: self.json_value(getattr(self, f.name), f.metadata)
            for f in fields(self)  # type: ignore[arg-type]
        }

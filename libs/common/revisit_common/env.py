"""Typed reads of one environment variable each, with its default and a clear error.

Shared by :class:`~revisit_common.config.Settings` and the services' own options (each
service's ``options.py``): a bad value raises ``ValueError`` naming the variable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

TRUE = frozenset({"1", "true", "yes", "on"})


def text(env: Mapping[str, str], name: str, default: str) -> str:
    """The variable's value; ``default`` when it is unset or empty."""
    return env.get(name) or default


def integer(env: Mapping[str, str], name: str, default: int) -> int:
    return _parsed(env, name, default, int, "an integer")


def number(env: Mapping[str, str], name: str, default: float) -> float:
    return _parsed(env, name, default, float, "a number")


def _parsed(env: Mapping[str, str], name: str, default, parse: Callable, what: str):
    """``parse`` of the variable's value; ``default`` when it is unset or empty."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be {what}, got {raw!r}") from exc


def positive(env: Mapping[str, str], name: str, default: float) -> float:
    """A number above 0 (an interval, a window)."""
    value = number(env, name, default)
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {env.get(name)!r}")
    return value


def flag(env: Mapping[str, str], name: str) -> bool:
    """True for 1/true/yes/on (any case); false when unset or anything else."""
    return (env.get(name) or "").lower() in TRUE

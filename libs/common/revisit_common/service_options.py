"""A service's own settings (its ``options.py``): a frozen dataclass whose fields say where
they are read.

Read once, when its runtime is built, from the ``REVISIT_*`` environment ``Settings`` took
(``runtime.options``); a bad value stops the start with a ValueError naming the variable.
A field is ``setting(variable, read, default)``, ``read`` one of :mod:`.env`'s typed reads;
:func:`service_options` makes the class frozen and gives it ``from_env``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

C = TypeVar("C", bound=type)

Read = Callable[[Mapping[str, str], str, Any], Any]


def setting(variable: str, read: Read, default: Any) -> Any:
    """A field read by ``read(env, variable, default)``; ``default`` when built by hand."""
    return field(default=default, metadata={"variable": variable, "read": read})


def service_options(cls: C) -> C:
    """``cls`` as a frozen dataclass with ``from_env(env)``, which reads every field."""
    cls = dataclass(frozen=True)(cls)

    def from_env(klass, env: Mapping[str, str]):
        return klass(
            **{
                f.name: f.metadata["read"](env, f.metadata["variable"], f.default)
                for f in fields(klass)
            }
        )

    cls.from_env = classmethod(from_env)
    return cls

"""Every service revisit has, by name. Adding a service is one line here.

A process imports only the packages of the services it runs (:func:`spec`): a native role
runs one, and importing all seven cost it ~0.75 s more CPU at start than its own (a native
stack starts fourteen roles). ``ALL`` and ``BACKENDS`` (name -> spec) import every service
when first read.
"""

from __future__ import annotations

import importlib

from revisit_common.runtime import ServiceSpec

BACKEND_NAMES: tuple[str, ...] = ("customer", "visit", "complaint", "survey", "kpi", "notify")
NAMES: tuple[str, ...] = ("gateway", *BACKEND_NAMES)


def spec(name: str) -> ServiceSpec:
    """The spec of the service ``name`` (its package imported now); KeyError for no such."""
    if name not in NAMES:
        raise KeyError(name)
    return importlib.import_module(f"{name}_service.bootstrap").SPEC


def __getattr__(name: str):
    if name == "ALL":
        return {service: spec(service) for service in NAMES}
    if name == "BACKENDS":
        return {service: spec(service) for service in BACKEND_NAMES}
    if name == "GATEWAY":
        return spec("gateway")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

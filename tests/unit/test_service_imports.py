"""A native role imports only its own service's package: the runner's modules import none,
and a service's spec imports that service alone (issue #15: all seven cost a role ~0.75 s
of CPU at start)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from revisit_runner import services

PROBE = """
import json, sys
from revisit_runner import edge, services, stack, web, worker
before = sorted(m for m in sys.modules if m.endswith("_service"))
services.spec(sys.argv[1])
after = sorted(m for m in sys.modules if m.endswith("_service"))
print(json.dumps([before, after]))
"""


@pytest.mark.parametrize("name", ["customer", "gateway"])
def test_a_role_imports_its_own_service_only(name):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, name], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    before, after = json.loads(done.stdout)
    assert (before, after) == ([], [f"{name}_service"])


def test_every_service_is_named_once_and_has_its_spec():
    assert ("gateway", *services.BACKEND_NAMES) == services.NAMES
    assert len(set(services.NAMES)) == 7
    assert {name: spec.name for name, spec in services.ALL.items()} == {
        name: name for name in services.NAMES
    }
    assert list(services.BACKENDS) == list(services.BACKEND_NAMES)
    with pytest.raises(KeyError):
        services.spec("billing")

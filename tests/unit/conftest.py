"""What every service's component tests share: given the ``runtime`` fixture of the
service's folder, its web app and an admin client of tenant-a."""

from __future__ import annotations

import pytest

from revisit_common.clock import now
from tests.support.client import Client


@pytest.fixture
def clock():
    """The clock of the service under test: the system's; a folder or module that fixes the
    instant overrides this fixture with a :class:`tests.support.clock.FakeClock`."""
    return now


@pytest.fixture
def app(runtime):
    return runtime.create_app()


@pytest.fixture
def client(app):
    return Client(app)

"""What every service's component tests share: given the ``runtime`` fixture of the
service's folder, its web app and an admin client of tenant-a."""

from __future__ import annotations

import pytest

from tests.support.client import Client


@pytest.fixture
def app(runtime):
    return runtime.create_app()


@pytest.fixture
def client(app):
    return Client(app)

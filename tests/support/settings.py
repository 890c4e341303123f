"""The settings tests run services with: small connection pools, so the suite spread over
several processes (and a `make stack` beside it) stays well under PostgreSQL's connection
limit. Child processes get the same bounds from the environment (tests/conftest.py)."""

from __future__ import annotations

from revisit_common.config import Settings

SMALL_POOL = {"db_pool_size": 1, "db_max_overflow": 3}


def make_settings(**values) -> Settings:
    """``Settings(**values)`` with the tests' small pools unless ``values`` names others."""
    return Settings(**{**SMALL_POOL, **values})


def bus_settings(data_dir, amqp_url: str | None, queue_prefix: str, **values) -> Settings:
    """Settings of a service on the bus at ``amqp_url`` (memory:// when None) with its own
    queues (``queue_prefix``): short intervals and back-off so a test runs fast."""
    return make_settings(
        **{
            "data_dir": data_dir,
            "amqp_url": amqp_url,
            "queue_prefix": queue_prefix,
            "region": "eu-test",
            "publish_timeout": 2.0,
            "relay_interval": 0.05,
            "consumer_backoff": 0.02,
            **values,
        }
    )

"""A service's moving parts, assembled in one place (the bootstrap of STYLE.md).

A service declares a :class:`ServiceSpec` in its ``bootstrap.py``; :class:`ServiceRuntime`
turns the spec plus :class:`Settings` into a database (migrated), an outbox, a relay, a
consumer and a Flask app. Standalone mode runs every runtime in one process; distributed
mode runs one runtime's web app under gunicorn and its workers in a separate process.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app

from . import metrics, migrations, webapp
from .bus import Bus
from .config import Settings
from .consumer import EventConsumer, Handler
from .db import Database
from .outbox import Outbox, Relay, pending_count

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    migrations: Path
    blueprints: Sequence = ()
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    routing_keys: Sequence[str] = ()
    public: bool = False  # the gateway: clients call it directly
    # Paths the gateway forwards without a tenant identity (they carry their own credential).
    token_only_prefixes: Sequence[str] = ()
    # Background jobs the worker runs every N seconds, e.g. the overdue sweep.
    periodic: Sequence[tuple[float, Callable[[ServiceRuntime], None]]] = ()
    on_start: Callable[[ServiceRuntime], None] | None = None


class ServiceRuntime:
    def __init__(self, spec: ServiceSpec, settings: Settings, bus: Bus | None = None):
        self.spec = spec
        self.settings = settings
        self.internal_token = settings.internal_token or secrets.token_urlsafe(32)
        url, schema = settings.database_for(spec.name)
        self.db = Database(url, schema)
        migrations.upgrade(self.db, spec.migrations)
        self.bus = bus or Bus(
            settings.amqp_url,
            publish_timeout=settings.publish_timeout,
            prefetch=settings.prefetch,
            heartbeat=settings.amqp_heartbeat,
        )
        self.outbox = Outbox(settings.region, spec.name)
        self.relay = Relay(
            spec.name,
            self.db,
            self.bus,
            self.outbox,
            batch=settings.relay_batch,
            interval=settings.relay_interval,
        )
        self.consumer = (
            EventConsumer(
                spec.name,
                self.db,
                self.bus,
                self.outbox,
                spec.handlers,
                list(spec.routing_keys),
                prefix=settings.queue_prefix,
                retries=settings.consumer_retries,
                backoff=settings.consumer_backoff,
            )
            if spec.handlers
            else None
        )
        self.threads: list[threading.Thread] = []
        metrics.register_outbox(spec.name, settings.region, lambda: pending_count(self.db))
        if spec.on_start:
            spec.on_start(self)

    @property
    def name(self) -> str:
        return self.spec.name

    def create_app(self) -> Flask:
        def database():
            self.db.ping()

        def broker():
            self.bus.ping()

        return webapp.create_app(
            service=self.name,
            title=self.spec.title,
            blueprints=self.spec.blueprints,
            internal_token=self.internal_token,
            max_body_bytes=self.settings.max_body_bytes,
            ready_checks=(database, broker),
            extensions={"revisit": self},
            public=self.spec.public,
            token_only_prefixes=self.spec.token_only_prefixes,
        )

    def declare(self) -> None:
        """Declare this service's queues and bindings, so no event published is missed."""
        if self.consumer is not None:
            self.consumer.declare()

    def start_workers(self, stop: threading.Event) -> list[threading.Thread]:
        """Start the outbox relay and the consumer on background threads."""
        self.declare()
        targets = [("relay", self.relay.run)]
        if self.consumer is not None:
            targets.append(("consumer", self.consumer.run_forever))
        for index, (interval, job) in enumerate(self.spec.periodic):
            targets.append((f"periodic-{index}", self._periodic(interval, job)))
        for role, target in targets:
            thread = threading.Thread(
                target=target, args=(stop,), name=f"{self.name}-{role}", daemon=True
            )
            thread.start()
            self.threads.append(thread)
        return self.threads

    def _periodic(self, interval: float, job: Callable[[ServiceRuntime], None]):
        def loop(stop: threading.Event) -> None:
            while not stop.wait(interval):
                try:
                    job(self)
                except Exception:  # noqa: BLE001 - reported; the next round tries again
                    log.exception("periodic job %s failed", getattr(job, "__name__", job))

        return loop

    def close(self) -> None:
        self.db.dispose()


def runtime() -> ServiceRuntime:
    """The runtime of the service handling the current request."""
    return current_app.extensions["revisit"]

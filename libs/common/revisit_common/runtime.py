"""A service's moving parts, assembled in one place (the bootstrap of STYLE.md).

A service declares a :class:`ServiceSpec` in its ``bootstrap.py``; :class:`ServiceRuntime`
turns the spec plus :class:`Settings` into a database (migrated), an outbox, a relay, a
consumer, a Flask app and ``options``: the settings of that service alone, read by the
spec's ``options`` class from the environment ``Settings`` took once. Standalone mode runs
every runtime in one process; distributed mode runs one runtime's web app under gunicorn
and its workers in a separate process.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from flask import Flask, current_app, g

from . import faults, idempotency, metrics, migrations, webapp
from .clock import Clock, now
from .config import Settings
from .db import Database
from .directory import Directory, Peer, Unavailable, peers_from
from .messaging.bus import Bus
from .messaging.consumer import EventConsumer
from .messaging.outbox import Outbox, pending_count
from .messaging.registry import Handler, routing_keys
from .messaging.relay import Relay
from .problems import problem_response
from .settings_catch_up import SettingsCatchUp

log = logging.getLogger(__name__)


class Options(Protocol):
    """A service's own settings: a small frozen dataclass in its ``options.py``."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Any: ...


# Seconds between two runs of a periodic job: a number, or read from the runtime (options).
Interval = float | Callable[["ServiceRuntime"], float]


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    title: str
    migrations: Path
    blueprints: Sequence = ()
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    # The bindings of its queue; by default derived from the handlers' events (registry).
    routing_keys: Sequence[str] | None = None
    public: bool = False  # the gateway: clients call it directly
    # Paths the gateway forwards without a tenant identity (they carry their own credential).
    token_only_prefixes: Sequence[str] = ()
    # Background jobs the worker runs every N seconds, e.g. the overdue sweep.
    periodic: Sequence[tuple[Interval, Callable[[ServiceRuntime], None]]] = ()
    # The class of its own settings (Options), built once per runtime as ``runtime.options``.
    options: type[Options] | None = None
    on_start: Callable[[ServiceRuntime], None] | None = None
    # A request whose tenant settings are newer at the gateway than in this service's copy
    # fetches them first (settings_catch_up.py): only where keeping them has no other effect.
    settings_catch_up: bool = False

    def __post_init__(self) -> None:
        if self.routing_keys is None:
            object.__setattr__(self, "routing_keys", routing_keys(self.handlers))


class ServiceRuntime:
    def __init__(
        self,
        spec: ServiceSpec,
        settings: Settings,
        bus: Bus | None = None,
        clock: Clock = now,
        db: Database | None = None,
    ):
        self.spec = spec
        self.settings = settings
        # The instant the use cases see (clock.py): what routes put in the Caller and the
        # periodic jobs pass on; a test gives a fake one.
        self.clock = clock
        # Its own settings, checked before anything is opened (a bad value: ValueError).
        self.options: Any = spec.options.from_env(settings.environment) if spec.options else None
        self.internal_token = settings.internal_token or secrets.token_urlsafe(32)
        # The unit of work's database: the settings' one, or one a test gives (migrated
        # here either way).
        if db is None:
            url, schema = settings.database_for(spec.name)
            db = Database(url, schema, **settings.pool())
        self.db = db
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
        # How this service reaches the others for reads (directory.py): HTTP at
        # REVISIT_<SERVICE>_URL; standalone mode puts the in-process apps here instead.
        self.peers: dict[str, Peer] = peers_from(settings.service_urls)
        self.directory = Directory(self.peers, self.internal_token, service=spec.name)
        self.settings_catch_up = SettingsCatchUp(self.db, self.directory)
        metrics.configure(settings.prometheus_multiproc_dir)
        metrics.register_outbox(spec.name, settings.region, lambda: pending_count(self.db))
        metrics.start_service(spec.name, spec.handlers)
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

        app = webapp.create_app(
            service=self.name,
            title=self.spec.title,
            blueprints=self.spec.blueprints,
            internal_token=self.internal_token,
            max_body_bytes=self.settings.max_body_bytes,
            max_upload_bytes=self.settings.max_upload_bytes,
            ready_checks=(database, broker),
            extensions={"revisit": self},
            public=self.spec.public,
            token_only_prefixes=self.spec.token_only_prefixes,
            metrics_tokens=metrics.credentials(
                self.settings.metrics_token, self.settings.admin_token
            ),
        )
        idempotency.install(app, self.db, self.spec.blueprints)
        app.register_error_handler(Unavailable, _owner_unavailable)
        if self.spec.settings_catch_up:
            app.before_request(self._catch_up_settings)
        return app

    def _catch_up_settings(self) -> None:
        identity = g.get("identity")
        if "gateway" not in self.peers:
            return  # no way to ask (REVISIT_GATEWAY_URL unset): the event brings them
        if identity is not None and identity.settings_version is not None:
            self.settings_catch_up.ensure(identity.tenant_id, identity.settings_version)

    def declare(self) -> None:
        """Declare this service's queues and bindings, so no event published is missed."""
        if self.consumer is not None:
            self.consumer.declare()

    def start_workers(self, stop: threading.Event) -> list[threading.Thread]:
        """Start the outbox relay and the consumer on background threads."""
        self.declare()
        faults.arm(self.settings.fault_inject)
        targets = [("relay", self.relay.run)]
        if self.consumer is not None:
            targets.append(("consumer", self.consumer.run_forever))
        for index, (interval, job) in enumerate(self.spec.periodic):
            seconds = interval(self) if callable(interval) else interval
            targets.append((f"periodic-{index}", self._periodic(seconds, job)))
        if idempotency.has_table(self.db):
            purge = self._periodic(idempotency.PURGE_INTERVAL, idempotency.purge_job)
            targets.append(("idempotency-purge", purge))
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


def _owner_unavailable(exc: Unavailable):
    """A read from the service owning an entity failed (directory.py): try again shortly."""
    log.warning("owning service unavailable: %s", exc)
    return problem_response(
        503,
        "a service this request needs is unavailable, try again shortly",
        headers={"Retry-After": "2"},
        request_id=g.get("request_id"),
    )


def runtime() -> ServiceRuntime:
    """The runtime of the service handling the current request."""
    return current_app.extensions["revisit"]

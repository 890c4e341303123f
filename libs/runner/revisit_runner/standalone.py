"""Standalone mode: the gateway and every service in one process, on one port.

Each service keeps its own database (a SQLite file under ``REVISIT_DATA_DIR`` unless
``REVISIT_DATABASE_URL`` is set); the bus is kombu's in-memory transport unless
``REVISIT_AMQP_URL`` is set; relays and consumers run on background threads. Served by
waitress (:mod:`.edge`: one process, threads; each request read whole before a thread takes
it), never Flask's development server. SIGTERM or SIGINT: no new connections, requests in
progress finish, then the background threads stop and the engines close.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import sys
import threading
from dataclasses import dataclass, field

from flask import Flask

from gateway_service.bootstrap import create_gateway_app
from gateway_service.proxy import InProcessTransport
from revisit_common import logs
from revisit_common.clock import Clock, now
from revisit_common.config import Settings
from revisit_common.directory import WsgiPeer
from revisit_common.messaging.bus import Bus
from revisit_common.runtime import ServiceRuntime

from . import edge
from .handover import move_webhooks
from .services import BACKENDS, GATEWAY

log = logging.getLogger(__name__)

THREADS = 8  # request threads; the relays and consumers have their own


@dataclass
class Standalone:
    app: Flask
    runtimes: dict[str, ServiceRuntime]
    stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        for rt in self.runtimes.values():
            rt.declare()  # every queue bound before any relay publishes
        for rt in self.runtimes.values():
            rt.start_workers(self.stop)

    def close(self) -> None:
        self.stop.set()
        for rt in self.runtimes.values():
            rt.outbox.wake_event.set()  # a relay waiting for rows sees the stop at once
        for rt in self.runtimes.values():
            for thread in rt.threads:
                thread.join(timeout=5)
            rt.close()


def prepare_settings(settings: Settings) -> Settings:
    """Fill in the tokens standalone mode makes for itself when none are configured."""
    changes = {}
    if not settings.admin_token:
        changes["admin_token"] = "rva_" + secrets.token_urlsafe(32)
    if not settings.internal_token:
        changes["internal_token"] = secrets.token_urlsafe(32)
    return dataclasses.replace(settings, **changes) if changes else settings


def build(settings: Settings, clock: Clock = now) -> Standalone:
    """Every runtime sharing one bus and ``clock``, and the gateway wired to them
    in-process."""
    move_webhooks(settings)  # before complaint's migration 0004 drops its webhook tables
    bus = Bus(
        settings.amqp_url, publish_timeout=settings.publish_timeout, prefetch=settings.prefetch
    )
    runtimes = {name: ServiceRuntime(spec, settings, bus, clock) for name, spec in BACKENDS.items()}
    gateway = ServiceRuntime(GATEWAY, settings, bus, clock)
    apps = {name: rt.create_app() for name, rt in runtimes.items()}
    transports = {name: InProcessTransport(service_app) for name, service_app in apps.items()}
    app = create_gateway_app(gateway, transports)
    peers = {name: WsgiPeer(service_app) for name, service_app in {**apps, "gateway": app}.items()}
    for rt in runtimes.values():  # reads from the owning service, in this process
        rt.peers.update(peers)
    return Standalone(app=app, runtimes={"gateway": gateway, **runtimes})


def main(argv: list[str] | None = None) -> None:
    settings = Settings.from_env()
    generated = not settings.admin_token
    settings = prepare_settings(settings)
    logs.configure(settings.log_level)
    if generated:
        print(
            f"revisit: no REVISIT_ADMIN_TOKEN given; this run's platform token is:\n"
            f"    {settings.admin_token}",
            file=sys.stderr,
            flush=True,
        )
    print(
        f"revisit: standalone on http://{settings.host}:{settings.port} "
        f"(data {settings.data_dir.resolve() if not settings.database_url else 'PostgreSQL'}, "
        f"bus {'RabbitMQ' if settings.amqp_url else 'in memory'})",
        file=sys.stderr,
        flush=True,
    )
    system = build(settings)
    system.start()
    edge.serve(system.app, settings, THREADS, on_stop=system.close)


if __name__ == "__main__":
    main(sys.argv[1:])

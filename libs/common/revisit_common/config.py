"""One typed settings object, read from ``REVISIT_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .env import integer, number, positive, text

SERVICES = ("gateway", "customer", "visit", "complaint", "survey", "kpi", "notify")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    # Fields that may hold a credential are left out of repr (a logged Settings shows none).
    database_url: str | None = field(default=None, repr=False)
    service_database_urls: dict[str, str] = field(default_factory=dict, repr=False)
    db_schema_prefix: str = ""
    amqp_url: str | None = field(default=None, repr=False)
    queue_prefix: str = "revisit"
    region: str = "local"
    host: str = "127.0.0.1"
    port: int = 8080
    admin_token: str | None = field(default=None, repr=False)
    internal_token: str | None = field(default=None, repr=False)
    # The credential of /metrics (besides the platform token): what Prometheus sends.
    metrics_token: str | None = field(default=None, repr=False)
    service_urls: dict[str, str] = field(default_factory=dict)
    max_body_bytes: int = 1024 * 1024
    # The body limit of file uploads (webapp.UPLOAD_PATHS: POST /customers/import).
    max_upload_bytes: int = 16 * 1024 * 1024
    # Idle keep-alive connections are held this long (CONTRACT 4.1: at least 60 s); also
    # the read deadline of a request whose client went silent.
    keepalive_seconds: int = 75
    # Per engine (one per service per process): connections kept open, and how many more
    # may be opened under load (README "Connections per process"); a thread finding all in
    # use waits at most db_pool_timeout seconds, then its request gets 503 (Retry-After).
    db_pool_size: int = 5
    db_max_overflow: int = 5
    db_pool_timeout: float = 5.0
    publish_timeout: float = 5.0
    relay_interval: float = 0.2
    # The relay publishes a batch, then waits for all its confirms: the batch is its window
    # of confirms in flight (bench: 1,000 rows reach several times the rate of 200).
    relay_batch: int = 1000
    consumer_retries: int = 3
    consumer_backoff: float = 0.05
    # A consumer on PostgreSQL applies up to half its prefetch in one transaction (bench:
    # batches of 800 cost PostgreSQL 10-14% less per event than batches of 400, those ~8%
    # less than batches of 200; a batch of 800 bench events feeds ~520 facts, under the
    # 1,000 beyond which a KPI transaction locks its tenants, kpi_service.tenant_locks).
    prefetch: int = 1600
    amqp_heartbeat: float = 60.0  # seconds; 0 turns AMQP heartbeats off
    log_level: str = "INFO"
    # Where prometheus-client keeps the metric files of a multi-process server (gunicorn's
    # workers); unset: one process, its own registry.
    prometheus_multiproc_dir: str | None = None
    # The web process' address ("host:port", REVISIT_BIND) and threads (REVISIT_WEB_THREADS):
    # None leaves the runner's default (edge.py, gunicorn_conf.py).
    bind: str | None = None
    web_threads: int | None = None
    # gunicorn's worker processes (its own variable WEB_CONCURRENCY; each has database pools
    # of its own: the chart's connection budget counts them).
    web_concurrency: int = 2
    # gunicorn recycles a worker after this many requests (REVISIT_MAX_REQUESTS; a fork from
    # the master's imports costs ~0.1 s of CPU, so rarely is enough: it bounds slow leaks).
    max_requests: int = 20000
    # Test-only (faults.py): where a worker process kills itself ("" never).
    fault_inject: str = ""
    # The REVISIT_* environment as read once by from_env: each service reads its own options
    # from it (ServiceSpec.options). Not shown in repr: it holds the tokens.
    environment: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            data_dir=Path(env.get("REVISIT_DATA_DIR") or "var"),
            database_url=env.get("REVISIT_DATABASE_URL") or None,
            service_database_urls={
                name: env[f"REVISIT_{name.upper()}_DATABASE_URL"]
                for name in SERVICES
                if env.get(f"REVISIT_{name.upper()}_DATABASE_URL")
            },
            db_schema_prefix=env.get("REVISIT_DB_SCHEMA_PREFIX", ""),
            amqp_url=env.get("REVISIT_AMQP_URL") or None,
            queue_prefix=env.get("REVISIT_QUEUE_PREFIX") or "revisit",
            region=env.get("REVISIT_REGION") or "local",
            host=env.get("REVISIT_HOST") or "127.0.0.1",
            port=integer(env, "REVISIT_PORT", 8080),
            admin_token=env.get("REVISIT_ADMIN_TOKEN") or None,
            internal_token=env.get("REVISIT_INTERNAL_TOKEN") or None,
            metrics_token=env.get("REVISIT_METRICS_TOKEN") or None,
            service_urls={
                name: env[f"REVISIT_{name.upper()}_URL"].rstrip("/")
                for name in SERVICES
                if env.get(f"REVISIT_{name.upper()}_URL")
            },
            max_body_bytes=integer(env, "REVISIT_MAX_BODY_BYTES", 1024 * 1024),
            max_upload_bytes=integer(env, "REVISIT_MAX_UPLOAD_BYTES", 16 * 1024 * 1024),
            keepalive_seconds=integer(env, "REVISIT_KEEPALIVE_SECONDS", 75),
            db_pool_size=integer(env, "REVISIT_DB_POOL_SIZE", 5),
            db_max_overflow=integer(env, "REVISIT_DB_MAX_OVERFLOW", 5),
            db_pool_timeout=positive(env, "REVISIT_DB_POOL_TIMEOUT", 5.0),
            publish_timeout=number(env, "REVISIT_PUBLISH_TIMEOUT", 5.0),
            relay_interval=number(env, "REVISIT_RELAY_INTERVAL", 0.2),
            relay_batch=integer(env, "REVISIT_RELAY_BATCH", 1000),
            consumer_retries=integer(env, "REVISIT_CONSUMER_RETRIES", 3),
            consumer_backoff=number(env, "REVISIT_CONSUMER_BACKOFF", 0.05),
            prefetch=integer(env, "REVISIT_PREFETCH", 1600),
            amqp_heartbeat=number(env, "REVISIT_AMQP_HEARTBEAT", 60.0),
            log_level=env.get("REVISIT_LOG_LEVEL") or "INFO",
            prometheus_multiproc_dir=env.get("PROMETHEUS_MULTIPROC_DIR") or None,
            bind=env.get("REVISIT_BIND") or None,
            web_threads=integer(env, "REVISIT_WEB_THREADS", 0) or None,
            web_concurrency=integer(env, "WEB_CONCURRENCY", 2),
            max_requests=integer(env, "REVISIT_MAX_REQUESTS", 20000),
            fault_inject=text(env, "REVISIT_FAULT_INJECT", ""),
            environment={key: value for key, value in env.items() if key.startswith("REVISIT_")},
        )

    def pool(self) -> dict[str, float]:
        """The connection pool bounds every service database is opened with."""
        return {
            "pool_size": self.db_pool_size,
            "max_overflow": self.db_max_overflow,
            "pool_timeout": self.db_pool_timeout,
        }

    def database_for(self, service: str) -> tuple[str, str | None]:
        """The URL and (PostgreSQL only) schema of a service's own database."""
        if service in self.service_database_urls:
            return self.service_database_urls[service], None
        if self.database_url:
            return self.database_url, f"{self.db_schema_prefix}{service}"
        path = (self.data_dir / f"{service}.sqlite3").resolve()
        return f"sqlite:///{path}", None

"""One typed settings object, read from ``REVISIT_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("gateway", "customer", "visit", "complaint", "survey", "kpi", "notify")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("var")
    database_url: str | None = None
    service_database_urls: dict[str, str] = field(default_factory=dict)
    db_schema_prefix: str = ""
    amqp_url: str | None = None
    queue_prefix: str = "revisit"
    region: str = "local"
    host: str = "127.0.0.1"
    port: int = 8080
    admin_token: str | None = None
    internal_token: str | None = None
    # The credential of /metrics (besides the platform token): what Prometheus sends.
    metrics_token: str | None = None
    service_urls: dict[str, str] = field(default_factory=dict)
    max_body_bytes: int = 1024 * 1024
    # Idle keep-alive connections are held this long (CONTRACT 4.1: at least 60 s); also
    # the read deadline of a request whose client went silent.
    keepalive_seconds: int = 75
    # Per engine (one per service per process): connections kept open, and how many more
    # may be opened under load (README "Connections per process").
    db_pool_size: int = 5
    db_max_overflow: int = 5
    publish_timeout: float = 5.0
    relay_interval: float = 0.2
    # The relay publishes a batch, then waits for all its confirms: the batch is its window
    # of confirms in flight (bench: 1,000 rows reach several times the rate of 200).
    relay_batch: int = 1000
    consumer_retries: int = 3
    consumer_backoff: float = 0.05
    # A consumer on PostgreSQL applies up to half its prefetch in one transaction (bench:
    # batches of 200 cost the consumer and PostgreSQL less per event than batches of 50).
    prefetch: int = 400
    amqp_heartbeat: float = 60.0  # seconds; 0 turns AMQP heartbeats off
    log_level: str = "INFO"
    # Gateway rate limits, in the syntax of the ``limits`` library ("600/minute",
    # "20/second;600/minute"); "off" turns limiting off. Per API key (a ceiling against
    # runaway clients: 100 requests a second on average), and per client IP for calls
    # without a valid key (tenant registration, survey answers, bad or missing keys).
    rate_limit: str = "6000/minute"
    rate_limit_anonymous: str = "120/minute"
    # Where the counters live: memory:// (per process) or e.g. redis://host:6379/0, shared
    # by every gateway replica and worker.
    rate_limit_storage_url: str = "memory://"
    # How many proxies in front of the gateway append to X-Forwarded-For (the client IP of
    # the per-IP limit is taken that many hops back); 0 trusts no forwarding header.
    trusted_proxies: int = 0
    # PostgreSQL's synchronous_commit for the gateway's audit entries (and key lookups):
    # "off" commits them without waiting for the WAL flush (a server crash can lose the
    # last fraction of a second of entries), "on" waits for it.
    audit_synchronous_commit: str = "off"
    # Webhooks go only to public addresses unless the operator allows private ones
    # (loopback, private, link-local, ...: test rigs, closed networks). A tenant has at most
    # ``webhooks_per_tenant`` active webhooks (409 beyond).
    webhook_allow_private: bool = False
    webhooks_per_tenant: int = 20
    # Webhook deliveries (notify's worker): the read timeout of one POST, the wait before
    # the first retry (doubled each time), and the attempts before a delivery is failed.
    webhook_timeout: float = 5.0
    webhook_backoff: float = 10.0
    webhook_max_attempts: int = 10

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
            port=_int(env, "REVISIT_PORT", 8080),
            admin_token=env.get("REVISIT_ADMIN_TOKEN") or None,
            internal_token=env.get("REVISIT_INTERNAL_TOKEN") or None,
            metrics_token=env.get("REVISIT_METRICS_TOKEN") or None,
            service_urls={
                name: env[f"REVISIT_{name.upper()}_URL"].rstrip("/")
                for name in SERVICES
                if env.get(f"REVISIT_{name.upper()}_URL")
            },
            max_body_bytes=_int(env, "REVISIT_MAX_BODY_BYTES", 1024 * 1024),
            keepalive_seconds=_int(env, "REVISIT_KEEPALIVE_SECONDS", 75),
            db_pool_size=_int(env, "REVISIT_DB_POOL_SIZE", 5),
            db_max_overflow=_int(env, "REVISIT_DB_MAX_OVERFLOW", 5),
            publish_timeout=_float(env, "REVISIT_PUBLISH_TIMEOUT", 5.0),
            relay_interval=_float(env, "REVISIT_RELAY_INTERVAL", 0.2),
            relay_batch=_int(env, "REVISIT_RELAY_BATCH", 1000),
            consumer_retries=_int(env, "REVISIT_CONSUMER_RETRIES", 3),
            consumer_backoff=_float(env, "REVISIT_CONSUMER_BACKOFF", 0.05),
            prefetch=_int(env, "REVISIT_PREFETCH", 400),
            amqp_heartbeat=_float(env, "REVISIT_AMQP_HEARTBEAT", 60.0),
            log_level=env.get("REVISIT_LOG_LEVEL") or "INFO",
            rate_limit=env.get("REVISIT_RATE_LIMIT") or "6000/minute",
            rate_limit_anonymous=env.get("REVISIT_RATE_LIMIT_ANONYMOUS") or "120/minute",
            rate_limit_storage_url=env.get("REVISIT_RATE_LIMIT_STORAGE_URL") or "memory://",
            trusted_proxies=_int(env, "REVISIT_TRUSTED_PROXIES", 0),
            audit_synchronous_commit=env.get("REVISIT_AUDIT_SYNCHRONOUS_COMMIT") or "off",
            webhook_allow_private=(env.get("REVISIT_WEBHOOK_ALLOW_PRIVATE") or "").lower()
            in ("1", "true", "yes", "on"),
            webhooks_per_tenant=_int(env, "REVISIT_WEBHOOKS_PER_TENANT", 20),
            webhook_timeout=_float(env, "REVISIT_WEBHOOK_TIMEOUT", 5.0),
            webhook_backoff=_float(env, "REVISIT_WEBHOOK_BACKOFF", 10.0),
            webhook_max_attempts=_int(env, "REVISIT_WEBHOOK_MAX_ATTEMPTS", 10),
        )

    def pool(self) -> dict[str, int]:
        """The connection pool bounds every service database is opened with."""
        return {"pool_size": self.db_pool_size, "max_overflow": self.db_max_overflow}

    def database_for(self, service: str) -> tuple[str, str | None]:
        """The URL and (PostgreSQL only) schema of a service's own database."""
        if service in self.service_database_urls:
            return self.service_database_urls[service], None
        if self.database_url:
            return self.database_url, f"{self.db_schema_prefix}{service}"
        path = (self.data_dir / f"{service}.sqlite3").resolve()
        return f"sqlite:///{path}", None

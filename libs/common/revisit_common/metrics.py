"""Prometheus metrics every service exposes (CONTRACT.md §3, the per-service part).

Metric objects are module-level (they hold no connections); values that live in a database
(outbox backlog) are read at scrape time by collectors built per scrape, so every process
and replica reports the truth.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

HTTP_REQUESTS = Counter(
    "revisit_http_requests_total",
    "HTTP requests handled",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "revisit_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PUBLISHED = Counter(
    "revisit_events_published_total", "Events confirmed by the broker", ["service"]
)
PUBLISH_FAILURES = Counter(
    "revisit_publish_failures_total", "Relay passes that hit a broker failure", ["service"]
)
EVENTS_CONSUMED = Counter(
    "revisit_events_consumed_total",
    "Events taken off the bus, by outcome (applied, duplicate, ignored, dead)",
    ["service", "type", "outcome"],
)
DEAD_LETTERS = Counter(
    "revisit_dead_letters_total", "Messages moved to the dead-letter queue", ["service"]
)

# service -> (region, function returning the outbox backlog), registered by each runtime;
# a runtime built again for the same service (tests) replaces the earlier reader.
PendingReader = Callable[[], int]
_outbox_readers: dict[str, tuple[str, PendingReader]] = {}
_extra_collectors: dict[object, object] = {}


def register_outbox(service: str, region: str, reader: PendingReader) -> None:
    _outbox_readers[service] = (region, reader)


def register_collector(collector, key: str | None = None) -> None:
    """A stateless collector read at scrape time (e.g. the KPI store).

    A collector registered under a ``key`` already used replaces the earlier one (a runtime
    built again in the same process, as tests do), so a scrape never reads a stale store.
    """
    _extra_collectors[object() if key is None else key] = collector


class _OutboxCollector:
    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "revisit_outbox_pending", "Outbox rows not yet confirmed", labels=["service", "region"]
        )
        for service, (region, reader) in sorted(_outbox_readers.items()):
            try:
                family.add_metric([service, region], reader())
            except Exception:  # noqa: BLE001 - database down: leave the sample out, do not 500
                continue
        yield family


def render() -> tuple[bytes, str]:
    """The exposition text: process metrics (multiprocess-aware) plus scrape-time readers."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        base = CollectorRegistry()
        MultiProcessCollector(base)
    else:
        base = REGISTRY
    extra = CollectorRegistry(auto_describe=False)
    extra.register(_OutboxCollector())
    for collector in list(_extra_collectors.values()):
        extra.register(collector)
    return generate_latest(base) + generate_latest(extra), CONTENT_TYPE_LATEST

"""Prometheus metrics every service exposes (CONTRACT.md §3, the per-service part).

Metric objects are module-level (they hold no connections); values that live in a database
(outbox backlog) are read at scrape time by collectors built per scrape, so every process
and replica reports the truth.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.utils import floatToGoString

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

OUTCOMES = ("applied", "duplicate", "ignored", "dead")


def credentials(metrics_token: str | None, admin_token: str | None) -> tuple[str, ...]:
    """The bearer tokens ``/metrics`` accepts: the metrics token and the platform token."""
    return tuple(token for token in (metrics_token, admin_token) if token)


def authorized(header: str | None, tokens: Iterable[str]) -> bool:
    """Whether an ``Authorization`` header carries one of ``tokens`` (none: nobody is)."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    given_bytes = given.strip().encode("utf-8")
    return any(hmac.compare_digest(given_bytes, token.encode("utf-8")) for token in tokens)


def start_service(service: str, event_types: Iterable[str]) -> None:
    """Every per-service counter at 0 before its first increment, so that ``increase()``
    sees the first burst too (a series born at 3 shows no increase)."""
    EVENTS_PUBLISHED.labels(service)
    PUBLISH_FAILURES.labels(service)
    DEAD_LETTERS.labels(service)
    for event_type in sorted(event_types):
        for outcome in OUTCOMES:
            EVENTS_CONSUMED.labels(service, event_type, outcome)


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


# Set by configure() from Settings.prometheus_multiproc_dir (the runtime, the worker).
_multiprocess = False


def configure(multiproc_dir: str | None) -> None:
    """Whether :func:`render` merges the metric files of a multi-process server: so when
    ``PROMETHEUS_MULTIPROC_DIR`` is set (prometheus-client then writes values there)."""
    global _multiprocess
    _multiprocess = bool(multiproc_dir)


def render() -> tuple[bytes, str]:
    """The exposition text: process metrics (multiprocess-aware) plus scrape-time readers."""
    if _multiprocess:
        base = CollectorRegistry()
        MultiProcessCollector(base)
    else:
        base = REGISTRY
    extra = [_OutboxCollector(), *list(_extra_collectors.values())]
    return generate_latest(base) + b"".join(map(_text, extra)), CONTENT_TYPE_LATEST


def _text(collector) -> bytes:
    """A scrape-time collector's exposition text: its own ``text()`` when it has one (the
    KPI store's: a rendering kept until the store changes), else its families rendered."""
    text = getattr(collector, "text", None)
    return text() if text is not None else plain_text(collector.collect())


PLAIN_TYPES = frozenset({"counter", "gauge"})


def plain_text(families: Iterable[Metric]) -> bytes:
    """``generate_latest`` of ``families``, the same bytes, for counters and gauges.

    The scrape-time families (the KPI store's: thousands of samples) are rendered here:
    prometheus-client checks every label name of every sample against a pattern, which was
    most of a scrape's time, while ours are constants checked when the family is made.
    Families of any other type, or with other samples (timestamps, ``_created``), go
    through ``generate_latest``."""
    out: list[str] = []
    for family in families:
        name = family.name + "_total" if family.type == "counter" else family.name
        if family.type not in PLAIN_TYPES or any(
            s.name != name or s.timestamp is not None for s in family.samples
        ):  # (a counter's _created samples, say)
            registry = CollectorRegistry(auto_describe=False)
            registry.register(_Fixed([family]))
            out.append(generate_latest(registry).decode("utf-8"))
            continue
        doc = family.documentation.replace("\\", r"\\").replace("\n", r"\n")
        out.append(f"# HELP {name} {doc}\n# TYPE {name} {family.type}\n")
        for sample in family.samples:
            if sample.labels:
                pairs = sorted(sample.labels.items())
                labels = ",".join(f'{k}="{_label_value(v)}"' for k, v in pairs)
                out.append(f"{sample.name}{{{labels}}} {floatToGoString(sample.value)}\n")
            else:
                out.append(f"{sample.name} {floatToGoString(sample.value)}\n")
    return "".join(out).encode("utf-8")


def _label_value(value: str) -> str:
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")
    return value


class _Fixed:
    def __init__(self, families: list[Metric]):
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return self.families

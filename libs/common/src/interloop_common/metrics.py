"""Prometheus metrics shared by every service, and the per-service /metrics endpoint."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

EVENTS_PUBLISHED = Counter(
    "interloop_events_published_total", "Outbox events published to Kafka", ["service"]
)
EVENTS_CONSUMED = Counter(
    "interloop_events_consumed_total", "Events consumed, by outcome", ["service", "consumer", "outcome"]
)
DEAD_LETTERS = Counter(
    "interloop_dead_letters_total", "Records sent to a dead-letter topic", ["service", "consumer"]
)
HANDLER_SECONDS = Histogram(
    "interloop_event_handler_seconds", "Event handler duration", ["service", "consumer"]
)
RPC_ERRORS = Counter("interloop_rpc_errors_total", "RPCs answered with an error status", ["service", "code"])
BACKGROUND_FAILURES = Counter(
    "interloop_background_failures_total", "Failed rounds of a periodic background task", ["task"]
)
AUDIT_FAILURES = Counter("interloop_audit_failures_total", "Audit-trail entries that could not be written")
READY = Gauge("interloop_ready", "1 when the service is serving", ["service"])


def serve_metrics(port: int, host: str = "0.0.0.0") -> None:
    """Start the /metrics endpoint on `port` (0 disables it)."""
    if port:
        start_http_server(port, addr=host)

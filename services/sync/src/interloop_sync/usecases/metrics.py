"""Sync metrics: operations by outcome, error and duplicate rates, candidate-communication SLA."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

OPERATIONS = Counter(
    "interloop_sync_operations_total",
    "Sync operations by direction, operation and outcome",
    ["direction", "operation", "outcome"],
)
ERROR_RATE = Gauge("interloop_sync_error_rate", "Failed sync operations / all sync operations since start")
DUPLICATE_RATE = Gauge(
    "interloop_sync_duplicate_rate", "Duplicate inbound deliveries or records / all inbound"
)
COMMUNICATION_SECONDS = Histogram(
    "interloop_sync_candidate_communication_seconds",
    "Seconds from the triggering ATS event to the candidate communication being sent (SLA)",
    buckets=(1, 5, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 48 * 3600, 7 * 24 * 3600),
)
ERASED_SKIPPED = Counter(
    "interloop_sync_erased_candidate_events_total",
    "Inbound changes ignored because they are about a candidate erased here",
    ["provider"],
)
HRIS_WRITES = Counter("interloop_sync_hris_writes_total", "HRIS writes by outcome", ["provider", "outcome"])

_totals = {"all": 0, "error": 0, "inbound": 0, "duplicate": 0}


def record(direction: str, operation: str, outcome: str) -> None:
    OPERATIONS.labels(direction, operation, outcome).inc()
    _totals["all"] += 1
    if outcome == "error":
        _totals["error"] += 1
    if direction == "inbound":
        _totals["inbound"] += 1
        if outcome == "duplicate":
            _totals["duplicate"] += 1
    ERROR_RATE.set(_totals["error"] / _totals["all"])
    if _totals["inbound"]:
        DUPLICATE_RATE.set(_totals["duplicate"] / _totals["inbound"])

"""Shared building blocks of every Interloop service: settings, logging, telemetry, PostgreSQL,
Kafka (outbox relay, inbox consumers, dead letters), the gRPC server bootstrap and metrics."""

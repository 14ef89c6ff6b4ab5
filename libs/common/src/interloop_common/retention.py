"""Housekeeping: the shared tables stop growing without bound.

What is swept, and why it is safe:
- ``outbox`` rows Kafka acknowledged (``published_at``) older than ``retention_outbox_hours``: the relay
  never reads a published row again. Unpublished and quarantined rows are never swept.
- ``inbox`` ids older than Kafka's retention plus a margin: an inbox id only guards against a
  redelivery, and Kafka cannot redeliver an event it no longer holds.
- ``dead_letters`` already replayed, older than ``retention_dead_letters_hours``; open ones stay until a
  human replays them.
- ``parked_events`` older than ``retention_dead_letters_hours``: a record of an event a consumer did not
  apply because it held a newer version of the aggregate; it is kept as long as a replayed dead letter.
  (``aggregate_versions`` is not swept: one row per aggregate and group, like the aggregates themselves.)
- ``idempotent_calls`` older than ``retention_idempotency_hours``: the gateway forgets an Idempotency-Key
  after as long, so no retry of it can arrive later.

Deletes run in batches (one short transaction each), so a sweep never holds a long lock or a huge
transaction; a service adds its own tables with ``Sweep``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
from prometheus_client import Counter

from interloop_common.db import system_tx
from interloop_common.settings import ServiceSettings

log = logging.getLogger(__name__)

SWEPT = Counter(
    "interloop_retention_deleted_total", "Rows deleted by the retention sweep", ["service", "table"]
)


@dataclass(frozen=True)
class Sweep:
    """Delete rows of ``table`` whose ``moment`` column is older than ``keep`` and that match ``where``."""

    table: str
    moment: str
    keep: timedelta
    where: str = "TRUE"

    def statement(self) -> str:
        # ctid batches: no index needed beyond the moment column's, and each batch is a short transaction
        return (
            f"DELETE FROM {self.table} WHERE ctid = ANY(ARRAY("  # noqa: S608 - names are ours, not input
            f"SELECT ctid FROM {self.table} WHERE {self.moment} < now() - $1::interval AND ({self.where}) "
            f"LIMIT $2))"
        )


def common_sweeps(settings: ServiceSettings) -> list[Sweep]:
    """The outbox, inbox, dead-letter, parked-event and idempotent-call sweeps every service runs."""
    inbox = settings.kafka_retention_hours + settings.retention_inbox_margin_hours
    return [
        Sweep(
            "outbox",
            "published_at",
            timedelta(hours=settings.retention_outbox_hours),
            "quarantined_at IS NULL",
        ),
        Sweep("inbox", "processed_at", timedelta(hours=inbox)),
        Sweep("dead_letters", "replayed_at", timedelta(hours=settings.retention_dead_letters_hours)),
        Sweep("parked_events", "parked_at", timedelta(hours=settings.retention_dead_letters_hours)),
        Sweep("idempotent_calls", "created_at", timedelta(hours=settings.retention_idempotency_hours)),
    ]


async def sweep(
    pool: asyncpg.Pool, sweeps: list[Sweep], *, service: str, batch_size: int = 5000
) -> dict[str, int]:
    """One pass over every sweep; returns rows deleted per table."""
    deleted: dict[str, int] = {}
    for s in sweeps:
        total = 0
        while True:
            async with system_tx(pool) as conn:
                status = await conn.execute(s.statement(), s.keep, batch_size)
            n = int(status.split()[-1])
            total += n
            if n < batch_size:
                break
        deleted[s.table] = deleted.get(s.table, 0) + total
        if total:
            SWEPT.labels(service, s.table).inc(total)
            log.info("retention: %d %s row(s) older than %s deleted", total, s.table, s.keep)
    return deleted

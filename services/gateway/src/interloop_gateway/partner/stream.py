"""The partner event stream: a tenant's interview, scorecard and decision events read from the event topics.

Each subscription is its own Kafka reader (no consumer group: it assigns every partition of the streamed
topics and seeks itself), so any gateway pod can serve any client and a reconnect resumes anywhere. The
position a client stores is the next offset of every partition, opaque to it; records of one partition are
sent in offset order (partitions are merged by time), so a stored position never skips an unsent record.
What the client sees is at least once: it dedupes by event id."""

from __future__ import annotations

import asyncio
import base64
import heapq
import json
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from interloop_common import events, kafka
from interloop_common.errors import Unavailable, invalid

log = logging.getLogger(__name__)

# What a partner may follow (internal events — reminders due, scheduling requests — stay inside).
PUBLIC_TYPES = frozenset(
    {
        "interview.scheduled",
        "interview.rescheduled",
        "interview.cancelled",
        "interview.completed",
        "scorecard.submitted",
        "scorecard.overdue",
        "decision.recorded",
    }
)
FAMILIES = ("interview", "scorecard")
EARLIEST = "earliest"
MAX_POSITION_CHARS = 16_384


@dataclass(frozen=True)
class Item:
    """An event (or None for a heartbeat) and the position to store after it."""

    event: events.Event | None
    position: str


def encode_position(offsets: dict[TopicPartition, int]) -> str:
    flat = {f"{tp.topic}:{tp.partition}": off for tp, off in sorted(offsets.items())}
    return base64.urlsafe_b64encode(json.dumps(flat, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_position(token: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """The offsets of a stored position; a token this API did not make is INVALID_ARGUMENT."""
    known = set(topics)
    try:
        if len(token) > MAX_POSITION_CHARS:
            raise ValueError("too long")
        flat = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(flat, dict):
            raise ValueError("not an object")
        out: dict[TopicPartition, int] = {}
        for name, offset in flat.items():
            topic, _, partition = str(name).rpartition(":")
            if topic not in known or not partition.isdigit() or not isinstance(offset, int) or offset < 0:
                raise ValueError(name)
            out[TopicPartition(topic, int(partition))] = offset
        return out
    except (ValueError, UnicodeDecodeError, json.JSONDecodeError):
        raise invalid("position", "not a position this stream gave out (or 'earliest', or empty)") from None


def check_types(types: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(types)
    unknown = sorted(wanted - PUBLIC_TYPES)
    if unknown:
        raise invalid("types", f"unknown event types {unknown}; known: {sorted(PUBLIC_TYPES)}")
    return wanted or PUBLIC_TYPES


async def subscribe(
    *,
    bootstrap_servers: str,
    tenant_id: str,
    position: str,
    types: frozenset[str],
    heartbeat_seconds: float,
    stopping: asyncio.Event,
) -> AsyncIterator[Item]:
    """The tenant's events from ``position`` on, with a heartbeat when idle; ends when ``stopping`` is set."""
    topics = [kafka.topic(f) for f in FAMILIES]
    resume = decode_position(position, topics) if position not in ("", EARLIEST) else {}
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=f"gateway-partner-stream-{tenant_id}",
        **kafka.client_options(),
    )
    parts = await kafka.partitions(bootstrap_servers, topics)
    if not parts:
        raise Unavailable("the event topics do not exist yet; retry shortly")
    await consumer.start()
    try:
        consumer.assign(parts)
        if position == EARLIEST:
            await consumer.seek_to_beginning(*parts)
        elif not position:
            await consumer.seek_to_end(*parts)
        for tp in parts:
            if tp in resume:
                consumer.seek(tp, resume[tp])
            elif position and position != EARLIEST:
                await consumer.seek_to_beginning(tp)  # a partition added since: all of it
        offsets = {tp: await consumer.position(tp) for tp in parts}
        yield Item(None, encode_position(offsets))  # where "now" is: the client may store it at once
        loop = asyncio.get_running_loop()
        last_sent = loop.time()
        while not stopping.is_set():
            batch = await consumer.getmany(timeout_ms=500, max_records=500)
            for tp, record in _by_time(batch):
                offsets[tp] = record.offset + 1
                event = _public(record, tenant_id, types)
                if event is not None:
                    last_sent = loop.time()
                    yield Item(event, encode_position(offsets))
            if loop.time() - last_sent >= heartbeat_seconds:
                last_sent = loop.time()
                yield Item(None, encode_position(offsets))
    finally:
        await consumer.stop()


def _by_time(
    batch: dict[TopicPartition, list[ConsumerRecord]],
) -> Iterable[tuple[TopicPartition, ConsumerRecord]]:
    """Every record of the batch, partitions merged by timestamp, each partition's in offset order."""
    streams = [
        [(r.timestamp, tp.topic, tp.partition, r.offset, tp, r) for r in rs] for tp, rs in batch.items()
    ]
    for *_, tp, record in heapq.merge(*streams, key=lambda x: x[:4]):
        yield tp, record


def _public(record: ConsumerRecord, tenant_id: str, types: frozenset[str]) -> events.Event | None:
    headers = events.header_dict(record.headers)
    if headers.get("ce_tenant") != tenant_id or headers.get("ce_type") not in types:
        return None  # another tenant's, or a type not asked for: not even decoded
    try:
        event = events.decode(record.value)
    except events.MalformedEvent:
        log.warning("partner stream: skipping an undecodable record at %s:%d", record.topic, record.offset)
        return None
    if event.tenant_id != tenant_id or event.type not in types:
        return None  # the envelope is authoritative, not the headers
    return event

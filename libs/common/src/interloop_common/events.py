"""The event envelope on Kafka: protobuf `Envelope` body plus CloudEvents Kafka-binding headers.

Headers follow the CloudEvents Kafka protocol binding (binary content mode): `ce_specversion`, `ce_id`,
`ce_type`, `ce_source`, `ce_time`, `ce_subject`, plus the `ce_tenant` extension and W3C `traceparent`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf import any_pb2, timestamp_pb2
from google.protobuf.message import DecodeError, Message
from interloop.events.v1 import envelope_pb2, interview_pb2
from opentelemetry import propagate

from interloop_common.retry import Permanent

CONTENT_TYPE = "application/protobuf"


class MalformedEvent(Permanent, ValueError):
    """A Kafka record that is not an Interloop envelope (retrying cannot fix it)."""


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    source: str
    tenant_id: str
    subject: str
    time: datetime
    payload: any_pb2.Any

    def unpack(self, message_cls: type[Message]) -> Message:
        msg = message_cls()
        if not self.payload.Unpack(msg):
            raise MalformedEvent(
                f"{self.type}: payload is {self.payload.type_url}, expected {msg.DESCRIPTOR.full_name}"
            )
        return msg


def new_event(*, type: str, source: str, tenant_id: str, subject: str, payload: Message) -> Event:
    packed = any_pb2.Any()
    packed.Pack(payload)
    return Event(
        id=str(uuid.uuid4()),
        type=type,
        source=source,
        tenant_id=tenant_id,
        subject=subject,
        time=datetime.now(UTC),
        payload=packed,
    )


def encode(event: Event) -> tuple[bytes, list[tuple[str, bytes]]]:
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(event.time)
    body = envelope_pb2.Envelope(
        id=event.id,
        type=event.type,
        source=event.source,
        tenant_id=event.tenant_id,
        time=ts,
        subject=event.subject,
        payload=event.payload,
    ).SerializeToString()
    headers = {
        "ce_specversion": "1.0",
        "ce_id": event.id,
        "ce_type": event.type,
        "ce_source": event.source,
        "ce_time": event.time.isoformat(),
        "ce_subject": event.subject,
        "ce_tenant": event.tenant_id,
        "content-type": CONTENT_TYPE,
    }
    propagate.inject(headers)  # W3C traceparent/tracestate of the current span
    return body, [(k, v.encode()) for k, v in headers.items()]


def decode(value: bytes) -> Event:
    env = envelope_pb2.Envelope()
    try:
        env.ParseFromString(value)
    except DecodeError as exc:
        raise MalformedEvent(f"not an Envelope: {exc}") from exc
    if not env.id or not env.type or not env.tenant_id:
        raise MalformedEvent("envelope lacks id, type or tenant_id")
    try:
        uuid.UUID(env.id)
    except ValueError as exc:
        raise MalformedEvent(f"envelope id {env.id!r} is not a UUID") from exc
    return Event(
        id=env.id,
        type=env.type,
        source=env.source,
        tenant_id=env.tenant_id,
        subject=env.subject,
        time=env.time.ToDatetime(tzinfo=UTC),
        payload=env.payload,
    )


def header_dict(headers: list[tuple[str, bytes]] | None) -> dict[str, str]:
    return {k: v.decode(errors="replace") for k, v in (headers or [])}


# Interview events that carry their booking's SEQUENCE (raised by every reschedule and cancellation): the
# version consumers apply them in (ConsumerSpec.ordered), so an older one never undoes a newer state.
_BOOKING_SEQUENCED: dict[str, type[Message]] = {
    "interview.scheduled": interview_pb2.InterviewScheduled,
    "interview.rescheduled": interview_pb2.InterviewScheduled,
    "interview.cancelled": interview_pb2.InterviewCancelled,
    "interview.reminder_due": interview_pb2.InterviewReminderDue,
}


def booking_sequence(event: Event) -> int:
    """The SEQUENCE of the booking an interview event is about."""
    return int(event.unpack(_BOOKING_SEQUENCED[event.type]).sequence)  # type: ignore[attr-defined]


def booking_order(types: Iterable[str]) -> dict[str, Callable[[Event], int]]:
    """For a consumer's ``ordered``: each of ``types`` that carries a booking SEQUENCE, read from it."""
    return {t: booking_sequence for t in types if t in _BOOKING_SEQUENCED}

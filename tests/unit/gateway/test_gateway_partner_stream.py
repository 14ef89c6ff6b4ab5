"""The partner event stream's pure parts: positions round-trip and refuse what the stream never gave out,
records are merged across partitions without reordering any one partition (so a stored position never
skips an unsent record), and only the tenant's own, public events pass."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest
from aiokafka import TopicPartition
from interloop.events.v1 import scorecard_pb2
from interloop_common import events
from interloop_common.errors import FieldViolations
from interloop_gateway.partner import stream

TOPICS = ("interloop.interview.v1", "interloop.scorecard.v1")


def _token(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_position_round_trips_and_is_opaque_url_safe_text() -> None:
    offsets = {
        TopicPartition(TOPICS[0], 0): 7,
        TopicPartition(TOPICS[0], 2): 0,
        TopicPartition(TOPICS[1], 1): 42,
    }
    token = stream.encode_position(offsets)
    assert token.isascii() and "=" not in token and "/" not in token and "+" not in token
    assert stream.decode_position(token, TOPICS) == offsets


@pytest.mark.parametrize(
    "token",
    [
        "not base64 at all!",
        stream.encode_position({TopicPartition("interloop.ats.v1", 0): 1}),  # a topic the stream never reads
        "W10",  # a JSON list
        _token({f"{TOPICS[0]}:0": -1}),  # a negative offset
        _token({f"{TOPICS[0]}:x": 1}),  # not a partition number
        "A" * (stream.MAX_POSITION_CHARS + 1),
    ],
)
def test_a_position_the_stream_never_gave_out_is_a_field_violation(token: str) -> None:
    with pytest.raises(FieldViolations) as bad:
        stream.decode_position(token, TOPICS)
    assert [f for f, _ in bad.value.violations] == ["position"]


def test_types_are_checked_against_the_public_ones() -> None:
    assert stream.check_types([]) == stream.PUBLIC_TYPES
    assert stream.check_types(["decision.recorded"]) == {"decision.recorded"}
    with pytest.raises(FieldViolations, match="interview.reminder_due"):
        stream.check_types(["interview.reminder_due"])  # internal: not for partners


def _rec(tp: TopicPartition, offset: int, timestamp: int) -> SimpleNamespace:
    return SimpleNamespace(topic=tp.topic, partition=tp.partition, offset=offset, timestamp=timestamp)


def test_partitions_merge_by_time_but_each_keeps_its_offset_order() -> None:
    a, b = TopicPartition(TOPICS[0], 0), TopicPartition(TOPICS[1], 0)
    # partition a's clock went backwards at offset 2: it still goes out after offset 1
    batch = {a: [_rec(a, 0, 10), _rec(a, 1, 30), _rec(a, 2, 20)], b: [_rec(b, 5, 15), _rec(b, 6, 25)]}
    order = [(tp.topic, r.offset) for tp, r in stream._by_time(batch)]  # type: ignore[arg-type]
    assert order == [(a.topic, 0), (b.topic, 5), (b.topic, 6), (a.topic, 1), (a.topic, 2)]
    for tp in (a, b):
        mine = [o for t, o in order if t == tp.topic]
        assert mine == sorted(mine)


def _record(tenant: str, type_: str, *, header_tenant: str | None = None) -> SimpleNamespace:
    event = events.new_event(
        type=type_,
        source="//interloop/scorecard",
        tenant_id=tenant,
        subject="s/1",
        payload=scorecard_pb2.DecisionRecorded(),
    )
    value, headers = events.encode(event)
    if header_tenant is not None:
        headers = [(k, header_tenant.encode() if k == "ce_tenant" else v) for k, v in headers]
    return SimpleNamespace(value=value, headers=headers, topic=TOPICS[1], offset=0)


def test_only_the_tenants_own_asked_for_events_pass() -> None:
    wanted = frozenset({"decision.recorded"})
    assert stream._public(_record("t1", "decision.recorded"), "t1", wanted) is not None  # type: ignore[arg-type]
    assert stream._public(_record("t2", "decision.recorded"), "t1", wanted) is None  # type: ignore[arg-type]
    assert stream._public(_record("t1", "scorecard.submitted"), "t1", wanted) is None  # type: ignore[arg-type]
    # a header claiming t1 on t2's envelope: the envelope decides
    forged = _record("t2", "decision.recorded", header_tenant="t1")
    assert stream._public(forged, "t1", wanted) is None  # type: ignore[arg-type]

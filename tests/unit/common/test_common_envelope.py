"""The Kafka envelope, CloudEvents headers, topic naming, redaction and cursors."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from interloop.events.v1 import interview_pb2
from interloop_common import kafka
from interloop_common.events import MalformedEvent, decode, encode, header_dict, new_event
from interloop_common.logging import redact
from interloop_common.rpc import FieldViolations, decode_cursor, encode_cursor, page_size


def test_envelope_round_trip_and_cloudevents_headers() -> None:
    payload = interview_pb2.InterviewCancelled(booking_id="b-1", reason="candidate withdrew", sequence=2)
    event = new_event(
        type="interview.cancelled",
        source="//interloop/scheduler",
        tenant_id="t1",
        subject="booking/b-1",
        payload=payload,
    )
    body, headers = encode(event)
    h = header_dict(headers)
    assert h["ce_specversion"] == "1.0" and h["ce_id"] == event.id and h["ce_type"] == "interview.cancelled"
    assert (
        h["ce_tenant"] == "t1"
        and h["ce_subject"] == "booking/b-1"
        and h["content-type"] == "application/protobuf"
    )
    back = decode(body)
    assert back.id == event.id and back.tenant_id == "t1" and back.time == event.time
    assert back.unpack(interview_pb2.InterviewCancelled) == payload
    with pytest.raises(MalformedEvent):
        back.unpack(interview_pb2.InterviewScheduled)


@pytest.mark.parametrize("value", [b"\xff\xfe not protobuf", b""])
def test_garbage_is_malformed(value: bytes) -> None:
    with pytest.raises(MalformedEvent):
        decode(value)


def test_topics_follow_families_and_prefix() -> None:
    try:
        assert kafka.topic_for("interview.scheduled") == "interloop.interview.v1"
        assert kafka.topic_for("decision.recorded") == "interloop.scorecard.v1"
        kafka.set_topic_prefix("t42.")
        assert kafka.topic_for("ats.application.stage_changed") == "t42.interloop.ats.v1"
        assert "t42.interloop.ats.v1.dlt" in kafka.all_topics()
        with pytest.raises(ValueError, match="families"):
            kafka.topic_for("weather.sunny")
    finally:
        kafka.set_topic_prefix("")


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        ("connecting to postgresql://svc:hunter2@db:5432/x", "hunter2"),
        ('payload {"api_key": "sk_live_123"}', "sk_live_123"),
        ("Authorization: Bearer-ish token=abc.def", "abc.def"),
        ("password=swordfish retry", "swordfish"),
    ],
)
def test_secrets_are_redacted_from_log_lines(line: str, secret: str) -> None:
    out = redact(line)
    assert secret not in out and "***" in out


@given(st.text(min_size=1, max_size=80))
def test_cursor_round_trip(value: str) -> None:
    assert decode_cursor(encode_cursor(value)) == value


def test_bad_cursor_and_page_size_name_the_field() -> None:
    with pytest.raises(FieldViolations) as bad:
        decode_cursor("%%%not-base64")
    assert bad.value.violations[0][0] == "page.page_token"
    with pytest.raises(FieldViolations):
        page_size(-1)
    assert page_size(0) == 50 and page_size(10_000) == 500


def test_event_ids_are_uuids() -> None:
    e = new_event(
        type="interview.completed",
        source="s",
        tenant_id="t",
        subject="x",
        payload=interview_pb2.InterviewCompleted(booking_id="b"),
    )
    assert uuid.UUID(e.id).version == 4

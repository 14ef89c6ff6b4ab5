"""The outbox relay's rounds against a scripted producer: every row ends published, quarantined or left
in the outbox with the failure, in seq order, and no record handed to the producer is ever abandoned."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    OutOfOrderSequenceNumber,
)
from interloop_common import kafka
from interloop_common.errors import Unavailable
from interloop_common.outbox import OutboxRelay


def _row(seq: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "id": f"id-{seq}",
        "tenant_id": "t",
        "topic": "interloop.interview.v1",
        "key": "t",
        "event_type": "interview.scheduled",
        "envelope": f"body-{seq}".encode(),
        "headers": "{}",
    }


class ScriptedProducer:
    """`send` hands back a future the test settles; `refuse` makes send() itself raise for a value."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.futures: dict[bytes, asyncio.Future[Any]] = {}
        self.refuse: dict[bytes, BaseException] = {}
        self.outcome: dict[bytes, BaseException | None] = {}
        self.pending_at_send: dict[bytes, int] = {}

    async def send(self, topic: str, value: bytes, key: bytes, headers: Any) -> asyncio.Future[Any]:
        if value in self.refuse:
            raise self.refuse[value]
        self.pending_at_send[value] = sum(not f.done() for f in self.futures.values())
        self.sent.append(value)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.futures[value] = future
        exc = self.outcome.get(value)
        asyncio.get_running_loop().call_later(0.01, _settle, future, exc)
        return future


def _settle(future: asyncio.Future[Any], exc: BaseException | None) -> None:
    if exc is None:
        future.set_result(object())
    else:
        future.set_exception(exc)


def _relay(producer: ScriptedProducer) -> OutboxRelay:
    return OutboxRelay(None, producer, service="test")  # type: ignore[arg-type]


async def test_every_row_acknowledged_is_published_in_order() -> None:
    producer = ScriptedProducer()
    done = await _relay(producer)._publish([_row(s) for s in (1, 2, 3)])  # type: ignore[list-item]
    assert done.published == [1, 2, 3] and not done.refused and done.failure is None
    assert producer.sent == [b"body-1", b"body-2", b"body-3"]


async def test_a_record_refused_before_it_leaves_is_quarantined_and_the_rest_go_on() -> None:
    producer = ScriptedProducer()
    producer.refuse[b"body-2"] = MessageSizeTooLargeError()
    done = await _relay(producer)._publish([_row(s) for s in (1, 2, 3)])  # type: ignore[list-item]
    assert done.published == [1, 3]
    assert [row["seq"] for row, _ in done.refused] == [2]
    assert done.failure is None


async def test_a_broker_away_stops_the_round_without_overtaking_and_keeps_what_was_acknowledged() -> None:
    producer = ScriptedProducer()
    producer.refuse[b"body-3"] = KafkaTimeoutError()
    done = await _relay(producer)._publish([_row(s) for s in (1, 2, 3, 4)])  # type: ignore[list-item]
    assert done.published == [1, 2]
    assert isinstance(done.failure, KafkaTimeoutError)
    assert b"body-4" not in producer.sent  # it would have overtaken 3
    assert not done.refused


async def test_slow_acknowledgements_are_waited_for_never_abandoned() -> None:
    producer = ScriptedProducer()
    rows = [_row(s) for s in (1, 2)]
    done = await _relay(producer)._publish(rows)  # type: ignore[arg-type]
    assert all(f.done() for f in producer.futures.values())
    assert done.published == [1, 2]


async def test_a_row_refused_with_its_batch_is_sent_alone_before_it_is_quarantined() -> None:
    producer = ScriptedProducer()
    relay = _relay(producer)
    rows = [_row(s) for s in (1, 2, 3)]
    # The broker refuses the batch holding 2; the producer then fails 3 (the sequence it left behind).
    producer.outcome = {b"body-2": MessageSizeTooLargeError(), b"body-3": OutOfOrderSequenceNumber()}
    first = await relay._publish(rows)  # type: ignore[arg-type]
    assert first.published == [1]
    assert not first.refused, "refused within a batch: not yet proof that the row itself is at fault"
    assert first.failure is not None

    producer.outcome = {b"body-2": MessageSizeTooLargeError()}
    second = await relay._publish(rows[1:])  # type: ignore[arg-type]
    assert [row["seq"] for row, _ in second.refused] == [2]
    assert second.published == [3]
    assert producer.pending_at_send[b"body-2"] == 0  # nothing else was in flight with it


async def test_a_suspect_that_goes_through_alone_is_published() -> None:
    producer = ScriptedProducer()
    relay = _relay(producer)
    producer.outcome = {b"body-1": MessageSizeTooLargeError()}
    await relay._publish([_row(1)])  # type: ignore[list-item]
    producer.outcome = {}
    done = await relay._publish([_row(1), _row(2)])  # type: ignore[list-item]
    assert done.published == [1, 2] and not done.refused


class FakeAIOKafkaProducer:
    made: list[FakeAIOKafkaProducer] = []

    def __init__(self, fail_with: BaseException | None, start_fails: int = 0) -> None:
        self.fail_with = fail_with
        self.start_fails = start_fails
        self.stopped = False
        self.sent = 0

    async def start(self) -> None:
        if self.start_fails:
            self.start_fails -= 1
            raise KafkaConnectionError("no broker")

    async def stop(self) -> None:
        self.stopped = True

    async def send(self, topic: str, value: Any = None, key: Any = None, headers: Any = None) -> Any:
        self.sent += 1
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if self.fail_with is None:
            loop.call_soon(future.set_result, "ok")
        else:
            loop.call_soon(future.set_exception, self.fail_with)
        return future


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> list[FakeAIOKafkaProducer]:
    made: list[FakeAIOKafkaProducer] = []
    plan = [OutOfOrderSequenceNumber(), None]

    def make(bootstrap: str, client_id: str) -> FakeAIOKafkaProducer:
        fake = FakeAIOKafkaProducer(plan.pop(0) if plan else None)
        made.append(fake)
        return fake

    monkeypatch.setattr(kafka, "make_producer", make)
    return made


async def test_sending_before_the_broker_ever_answered_is_unavailable(fakes) -> None:  # type: ignore[no-untyped-def]
    producer = kafka.Producer("127.0.0.1:1", "test")
    with pytest.raises(Unavailable):
        await producer.send("t", b"v")
    assert not fakes


async def test_a_producer_that_failed_a_record_is_replaced_and_sends_wait_for_the_new_one(fakes) -> None:  # type: ignore[no-untyped-def]
    producer = kafka.Producer("127.0.0.1:1", "test")
    await producer.connect()
    first = await producer.send("t", b"v")
    with pytest.raises(OutOfOrderSequenceNumber):
        await first
    second = await producer.send("t", b"v")  # waits for the replacement
    assert await second == "ok"
    assert producer.replacements == 1
    assert len(fakes) == 2 and fakes[1].sent == 1
    await asyncio.sleep(0)
    assert fakes[0].stopped
    await producer.stop()
    assert fakes[1].stopped


async def test_a_send_the_broker_is_away_for_does_not_replace_the_producer(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    made: list[FakeAIOKafkaProducer] = []

    class Away(FakeAIOKafkaProducer):
        async def send(self, topic: str, value: Any = None, key: Any = None, headers: Any = None) -> Any:
            raise KafkaTimeoutError()

    def make(bootstrap: str, client_id: str) -> FakeAIOKafkaProducer:
        made.append(Away(None))
        return made[-1]

    monkeypatch.setattr(kafka, "make_producer", make)
    producer = kafka.Producer("127.0.0.1:1", "test")
    await producer.connect()
    for _ in range(3):
        with pytest.raises(KafkaTimeoutError):
            await producer.send("t", b"v")
    assert len(made) == 1 and producer.replacements == 0
    await producer.stop()

"""A consumer waits out the platform and dead-letters only what the event itself makes fail: attempts
count handler and data errors only, however long the database or the broker was away before."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiokafka.errors import KafkaConnectionError
from interloop.events.v1 import interview_pb2
from interloop_common.events import Event, new_event
from interloop_common.inbox import InboxConsumer
from interloop_common.retry import Permanent


def _event() -> Event:
    return new_event(
        type="interview.cancelled",
        source="//test",
        tenant_id="t",
        subject="booking/b",
        payload=interview_pb2.InterviewCancelled(booking_id="b"),
    )


class Scripted(InboxConsumer):
    """`_apply` plays a script of outcomes; `_dead_letter` is recorded instead of sent."""

    def __init__(self, script: list[BaseException | None], max_attempts: int = 3) -> None:
        super().__init__(
            pool=None,  # type: ignore[arg-type]
            producer=None,  # type: ignore[arg-type]
            bootstrap_servers="127.0.0.1:1",
            service="test",
            group="g",
            topics=["t"],
            handlers={},
            max_attempts=max_attempts,
            backoff_initial=0.001,
            backoff_max=0.002,
        )
        self.script = list(script)
        self.calls = 0
        self.dead: list[tuple[str, int]] = []

    async def _apply(self, event: Event, handler: Any) -> str:
        self.calls += 1
        outcome = self.script.pop(0)
        if outcome is not None:
            raise outcome
        return "applied"

    async def _dead_letter(self, record: Any, event: Any, reason: str, attempts: int) -> None:
        self.dead.append((reason, attempts))


class Record:
    topic, partition, offset, key, value, headers = "t", 0, 7, b"t", b"", []


async def _handle(consumer: Scripted) -> None:
    await consumer._handle(Record(), _event(), None, 0.0)  # type: ignore[arg-type]


async def test_an_outage_longer_than_the_attempt_bound_is_waited_out_and_applied() -> None:
    away = [asyncpg.ConnectionDoesNotExistError("closed"), OSError("refused"), TimeoutError()] * 4
    consumer = Scripted([*away, None], max_attempts=3)
    await _handle(consumer)
    assert consumer.calls == len(away) + 1
    assert consumer.dead == []


async def test_only_handler_errors_count_toward_the_dead_letter() -> None:
    script: list[BaseException | None] = [
        ValueError("bad payload"),
        asyncpg.SerializationError("could not serialize"),
        asyncpg.CannotConnectNowError("starting up"),
        ValueError("bad payload"),
        KafkaConnectionError(),
        asyncpg.DeadlockDetectedError("deadlock"),
        ValueError("bad payload"),
    ]
    consumer = Scripted(script, max_attempts=3)
    await _handle(consumer)
    assert consumer.calls == len(script)  # every step of the script ran: infra errors did not stop it
    assert len(consumer.dead) == 1
    reason, attempts = consumer.dead[0]
    assert attempts == 3 and reason.startswith("ValueError")


async def test_a_permanent_error_is_dead_lettered_at_once() -> None:
    consumer = Scripted([OSError("blip"), Permanent("forged payload")], max_attempts=5)
    await _handle(consumer)
    assert consumer.calls == 2
    assert consumer.dead == [("Permanent: forged payload", 1)]

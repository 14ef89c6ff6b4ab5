"""Reading failures: which broker errors are waited out, which records can never be published, and which
consumer failures are the platform's (retried without limit) rather than the event's (dead-lettered)."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka.errors import (
    BrokerNotAvailableError,
    CommitFailedError,
    InvalidTopicError,
    KafkaConnectionError,
    KafkaTimeoutError,
    LeaderNotAvailableError,
    MessageSizeTooLargeError,
    NodeNotReadyError,
    NotEnoughReplicasError,
    NotLeaderForPartitionError,
    OutOfOrderSequenceNumber,
    RecordTooLargeError,
    RequestTimedOutError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)
from interloop_common.events import MalformedEvent
from interloop_common.inbox import infrastructure
from interloop_common.kafka import retriable, unpublishable, wait_out
from interloop_common.retry import Permanent

BROKER_AWAY = [
    KafkaConnectionError("connection refused"),
    KafkaTimeoutError(),
    NodeNotReadyError("node 1"),
    RequestTimedOutError(),
    NotLeaderForPartitionError(),
    LeaderNotAvailableError(),
    NotEnoughReplicasError(),
    BrokerNotAvailableError(),
    UnknownTopicOrPartitionError(),
    ConnectionRefusedError(111, "refused"),
    OSError("network unreachable"),
    TimeoutError(),
]
REFUSED_FOR_GOOD = [MessageSizeTooLargeError(), RecordTooLargeError(), InvalidTopicError()]
NEITHER = [
    OutOfOrderSequenceNumber(),  # the producer is replaced, the record is not at fault
    TopicAuthorizationFailedError(),  # an operator's fix, not a wait
    CommitFailedError("rebalanced"),
    ValueError("bug"),
]


@pytest.mark.parametrize("exc", BROKER_AWAY, ids=lambda e: type(e).__name__)
def test_broker_away_is_waited_out_and_never_quarantines(exc: BaseException) -> None:
    assert retriable(exc)
    assert not unpublishable(exc)


@pytest.mark.parametrize("exc", REFUSED_FOR_GOOD, ids=lambda e: type(e).__name__)
def test_a_refused_record_is_unpublishable_and_not_waited_for(exc: BaseException) -> None:
    assert unpublishable(exc)
    assert not retriable(exc)


@pytest.mark.parametrize("exc", NEITHER, ids=lambda e: type(e).__name__)
def test_other_errors_are_neither(exc: BaseException) -> None:
    assert not retriable(exc)
    assert not unpublishable(exc)


DATABASE_AWAY = [
    asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    asyncpg.PostgresConnectionError("connection failure"),
    asyncpg.InterfaceError("cannot perform operation: connection is closed"),
    asyncpg.SerializationError("could not serialize access"),
    asyncpg.DeadlockDetectedError("deadlock detected"),
    asyncpg.AdminShutdownError("terminating connection due to administrator command"),
    asyncpg.CannotConnectNowError("the database system is starting up"),
    asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    asyncpg.ReadOnlySQLTransactionError("cannot execute INSERT in a read-only transaction"),
    asyncpg.QueryCanceledError("canceling statement due to statement timeout"),
]


@pytest.mark.parametrize("exc", DATABASE_AWAY + BROKER_AWAY, ids=lambda e: type(e).__name__)
def test_the_platform_being_away_is_infrastructure(exc: BaseException) -> None:
    assert infrastructure(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("payload is InterviewCancelled"),
        KeyError("booking_id"),
        Permanent("forged"),
        MalformedEvent("not an envelope"),
        asyncpg.UniqueViolationError("duplicate key"),  # the data, not the database
        asyncpg.CheckViolationError("check constraint"),
        MessageSizeTooLargeError(),
        TopicAuthorizationFailedError(),
    ],
    ids=lambda e: type(e).__name__,
)
def test_handler_and_data_errors_are_not_infrastructure(exc: BaseException) -> None:
    assert not infrastructure(exc)


async def test_wait_out_retries_what_waiting_fixes_with_doubling_capped_waits() -> None:
    outcomes: list[BaseException | None] = [KafkaConnectionError()] * 5 + [None]
    waits: list[float] = []

    async def attempt() -> str:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return "started"

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    assert await wait_out("start", attempt, initial=1, maximum=5, sleep=sleep) == "started"
    assert waits == [1, 2, 4, 5, 5]


async def test_wait_out_raises_what_waiting_cannot_fix_at_once() -> None:
    calls = 0

    async def attempt() -> None:
        nonlocal calls
        calls += 1
        raise TopicAuthorizationFailedError()

    async def sleep(seconds: float) -> None:
        raise AssertionError("must not wait")

    with pytest.raises(TopicAuthorizationFailedError):
        await wait_out("start", attempt, sleep=sleep)
    assert calls == 1

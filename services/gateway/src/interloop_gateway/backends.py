"""gRPC clients of the backend services, created once per app and shared by controllers.

Every call's error names the backend that gave it (`BackendError.backend`), so a route whose backend is
down answers 503 problem+json saying which one, while the routes of the other backends keep working. The
backends' health is checked in the background (app.py) and reported by /readyz and /healthz/backends; it
never decides this pod's readiness.

While a request with an Idempotency-Key is served (`carrying`), every backend call carries a key derived
from it (gRPC metadata `idempotency-key`, numbered per RPC), which the backend records in its own
transaction (interloop_common.idempotency): a retry after a timeout that came after the backend committed
gets the first answer instead of running twice."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from interloop.scheduler.v1 import scheduler_pb2_grpc
from interloop.scorecard.v1 import scorecard_pb2_grpc
from interloop.sync.v1 import sync_pb2_grpc
from interloop_common.grpc_server import channel
from interloop_common.idempotency import METADATA

from interloop_gateway.settings import GatewaySettings

UNKNOWN = "UNKNOWN"  # not checked yet


class BackendError(grpc.aio.AioRpcError):
    """A backend's error status, as grpc.aio raised it, with the name of the backend that answered."""

    def __init__(self, backend: str, exc: grpc.aio.AioRpcError) -> None:
        super().__init__(
            exc.code(),
            exc.initial_metadata(),
            exc.trailing_metadata(),
            exc.details(),
            exc.debug_error_string(),
        )
        self.backend = backend


@dataclass
class _CallKey:
    base: str
    calls: dict[str, int] = field(default_factory=dict)

    def next(self, method: str) -> str:
        # the n-th call of one RPC in a request: two calls of it stay two, the same on every retry
        n = self.calls[method] = self.calls.get(method, 0) + 1
        return f"{self.base}.{n}"


_call_key: contextvars.ContextVar[_CallKey | None] = contextvars.ContextVar(
    "interloop_backend_call_key", default=None
)


@contextlib.contextmanager
def carrying(key: str) -> Iterator[None]:
    """Backend calls made inside carry `key` (numbered per RPC) as their idempotency key."""
    token = _call_key.set(_CallKey(key))
    try:
        yield
    finally:
        _call_key.reset(token)


class _Named:
    """A backend's stub whose calls raise BackendError (still an AioRpcError) naming the backend."""

    def __init__(self, backend: str, stub: object) -> None:
        self._backend = backend
        self._stub = stub

    def __getattr__(self, method: str) -> Callable[..., Coroutine[Any, Any, Any]]:
        rpc = getattr(self._stub, method)
        backend = self._backend

        async def call(*args: Any, **kwargs: Any) -> Any:
            key = _call_key.get()
            if key is not None:
                kwargs["metadata"] = (*(kwargs.get("metadata") or ()), (METADATA, key.next(method)))
            try:
                return await rpc(*args, **kwargs)
            except grpc.aio.AioRpcError as exc:
                raise BackendError(backend, exc) from None

        return call


@dataclass
class Backends:
    channels: dict[str, grpc.aio.Channel]
    scheduler: scheduler_pb2_grpc.SchedulerServiceStub
    scorecard: scorecard_pb2_grpc.ScorecardServiceStub
    sync: sync_pb2_grpc.SyncServiceStub
    # what each backend's gRPC health answered at the last check (SERVING, or what answered instead)
    last: dict[str, str] = field(default_factory=dict)

    @classmethod
    def connect(cls, settings: GatewaySettings) -> Backends:
        d = settings.rpc_deadline_seconds
        chans = {
            "scheduler": channel(settings.scheduler_target, deadline_seconds=d),
            "scorecard": channel(settings.scorecard_target, deadline_seconds=d),
            "sync": channel(settings.sync_target, deadline_seconds=d),
        }
        return cls(
            channels=chans,
            scheduler=cast(
                scheduler_pb2_grpc.SchedulerServiceStub,
                _Named("scheduler", scheduler_pb2_grpc.SchedulerServiceStub(chans["scheduler"])),
            ),
            scorecard=cast(
                scorecard_pb2_grpc.ScorecardServiceStub,
                _Named("scorecard", scorecard_pb2_grpc.ScorecardServiceStub(chans["scorecard"])),
            ),
            sync=cast(
                sync_pb2_grpc.SyncServiceStub, _Named("sync", sync_pb2_grpc.SyncServiceStub(chans["sync"]))
            ),
            last=dict.fromkeys(chans, UNKNOWN),
        )

    async def health(self, timeout: float) -> dict[str, str]:  # noqa: ASYNC109 - a gRPC deadline
        """Every backend's gRPC health now (checked at once, each within `timeout`); kept as `last`."""

        async def check(ch: grpc.aio.Channel) -> str:
            try:
                resp = await health_pb2_grpc.HealthStub(ch).Check(
                    health_pb2.HealthCheckRequest(), timeout=timeout
                )
            except grpc.aio.AioRpcError as exc:
                return exc.code().name
            return health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)

        names = list(self.channels)
        answers = await asyncio.gather(*(check(self.channels[n]) for n in names))
        self.last = dict(zip(names, answers, strict=True))
        return dict(self.last)

    async def close(self) -> None:
        for ch in self.channels.values():
            await ch.close()

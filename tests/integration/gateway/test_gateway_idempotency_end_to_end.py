"""Idempotency end to end (issue 14 item 4): the gateway carries a request's Idempotency-Key to the backend,
which records it in the transaction of its own change, so a retry after the gateway timed out once the
backend had committed returns the first answer instead of making a second record.

The timeout is real: a relay between a gateway pod and the session's scorecard service passes every call
through but drops the scorecard's answers while stalled, so the call commits and the gateway's deadline
runs out (504). Then, straight on the backend's gRPC API: two attempts racing with one key make one record,
one key with another request is refused, and a failed attempt leaves its key free (real PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from interloop.scorecard.v1 import scorecard_pb2 as pb
from interloop.scorecard.v1 import scorecard_pb2_grpc
from interloop_cli.demo import create_api_key
from interloop_common.idempotency import METADATA
from interloop_devstack.testing import ServiceSet, eventually, rows

from .conftest import GatewayPod

pytestmark = pytest.mark.integration

TEMPLATE = {
    "job_id": "3485",
    "round": "Onsite",
    "dimensions": [{"key": "coding", "name": "Coding", "scale": {"kind": "numeric", "min": 1, "max": 5}}],
}


class Relay:
    """A TCP relay to a backend's port. While `stalled`, what the backend answers never reaches the caller
    (the backend still receives and runs every call); `cut` closes every connection it carries."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stalled = False
        self.dropped = 0  # bytes of answers that never arrived
        self._links: list[asyncio.StreamWriter] = []

    async def _pipe(self, caller_r: asyncio.StreamReader, caller_w: asyncio.StreamWriter) -> None:
        try:
            backend_r, backend_w = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            caller_w.close()
            return
        self._links += [caller_w, backend_w]

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, answers: bool) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    if answers and self.stalled:
                        self.dropped += len(data)
                        continue
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(caller_r, backend_w, False), pump(backend_r, caller_w, True))

    def cut(self) -> None:
        for w in self._links:
            w.close()
        self._links.clear()

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[int]:
        server = await asyncio.start_server(self._pipe, "127.0.0.1", 0)
        try:
            yield server.sockets[0].getsockname()[1]
        finally:
            self.cut()
            server.close()


async def templates_of(platform: ServiceSet, tenant: str) -> list[str]:
    found = await rows(platform.dsns["scorecard"], "SELECT id FROM templates WHERE tenant_id = $1", tenant)
    return [str(r["id"]) for r in found]


async def test_a_retry_after_a_timeout_past_the_commit_returns_the_first_record(
    platform: ServiceSet, gateway_pod: GatewayPod
) -> None:
    relay = Relay(platform.ports.grpc["scorecard"])
    async with relay.serving() as relay_port:
        pod = gateway_pod(
            scorecard_target=f"127.0.0.1:{relay_port}",
            rpc_deadline_seconds="2",  # how long the gateway waits for an answer
        )
        await asyncio.to_thread(pod.start)
        try:
            tenant = f"idem-{uuid.uuid4().hex[:8]}"
            key = await create_api_key(
                pod.dsns["gateway"], tenant_id=tenant, key=f"il_{tenant}", scopes=("admin",)
            )
            headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"tpl-{uuid.uuid4().hex}"}
            async with httpx.AsyncClient(base_url=pod.base_url, headers=headers, timeout=30) as api:
                relay.stalled = True
                lost = await api.post("/v1/scorecard-templates", json=TEMPLATE)
                assert lost.status_code == 504, lost.text
                assert lost.headers["content-type"].startswith("application/problem+json")
                assert lost.json()["backend"] == "scorecard", lost.text
                assert lost.json()["grpc_status"] == "DEADLINE_EXCEEDED", lost.text
                # the scorecard had committed: its answer was lost on the way
                assert relay.dropped > 0
                (first,) = await templates_of(platform, tenant)

                relay.cut()  # the dropped answers broke those connections; new ones are whole
                relay.stalled = False

                async def retried() -> httpx.Response | None:
                    r = await api.post("/v1/scorecard-templates", json=TEMPLATE)
                    assert r.status_code in (201, 503), r.text  # 503 while the channel reconnects
                    return r if r.status_code == 201 else None

                again = await eventually(retried, what="the retry through the mended relay")
                assert again.json()["id"] == first
                assert "idempotent-replayed" not in again.headers  # the backend's answer, not the gateway's
                assert await templates_of(platform, tenant) == [first]  # no second record

                replayed = await api.post("/v1/scorecard-templates", json=TEMPLATE)
                assert replayed.headers["idempotent-replayed"] == "true" and replayed.json()["id"] == first
                other = await api.post(
                    "/v1/scorecard-templates", json=TEMPLATE, headers={"Idempotency-Key": "another"}
                )
                assert other.status_code == 201 and other.json()["id"] != first
                assert sorted(await templates_of(platform, tenant)) == sorted([first, other.json()["id"]])
        finally:
            await asyncio.to_thread(pod.stop)


def _create(tenant: str, round_: str = "Onsite") -> pb.CreateTemplateRequest:
    return pb.CreateTemplateRequest(
        tenant_id=tenant,
        job_id="3485",
        round=round_,
        created_by="hm",
        dimensions=[
            pb.Dimension(key="coding", name="Coding", scale_kind="numeric", scale_min=1, scale_max=5)
        ],
    )


async def test_the_backend_runs_a_keyed_call_once(platform: ServiceSet) -> None:
    tenant = f"idem-{uuid.uuid4().hex[:8]}"
    async with grpc.aio.insecure_channel(platform.target("scorecard")) as ch:
        stub = scorecard_pb2_grpc.ScorecardServiceStub(ch)
        keyed = [(METADATA, "k-race")]
        a, b = await asyncio.gather(
            stub.CreateTemplate(_create(tenant), metadata=keyed, timeout=30),
            stub.CreateTemplate(_create(tenant), metadata=keyed, timeout=30),
        )
        assert a.template.id == b.template.id  # the second waited for the first and got its answer
        assert await templates_of(platform, tenant) == [a.template.id]

        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.CreateTemplate(_create(tenant, "Final"), metadata=keyed, timeout=30)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert METADATA in (refused.value.details() or "")

        failing = [(METADATA, "k-fails-first")]
        bad = _create(tenant, "Phone")
        bad.dimensions[0].scale_max = 0  # refused by the use case, inside the keyed transaction
        with pytest.raises(grpc.aio.AioRpcError) as invalid:
            await stub.CreateTemplate(bad, metadata=failing, timeout=30)
        assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        fixed = await stub.CreateTemplate(_create(tenant, "Phone"), metadata=failing, timeout=30)
        assert sorted(await templates_of(platform, tenant)) == sorted([a.template.id, fixed.template.id])

        plain = [await stub.CreateTemplate(_create(tenant, "Plain"), timeout=30) for _ in range(2)]
        assert plain[0].template.id != plain[1].template.id  # without a key, each call runs


async def test_sync_runs_a_keyed_call_once(platform: ServiceSet) -> None:
    from interloop.sync.v1 import sync_pb2, sync_pb2_grpc

    tenant = f"idem-sync-{uuid.uuid4().hex[:8]}"

    def hold(reason: str = "litigation") -> sync_pb2.PlaceLegalHoldRequest:
        return sync_pb2.PlaceLegalHoldRequest(
            tenant_id=tenant, scope="job", subject="3485", reason=reason, placed_by="legal@acme.test"
        )

    async with grpc.aio.insecure_channel(platform.target("sync")) as ch:
        stub = sync_pb2_grpc.SyncServiceStub(ch)
        keyed = [(METADATA, "k-hold")]
        a, b = await asyncio.gather(
            stub.PlaceLegalHold(hold(), metadata=keyed, timeout=30),
            stub.PlaceLegalHold(hold(), metadata=keyed, timeout=30),
        )
        assert a.hold.id == b.hold.id

        async def holds() -> list[str]:
            found = await stub.ListLegalHolds(sync_pb2.ListLegalHoldsRequest(tenant_id=tenant), timeout=30)
            return [h.id for h in found.holds]

        assert await holds() == [a.hold.id]
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.PlaceLegalHold(hold("another matter"), metadata=keyed, timeout=30)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION

        # A release retried under its key gets the first answer, not "no active legal hold".
        release = sync_pb2.ReleaseLegalHoldRequest(
            tenant_id=tenant, hold_id=a.hold.id, released_by="legal@acme.test"
        )
        first = await stub.ReleaseLegalHold(release, metadata=[(METADATA, "k-release")], timeout=30)
        again = await stub.ReleaseLegalHold(release, metadata=[(METADATA, "k-release")], timeout=30)
        assert first == again
        with pytest.raises(grpc.aio.AioRpcError) as gone:
            await stub.ReleaseLegalHold(release, timeout=30)  # unkeyed: it runs, and there is no hold
        assert gone.value.code() == grpc.StatusCode.NOT_FOUND

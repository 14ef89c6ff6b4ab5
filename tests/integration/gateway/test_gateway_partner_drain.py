"""A gateway pod that drains (SIGTERM on a rollout) ends its open partner event streams with UNAVAILABLE
and a reason, so clients reconnect to another pod with their stored position — rather than hanging until
the grace period cuts the connection."""

from __future__ import annotations

import asyncio
import signal
import uuid

import grpc
import pytest
from interloop.partner.v1 import partner_pb2 as pb
from interloop.partner.v1 import partner_pb2_grpc
from interloop_cli.demo import create_api_key

pytestmark = pytest.mark.integration


async def test_a_draining_gateway_ends_its_streams_unavailable(gateway_pod) -> None:  # type: ignore[no-untyped-def]
    pod = gateway_pod(
        partner_heartbeat_seconds="0.5",
        shutdown_grace_seconds="20",  # longer than the stream may take to end
    )
    await asyncio.to_thread(pod.start)
    try:
        tenant = f"drain-{uuid.uuid4().hex[:6]}"
        key = await create_api_key(
            pod.dsns["gateway"], tenant_id=tenant, key=f"il_{tenant}", scopes=("partner",)
        )
        async with grpc.aio.insecure_channel(pod.target("gateway")) as ch:
            call = partner_pb2_grpc.PartnerServiceStub(ch).SubscribeEvents(
                pb.SubscribeEventsRequest(), metadata=[("authorization", f"Bearer {key}")]
            )
            beats = 0
            with pytest.raises(grpc.aio.AioRpcError) as ended:
                async for item in call:
                    assert item.HasField("heartbeat") and item.position
                    beats += 1
                    if beats == 2:  # heartbeats keep an idle stream alive; now the pod is told to go
                        pod.procs["gateway"].proc.send_signal(signal.SIGTERM)
            assert beats >= 2
            assert ended.value.code() == grpc.StatusCode.UNAVAILABLE, ended.value
            # the drain's own answer (the grace running out would cut the connection without this reason)
            assert "draining" in (ended.value.details() or "") and "reconnect" in ended.value.details()
        assert pod.procs["gateway"].proc.wait(timeout=30) == 0
    finally:
        pod.stop()

"""One trace crosses REST -> gRPC -> Kafka: the gateway's request, the scheduler's RPC and the scorecard
consumer's span share a trace id, exported over real OTLP (HTTP/protobuf, the spec's default) to a local
collector."""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from interloop_cli.demo import create_api_key
from interloop_devstack.testing import ServiceSet, eventually
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP trace receiver: POST /v1/traces with an ExportTraceServiceRequest body."""

    spans: dict[str, list[tuple[str, str]]] = defaultdict(list)  # trace id -> [(service, span name)]

    def do_POST(self) -> None:  # noqa: N802
        request = trace_service_pb2.ExportTraceServiceRequest()
        request.ParseFromString(self.rfile.read(int(self.headers["Content-Length"])))
        for rs in request.resource_spans:
            service = next(
                (a.value.string_value for a in rs.resource.attributes if a.key == "service.name"), "?"
            )
            for ss in rs.scope_spans:
                for span in ss.spans:
                    self.spans[span.trace_id.hex()].append((service, span.name))
        body = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


RPC = ("interloop-scheduler", "/interloop.scheduler.v1.SchedulerService/ScheduleInterview")


async def test_trace_crosses_rest_grpc_kafka(infra, tmp_path) -> None:  # type: ignore[no-untyped-def]
    collector = Collector
    server = ThreadingHTTPServer(("127.0.0.1", 0), Collector)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    services = ServiceSet(infra, tmp_path, ("scheduler", "scorecard", "sync", "gateway"))
    for proc in services.procs.values():
        proc.env.update(
            {
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
                "OTEL_BSP_SCHEDULE_DELAY": "200",
            }
        )
    try:
        await asyncio.to_thread(services.start, "scheduler", "scorecard", "sync")
        await asyncio.to_thread(services.start, "gateway")
        key = await create_api_key(services.dsns["gateway"], tenant_id="traced", key="il_traced")
        async with httpx.AsyncClient(
            base_url=services.base_url, headers={"Authorization": f"Bearer {key}"}
        ) as c:
            await c.post("/v1/interviewers", json={"id": "tess", "email": "t@x.test", "time_zone": "UTC"})
            r = await c.post(
                "/v1/interviews",
                json={
                    "candidate_id": "c",
                    "interviewer_ids": ["tess"],
                    "start": "2027-02-01T10:00:00Z",
                    "end": "2027-02-01T11:00:00Z",
                },
            )
            assert r.status_code == 201

        def crossing() -> list[tuple[str, str]] | None:
            for spans in collector.spans.values():
                services_seen = {s for s, _ in spans}
                if {
                    "interloop-gateway",
                    "interloop-scheduler",
                    "interloop-scorecard",
                } <= services_seen and any(name == "consume interview.scheduled" for _, name in spans):
                    # a parent span is exported when it ends, after its children: wait for the RPC's own
                    if RPC in spans:
                        return spans
            return None

        spans = await eventually(crossing, what="a trace across gateway -> scheduler -> Kafka -> scorecard")
        assert RPC in spans
    finally:
        await asyncio.to_thread(services.stop)
        server.shutdown()

"""A backend's error status through the REST API: the stubs' errors name the backend that answered, and a
backend that is down (UNAVAILABLE) or slow (DEADLINE_EXCEEDED) is 503 / 504 problem+json naming it, with
Retry-After; a refusal (NOT_FOUND, INVALID_ARGUMENT) keeps its own status and details."""

from __future__ import annotations

import grpc
import pytest
from interloop_gateway import problems
from interloop_gateway.backends import BackendError, _Named
from litestar import Litestar, get
from litestar.testing import TestClient


class _Stub:
    """A generated stub's shape: each RPC is a callable returning an awaitable that raises."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self.code, self.details = code, details

    def ListTemplates(self, request: object) -> object:  # noqa: N802 - an RPC name
        async def fail() -> None:
            raise grpc.aio.AioRpcError(self.code, None, None, details=self.details)

        return fail()


def _client(code: grpc.StatusCode, details: str) -> TestClient:
    stub = _Named("scorecard", _Stub(code, details))

    @get("/templates")
    async def templates() -> dict:
        await stub.ListTemplates(object())
        return {}

    return TestClient(Litestar([templates], plugins=[problems.plugin()]))


async def test_a_stub_error_names_its_backend_and_stays_an_aio_rpc_error() -> None:
    stub = _Named("scorecard", _Stub(grpc.StatusCode.NOT_FOUND, "no template t1"))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ListTemplates(object())
    assert isinstance(raised.value, BackendError) and raised.value.backend == "scorecard"
    assert (raised.value.code(), raised.value.details()) == (grpc.StatusCode.NOT_FOUND, "no template t1")


@pytest.mark.parametrize(
    ("code", "status", "kind", "what"),
    [
        (grpc.StatusCode.UNAVAILABLE, 503, "backend-unavailable", "is unavailable"),
        (grpc.StatusCode.DEADLINE_EXCEEDED, 504, "backend-timeout", "did not answer in time"),
        (grpc.StatusCode.INTERNAL, 502, "backend-failed", "failed"),
    ],
)
def test_a_backend_down_or_slow_is_problem_json_naming_it(
    code: grpc.StatusCode, status: int, kind: str, what: str
) -> None:
    with _client(code, "connect: connection refused (10.0.0.7:50062)") as client:
        r = client.get("/templates")
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["retry-after"] == str(problems.BACKEND_RETRY_AFTER_SECONDS)
    body = r.json()
    assert body["type"] == f"https://interloop.dev/problems/{kind}"
    assert body["detail"] == f"the scorecard service {what} ({code.name}); retry later"
    assert body["backend"] == "scorecard" and body["grpc_status"] == code.name
    assert "10.0.0.7" not in r.text  # the backend's insides stay in the log


def test_a_backend_refusal_keeps_its_status_and_details() -> None:
    with _client(grpc.StatusCode.NOT_FOUND, "no template t1") as client:
        r = client.get("/templates")
    assert r.status_code == 404 and r.json()["detail"] == "no template t1"
    assert "retry-after" not in r.headers and "backend" not in r.json()

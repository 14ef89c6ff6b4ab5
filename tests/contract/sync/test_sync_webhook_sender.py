"""The fakes' signed-webhook sender produces deliveries the sync domain verifies, over real HTTP."""

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest
from interloop_fakes.ats import FakeVendor, deliver, sign_greenhouse, sign_lever
from interloop_sync.domain.normalise import parse_body
from interloop_sync.domain.signatures import ForgedSignature
from interloop_sync.vendors.greenhouse import verify_greenhouse
from interloop_sync.vendors.lever import normalise, verify_lever
from litestar import Request, Response, post


class Receiver(FakeVendor):
    provider = "receiver"

    def routes(self) -> list[Any]:
        @post("/webhooks/{provider:str}")
        async def receive(request: Request, provider: str) -> Response:
            self._record_write(request, await request.body())
            return Response(content=b"", status_code=200)

        return [receive]


@pytest.fixture(scope="module")
def receiver():  # type: ignore[no-untyped-def]
    with Receiver() as r:
        yield r


def test_greenhouse_delivery_verifies_on_raw_bytes(receiver: Receiver) -> None:
    body = '{"action":"ping","payload":{"note":"\\u003cp\\u003e"}}'
    assert (
        deliver(f"{receiver.base_url}/webhooks/greenhouse", sign_greenhouse(body, "s3", "evt-1")).status_code
        == 200
    )
    got = receiver.writes_to("/webhooks/greenhouse")[-1]
    verified = verify_greenhouse("s3", got.headers, got.body)
    assert verified.delivery_id == f"greenhouse:sha256:{hashlib.sha256(got.body).hexdigest()}"
    assert verified.label == "evt-1"
    with pytest.raises(ForgedSignature):
        verify_greenhouse("other", got.headers, got.body)


def test_lever_delivery_verifies_and_normalises(receiver: Receiver) -> None:
    data = {"opportunityId": "o-1", "contactId": "c-1", "toStageId": "s-2", "fromStageId": "s-1"}
    signed = sign_lever("candidateStageChange", data, "lever-token")
    deliver(f"{receiver.base_url}/webhooks/lever", signed)
    got = receiver.writes_to("/webhooks/lever")[-1]
    verified = verify_lever("lever-token", got.body, now=datetime.now(UTC))
    (event,) = normalise(parse_body("lever", got.body), event_id=verified.delivery_id)
    assert event.application_id == "o-1" and event.from_stage.remote_id == "s-1"

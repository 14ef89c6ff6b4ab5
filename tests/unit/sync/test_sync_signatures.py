"""Webhook signature verification against the vendors' published vectors (vendor-contracts Appendix A)."""

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from interloop_fakes.examples import EXAMPLES
from interloop_sync.domain.signatures import (
    ForgedSignature,
    MalformedSignature,
    SignatureFailure,
    StaleSignature,
    UnverifiableBody,
)
from interloop_sync.vendors import registry
from interloop_sync.vendors.greenhouse import greenhouse_signature, verify_greenhouse
from interloop_sync.vendors.lever import lever_signature, verify_lever

FIXTURES = EXAMPLES
GH_SECRET = "1uSUju2H6AohOE7OQVaxeLT3O8Uxxuas"  # noqa: S105 - published test vector
GH_SIGNATURE = "sha256 395b1309fd37f0732d1ed11c15e03edd61b818918df6bf93be7c71bafb09c877"
LV_KEY = "example-lever-signature-token"
LV_SIGNATURE = "b63b1b6cb2860f26ea0e435cbd217c165b93170c45776662b90906bdbdc02e70"
LV_TRIGGERED = datetime.fromtimestamp(1431454330072 / 1000, tz=UTC)


@pytest.fixture(scope="module")
def ping_body() -> bytes:
    return (FIXTURES / "greenhouse" / "f-gh-15-ping.json").read_bytes()


def lever_body(signature: str = LV_SIGNATURE) -> bytes:
    envelope = json.loads((FIXTURES / "lever" / "f-lv-03-candidateStageChange.json").read_bytes())
    envelope["signature"] = signature
    return json.dumps(envelope).encode()


def test_greenhouse_real_delivery_verifies(ping_body: bytes) -> None:
    result = verify_greenhouse(
        GH_SECRET, {"signature": GH_SIGNATURE, "Greenhouse-Event-ID": "e-1"}, ping_body
    )
    assert result.delivery_id == f"greenhouse:sha256:{hashlib.sha256(ping_body).hexdigest()}"
    assert result.label == "e-1"
    assert greenhouse_signature(GH_SECRET, ping_body) == GH_SIGNATURE


def test_greenhouse_replay_under_a_new_event_id_has_the_same_delivery_id(ping_body: bytes) -> None:
    # The event-id header is not signed: a replayed body must dedupe whatever header it carries.
    first = verify_greenhouse(GH_SECRET, {"Signature": GH_SIGNATURE, "Greenhouse-Event-ID": "e-1"}, ping_body)
    replay = verify_greenhouse(
        GH_SECRET, {"Signature": GH_SIGNATURE, "Greenhouse-Event-ID": "e-2"}, ping_body
    )
    assert first.delivery_id == replay.delivery_id and first.label != replay.label


def test_greenhouse_reserialised_body_is_forged(ping_body: bytes) -> None:
    pretty = json.dumps(json.loads(ping_body), indent=2, sort_keys=True).encode()
    with pytest.raises(ForgedSignature) as err:
        verify_greenhouse(GH_SECRET, {"Signature": GH_SIGNATURE}, pretty)
    assert err.value.kind is SignatureFailure.FORGED


def test_greenhouse_unicode_escapes_are_signed_as_sent() -> None:
    body = b'{"action":"ping","payload":{"note":"\\u003cp\\u003ehello\\u003c/p\\u003e"}}'
    header = greenhouse_signature("s3cret", body)
    verify_greenhouse("s3cret", {"Signature": header}, body)
    decoded_again = json.dumps(json.loads(body)).encode()
    with pytest.raises(ForgedSignature):
        verify_greenhouse("s3cret", {"Signature": header}, decoded_again)


@pytest.mark.parametrize(
    "headers",
    [{}, {"Signature": "sha1 abc"}, {"Signature": "sha256 nothex"}, {"Signature": "sha256"}],
    ids=["missing", "wrong-algorithm", "not-hex", "no-digest"],
)
def test_greenhouse_malformed_header(ping_body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(MalformedSignature) as err:
        verify_greenhouse(GH_SECRET, headers, ping_body)
    assert err.value.reason


def test_greenhouse_wrong_secret_is_forged(ping_body: bytes) -> None:
    with pytest.raises(ForgedSignature):
        verify_greenhouse("not-the-secret", {"Signature": GH_SIGNATURE}, ping_body)


def test_lever_derived_vector_verifies_when_fresh() -> None:
    assert (
        lever_signature(LV_KEY, "be58f711f349c7780e4579cd7c63341ac6f881e4dccc3154", 1431454330072)
        == LV_SIGNATURE
    )
    result = verify_lever(LV_KEY, lever_body(), now=LV_TRIGGERED + timedelta(seconds=30))
    assert result.triggered_at == LV_TRIGGERED
    assert result.delivery_id == "lever:token:be58f711f349c7780e4579cd7c63341ac6f881e4dccc3154"


def test_lever_stale_and_future_deliveries_rejected() -> None:
    with pytest.raises(StaleSignature):
        verify_lever(LV_KEY, lever_body(), now=LV_TRIGGERED + timedelta(hours=1))
    with pytest.raises(StaleSignature):
        verify_lever(LV_KEY, lever_body(), now=LV_TRIGGERED - timedelta(hours=1))


def test_lever_forged_signature_and_key() -> None:
    with pytest.raises(ForgedSignature):
        verify_lever(LV_KEY, lever_body("0" * 64), now=LV_TRIGGERED)
    with pytest.raises(ForgedSignature):
        verify_lever("other-token", lever_body(), now=LV_TRIGGERED)


def test_lever_published_placeholder_signature_never_verifies() -> None:
    body = (FIXTURES / "lever" / "f-lv-01-test_request.json").read_bytes()
    with pytest.raises(MalformedSignature):
        verify_lever(LV_KEY, body, now=datetime(2015, 5, 12, 19, 14, tzinfo=UTC))


@pytest.mark.parametrize(
    ("body", "unverifiable"),
    [
        ((FIXTURES / "lever" / "f-lv-02-candidateStageChange.malformed.txt").read_bytes(), True),
        (b"[]", True),
        (b'{"token": "t", "triggeredAt": "1431454330072", "signature": "' + b"a" * 64 + b'"}', False),
        (b'{"token": "t", "triggeredAt": true, "signature": "' + b"a" * 64 + b'"}', False),
        (b'{"triggeredAt": 1, "signature": "' + b"a" * 64 + b'"}', False),
        (b'{"token": "t", "triggeredAt": 1}', False),
    ],
    ids=["published-invalid-json", "array", "string-ts", "bool-ts", "no-token", "no-signature"],
)
def test_lever_malformed_bodies(body: bytes, unverifiable: bool) -> None:
    with pytest.raises(MalformedSignature) as err:
        verify_lever(LV_KEY, body, now=LV_TRIGGERED)
    # A body that is no JSON object cannot be authenticated at all: quarantined rather than refused.
    assert isinstance(err.value, UnverifiableBody) is unverifiable


def delivery_id(provider: str, headers: dict[str, str], body: bytes) -> str:
    return registry.ats(provider).delivery_id(headers, body)


def test_delivery_id_falls_back_to_body_hash() -> None:
    a = delivery_id("greenhouse", {}, b"{}")
    assert a.startswith("greenhouse:sha256:") and a == delivery_id("greenhouse", {"X": "y"}, b"{}")
    assert a != delivery_id("greenhouse", {}, b"{ }")
    assert delivery_id("lever", {}, b"not json").startswith("lever:sha256:")

"""The one vendor-HTTP policy: transient retried with backoff, rate limits wait Retry-After, permanent
refusals (a 401) tried once."""

from __future__ import annotations

import httpx
import pytest
from interloop_common import retry
from interloop_common.vendor_http import (
    AuthFailed,
    Permanent,
    RateLimited,
    Transient,
    ValidationFailed,
    send,
    with_retries,
)


def _client(statuses: list[int], headers: dict[str, str] | None = None) -> tuple[httpx.AsyncClient, list]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = statuses[min(len(seen) - 1, len(statuses) - 1)]
        body = {"errors": [{"field": "email", "message": "is invalid"}]} if status == 422 else {"ok": 1}
        return httpx.Response(status, json=body, headers=headers if status == 429 else None)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), seen


async def _no_sleep(seconds: float) -> None:
    _no_sleep.waits.append(seconds)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _waits() -> None:
    _no_sleep.waits = []  # type: ignore[attr-defined]


async def test_a_401_is_tried_once_and_is_permanent_for_every_retry_policy() -> None:
    client, seen = _client([401])
    with pytest.raises(AuthFailed) as caught:
        await with_retries(lambda: send("lever", client, "GET", "https://x/o"), attempts=4, sleep=_no_sleep)
    assert len(seen) == 1 and _no_sleep.waits == []  # type: ignore[attr-defined]
    assert isinstance(caught.value, retry.Permanent)  # the consumer's policy does not retry it either


async def test_transient_is_retried_then_succeeds() -> None:
    client, seen = _client([503, 502, 200])
    response = await with_retries(
        lambda: send("gh", client, "GET", "https://x/a"), attempts=4, initial=0.01, sleep=_no_sleep
    )
    assert response.status_code == 200 and len(seen) == 3 and len(_no_sleep.waits) == 2  # type: ignore[attr-defined]


async def test_rate_limit_waits_what_the_vendor_asked_bounded() -> None:
    client, seen = _client([429, 200], headers={"Retry-After": "7"})
    await with_retries(lambda: send("gh", client, "GET", "https://x/a"), attempts=3, sleep=_no_sleep)
    assert _no_sleep.waits == [7.0]  # type: ignore[attr-defined]
    client, _ = _client([429, 200], headers={"Retry-After": "3600"})
    _no_sleep.waits = []  # type: ignore[attr-defined]
    await with_retries(
        lambda: send("gh", client, "GET", "https://x/a"), attempts=3, rate_limit_cap=30, sleep=_no_sleep
    )
    assert _no_sleep.waits == [30.0]  # type: ignore[attr-defined]


async def test_exhausted_attempts_raise_the_last_outcome() -> None:
    client, seen = _client([500])
    with pytest.raises(Transient):
        await with_retries(lambda: send("gh", client, "GET", "https://x/a"), attempts=3, sleep=_no_sleep)
    assert len(seen) == 3


async def test_validation_errors_carry_the_vendor_fields_and_refusals_can_be_answers() -> None:
    client, _ = _client([422])
    with pytest.raises(ValidationFailed) as caught:
        await send("gh", client, "POST", "https://x/a")
    assert caught.value.errors == [("email", "is invalid")]
    client, _ = _client([410])
    with pytest.raises(Permanent):
        await send("google", client, "GET", "https://x/a")
    assert (await send("google", client, "GET", "https://x/a", refusals=False)).status_code == 410


async def test_a_vendor_throttle_signal_is_a_rate_limit() -> None:
    client, _ = _client([503])
    with pytest.raises(RateLimited):
        await send("bamboo", client, "GET", "https://x/a", throttled=lambda r: r.status_code == 503)


async def test_transport_errors_are_transient() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    client = httpx.AsyncClient(transport=httpx.MockTransport(boom))
    with pytest.raises(Transient, match="transport error"):
        await send("gh", client, "GET", "https://x/a")

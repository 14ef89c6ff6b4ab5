"""Forwarding an erasure to an ATS (GDPR Art. 19): Lever's API has no way, Greenhouse needs a user to act on
behalf of; both answer Skipped with the reason the erasure request shows, and neither calls out (a mock
transport that fails every request proves it)."""

from __future__ import annotations

import httpx
import pytest
from interloop_sync.vendors.ats import ERASE_WRITE, Skipped
from interloop_sync.vendors.greenhouse.harvest import GreenhouseConfig, GreenhouseHarvest
from interloop_sync.vendors.lever import LeverClient, LeverConfig


def _no_calls(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no vendor call expected, got {request.method} {request.url}")


@pytest.fixture
async def http():  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.MockTransport(_no_calls)) as client:
        yield client


async def test_lever_cannot_erase_and_says_so(http: httpx.AsyncClient) -> None:
    client = LeverClient(http, LeverConfig(api_key="k"))
    result = await client.write_back(ERASE_WRITE, "erasure:1:c", {"candidate_id": "c1"})
    assert isinstance(result, Skipped) and "erase the candidate in Lever" in result.reason


async def test_greenhouse_without_a_user_to_act_for_says_so(http: httpx.AsyncClient) -> None:
    client = GreenhouseHarvest(http, GreenhouseConfig(api_key="k"))
    result = await client.write_back(ERASE_WRITE, "erasure:1:c", {"candidate_id": "123"})
    assert isinstance(result, Skipped) and "on_behalf_of" in result.reason

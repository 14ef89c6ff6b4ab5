"""The webhook door is in the tenant's audit trail: a delivery whose signature verified is appended as the
vendor acting on the tenant's data (actor webhook:<provider>, door webhook, the delivery id), a re-sent one
too; a forged one is refused and never reaches the tenant's chain (real services and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from interloop_fakes.ats import sign_greenhouse

from .conftest import Tenant, stage_change

pytestmark = pytest.mark.integration


async def test_verified_deliveries_are_audited_and_forged_ones_are_not(tenant: Tenant) -> None:
    body, _, _ = stage_change(91, stage="Application Review")
    first = await tenant.webhook(body)
    again = await tenant.webhook(body)  # the vendor retries
    assert (first.status_code, again.status_code) == (202, 202)
    assert (first.json()["outcome"], again.json()["outcome"]) == ("accepted", "duplicate")
    forged = sign_greenhouse(json.dumps(body).encode(), "not-the-secret")
    refused = await tenant.public.post(
        f"/webhooks/greenhouse/{tenant.connection_id}", content=forged.body, headers=forged.headers
    )
    assert refused.status_code == 401

    trail = await tenant.rows(
        "gateway",
        "SELECT actor, action, target, door, status, request_id FROM audit_log"
        " WHERE tenant_id = $1 AND door = 'webhook' ORDER BY id",
        tenant.id,
    )
    assert [tuple(r) for r in trail] == [
        (
            "webhook:greenhouse",
            "POST /webhooks/greenhouse/{connection_id}",
            f"connection/{tenant.connection_id}",
            "webhook",
            202,
            first.json()["delivery_id"],
        )
    ] * 2

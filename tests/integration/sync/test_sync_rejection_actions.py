"""Which pending actions a closed application cancels, on sync's real PostgreSQL schema: its rule actions
and its link email, not the rejection's own rules (by kind or by the vendor's action name), not a hire's,
not what is done already, and nothing of another application or with no application."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from interloop_common.db import tenant_tx
from interloop_devstack.testing import ServiceSet
from interloop_sync.domain.automations import parse_rule
from interloop_sync.store import automations as store

pytestmark = pytest.mark.integration

RULES = {
    "nudge": 'on stage_change do send_email("nudge") after 2d',
    "decline": 'on rejection do send_email("decline") after 2d',
    "vendor-decline": 'on reject_candidate do send_email("decline") after 3d',
    "welcome": 'on hire do send_email("welcome") after 1d',
}


async def test_a_closed_application_cancels_its_pending_actions_but_the_rejections_own(
    platform: ServiceSet,
) -> None:
    tenant = f"rj-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    pool = await asyncpg.create_pool(platform.dsns["sync"], min_size=1, max_size=2)
    try:
        async with tenant_tx(pool, tenant) as conn:
            for rule_id, dsl in RULES.items():
                await store.insert_rule(conn, tenant, parse_rule(dsl, rule_id=rule_id), {"dsl": dsl})

            async def action(key: str, rule_id: str, application_id: str | None) -> None:
                context = {"candidate_id": "c1"} | (
                    {"application_id": application_id} if application_id is not None else {}
                )
                assert await store.add_system_action(
                    conn,
                    tenant,
                    key=key,
                    rule_id=rule_id,
                    kind="send_email",
                    context=context,
                    event_at=now,
                    due_at=now + timedelta(days=2),
                )

            await action("nudge:1", "nudge", "a1")
            await action("scheduling-link:l1", "scheduling_link", "a1")
            await action("decline:1", "decline", "a1")
            await action("vendor-decline:1", "vendor-decline", "a1")
            await action("welcome:1", "welcome", "a1")
            await action("nudge:done", "nudge", "a1")
            await store.finish(conn, tenant, "nudge:done", "done")
            await action("nudge:2", "nudge", "a2")
            await action("alert:1", "alert", None)

            cancelled = await store.cancel_for_application(
                conn,
                tenant,
                "a1",
                keep_on=("rejection", "reject_candidate", "hire"),
                why="application rejected",
            )
            assert cancelled == 2
            rows = await conn.fetch(
                "SELECT idempotency_key, status, last_error FROM automation_actions WHERE tenant_id = $1"
                " ORDER BY idempotency_key",
                tenant,
            )
        assert [tuple(r) for r in rows] == [
            ("alert:1", "pending", None),
            ("decline:1", "pending", None),
            ("nudge:1", "cancelled", "application rejected"),
            ("nudge:2", "pending", None),
            ("nudge:done", "done", None),
            ("scheduling-link:l1", "cancelled", "application rejected"),
            ("vendor-decline:1", "pending", None),
            ("welcome:1", "pending", None),
        ]
    finally:
        await pool.close()

"""The communications log: every message the automations sent (or failed to send), newest first."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg
from interloop_common.db import tenant_tx

from interloop_sync.store import automations as store
from interloop_sync.usecases import Page, page_of


async def list_communications(
    pool: asyncpg.Pool,
    tenant_id: str,
    *,
    candidate_id: str,
    recipient: str,
    before: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Page[asyncpg.Record]:
    """``before``: the (sent_at, id) of the last message of the previous page."""
    async with tenant_tx(pool, tenant_id) as conn:
        rows = await store.list_communications(
            conn, tenant_id, candidate_id=candidate_id, recipient=recipient, before=before, limit=limit + 1
        )
    return page_of(rows, limit)

"""Jobs' default panels: who interviews for a job when the ATS asks for scheduling."""

from __future__ import annotations

import asyncpg
from interloop_common.db import tenant_tx
from interloop_common.errors import NotFound

from interloop_scheduler.store import links as link_store
from interloop_scheduler.usecases.interviewers import require_known


async def set_job_panel(pool: asyncpg.Pool, tenant_id: str, job_id: str, config: dict) -> None:
    async with tenant_tx(pool, tenant_id) as conn:
        ids = sorted({i for r in config["panel"] for i in r["interviewer_ids"]})
        await require_known(conn, tenant_id, ids, "panel.panel")
        await link_store.set_job_panel(conn, tenant_id, job_id, config)


async def get_job_panel(pool: asyncpg.Pool, tenant_id: str, job_id: str) -> dict:
    async with tenant_tx(pool, tenant_id) as conn:
        config = await link_store.get_job_panel(conn, tenant_id, job_id)
    if config is None:
        raise NotFound(f"job {job_id} has no default panel")
    return config

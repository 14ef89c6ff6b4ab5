"""Interviewers: their profile and calendar source (the credential sealed at rest), and busy blocks pushed
to us."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import asyncpg
from interloop_common.db import tenant_tx
from interloop_common.errors import Conflict, FieldViolations, NotFound
from interloop_common.keyring import KeysUnavailable

from interloop_scheduler.settings import SchedulerSettings, credential_ring
from interloop_scheduler.store import interviewers as interviewer_store
from interloop_scheduler.store.interviewers import InterviewerRow


async def upsert_interviewer(
    pool: asyncpg.Pool,
    settings: SchedulerSettings,
    tenant_id: str,
    row: InterviewerRow,
    *,
    replace_profile: bool,
) -> InterviewerRow:
    if row.calendar.get("credential"):
        # Calendar tokens and passwords are stored sealed; only the refresh opens them.
        try:
            sealed = credential_ring(settings).seal(row.calendar["credential"])
        except KeysUnavailable as exc:
            raise Conflict(str(exc)) from None
        row = dataclasses.replace(row, calendar={**row.calendar, "credential": sealed})
    async with tenant_tx(pool, tenant_id) as conn:
        return await interviewer_store.upsert(conn, tenant_id, row, replace_profile=replace_profile)


async def list_interviewers(
    pool: asyncpg.Pool, tenant_id: str, *, after: str, limit: int
) -> list[InterviewerRow]:
    async with tenant_tx(pool, tenant_id) as conn:
        return await interviewer_store.list_all(conn, tenant_id, after=after, limit=limit)


async def replace_busy_blocks(
    pool: asyncpg.Pool,
    tenant_id: str,
    interviewer_id: str,
    source: str,
    window: tuple[datetime, datetime],
    busy: list[tuple[datetime, datetime]],
) -> int:
    async with tenant_tx(pool, tenant_id) as conn:
        if not await interviewer_store.get_many(conn, tenant_id, [interviewer_id]):
            raise NotFound(f"interviewer {interviewer_id} not found")
        return await interviewer_store.replace_busy(conn, tenant_id, interviewer_id, source, window, busy)


async def require_known(conn: asyncpg.Connection, tenant_id: str, ids: list[str], field: str) -> dict:
    """The stored interviewers named; FieldViolations on ``field`` naming the unknown ones."""
    rows = await interviewer_store.get_many(conn, tenant_id, ids)
    missing = sorted(set(ids) - set(rows))
    if missing:
        raise FieldViolations([(field, f"unknown interviewers: {', '.join(missing)}")])
    return rows

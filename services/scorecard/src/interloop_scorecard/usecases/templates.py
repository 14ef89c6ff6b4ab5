"""Scorecard templates: the dimensions and scales a (job, round) is scored on. A revision is a new version;
versions are never deleted, so every scorecard can be read against the template it was written on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx
from interloop_common.errors import NotFound

from interloop_scorecard.domain.errors import ValidationError
from interloop_scorecard.domain.templates import Dimension, ScorecardTemplate
from interloop_scorecard.store import templates as store


@dataclass(frozen=True)
class TemplatePage:
    templates: list[ScorecardTemplate]
    next_after: str  # the template id to continue after; "" on the last page


async def create_template(
    pool: asyncpg.Pool,
    tenant_id: str,
    *,
    job_id: str,
    round: str,
    dimensions: tuple[Dimension, ...],
    created_by: str,
    now: datetime | None = None,
) -> ScorecardTemplate:
    try:
        t = ScorecardTemplate(str(uuid.uuid4()), job_id, round, 1, dimensions, now or utc_now(), created_by)
    except ValidationError as exc:  # the request calls it `round`
        raise ValidationError(exc.field.replace("round_id", "round"), exc.message) from None
    async with tenant_tx(pool, tenant_id) as conn:
        await store.insert(conn, tenant_id, t)
    return t


async def revise_template(
    pool: asyncpg.Pool,
    tenant_id: str,
    template_id: str,
    *,
    dimensions: tuple[Dimension, ...],
    created_by: str,
    now: datetime | None = None,
) -> ScorecardTemplate:
    async with tenant_tx(pool, tenant_id) as conn:
        current = await store.get(conn, tenant_id, template_id, for_update=True)
        if current is None:
            raise NotFound(f"no template {template_id!r}")
        t = current.revise(at=now or utc_now(), by=created_by, dimensions=dimensions)  # re-validates all
        await store.insert(conn, tenant_id, t)
    return t


async def get_template(
    pool: asyncpg.Pool, tenant_id: str, template_id: str, version: int
) -> ScorecardTemplate:
    """One version of a template; version 0 is the latest."""
    async with tenant_tx(pool, tenant_id) as conn:
        t = await store.get(conn, tenant_id, template_id, version)
    if t is None:
        raise NotFound(f"no template {template_id!r} version {version or 'latest'}")
    return t


async def list_templates(
    pool: asyncpg.Pool, tenant_id: str, *, job_id: str, round: str, after: str, limit: int
) -> TemplatePage:
    """The latest version of each template, optionally for one job and round."""
    async with tenant_tx(pool, tenant_id) as conn:
        found = await store.list_latest(
            conn, tenant_id, job_id=job_id, round=round, after=after, limit=limit + 1
        )
    nxt = found[limit - 1].template_id if len(found) > limit else ""
    return TemplatePage(found[:limit], nxt)

"""Scorecard templates: every version is a row; nothing is updated in place."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg

from interloop_scorecard.domain.templates import Anchor, Dimension, RatingScale, ScaleKind, ScorecardTemplate


def dimensions_json(dimensions: tuple[Dimension, ...]) -> str:
    return json.dumps(
        [
            {
                "key": d.key,
                "name": d.name,
                "evidence_required": d.evidence_required,
                "scale": {
                    "kind": d.scale.kind.value,
                    "min": d.scale.minimum,
                    "max": d.scale.maximum,
                    "labels": list(d.scale.labels),
                },
                "anchors": [{"point": a.point, "description": a.description} for a in d.anchors],
            }
            for d in dimensions
        ]
    )


def _dimensions(raw: Any) -> tuple[Dimension, ...]:
    items = json.loads(raw) if isinstance(raw, str) else raw
    return tuple(
        Dimension(
            key=d["key"],
            name=d["name"],
            evidence_required=d["evidence_required"],
            scale=RatingScale(
                ScaleKind(d["scale"]["kind"]),
                d["scale"]["min"],
                d["scale"]["max"],
                tuple(d["scale"]["labels"]),
            ),
            anchors=tuple(Anchor(a["point"], a["description"]) for a in d["anchors"]),
        )
        for d in items
    )


def from_row(r: asyncpg.Record) -> ScorecardTemplate:
    return ScorecardTemplate(
        template_id=str(r["id"]),
        job_id=r["job_id"],
        round_id=r["round"],
        version=r["version"],
        dimensions=_dimensions(r["dimensions"]),
        created_at=r["created_at"],
        created_by=r["created_by"],
    )


async def insert(conn: asyncpg.Connection, tenant_id: str, t: ScorecardTemplate) -> None:
    await conn.execute(
        """INSERT INTO templates (tenant_id, id, version, job_id, round, dimensions, created_by, created_at)
           VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)""",
        tenant_id,
        uuid.UUID(t.template_id),
        t.version,
        t.job_id,
        t.round_id,
        dimensions_json(t.dimensions),
        t.created_by,
        t.created_at,
    )


_GET = """SELECT * FROM templates WHERE tenant_id = $1 AND id = $2 AND ($3 = 0 OR version = $3)
          ORDER BY version DESC LIMIT 1"""
_GET_FOR_UPDATE = _GET + " FOR UPDATE"


async def get(
    conn: asyncpg.Connection, tenant_id: str, template_id: str, version: int = 0, *, for_update: bool = False
) -> ScorecardTemplate | None:
    try:
        tid = uuid.UUID(template_id)
    except ValueError:
        return None
    r = await conn.fetchrow(
        _GET_FOR_UPDATE if for_update else _GET,
        tenant_id,
        tid,
        version,
    )
    return from_row(r) if r else None


async def latest_for(
    conn: asyncpg.Connection, tenant_id: str, job_id: str, round: str
) -> ScorecardTemplate | None:
    r = await conn.fetchrow(
        """SELECT * FROM templates WHERE tenant_id = $1 AND job_id = $2 AND round = $3
           ORDER BY created_at DESC, version DESC LIMIT 1""",
        tenant_id,
        job_id,
        round,
    )
    return from_row(r) if r else None


async def list_latest(
    conn: asyncpg.Connection, tenant_id: str, *, job_id: str, round: str, after: str, limit: int
) -> list[ScorecardTemplate]:
    rows = await conn.fetch(
        """SELECT DISTINCT ON (id) * FROM templates
           WHERE tenant_id = $1 AND ($2 = '' OR job_id = $2) AND ($3 = '' OR round = $3)
             AND ($4 = '' OR id::text > $4)
           ORDER BY id, version DESC LIMIT $5""",
        tenant_id,
        job_id,
        round,
        after,
        limit,
    )
    return [from_row(r) for r in rows]

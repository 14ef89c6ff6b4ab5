"""Reads behind the statistics RPCs: reports from the persisted accumulators, the batch rebuild that
checks them, predictive validity against HRIS outcomes, and adverse impact."""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import asyncpg
import numpy as np

from interloop_scorecard.domain.stats.adverse_impact import ImpactTable, scoring_rate_impact, selection_impact
from interloop_scorecard.domain.stats.state import DimensionState
from interloop_scorecard.domain.stats.validity import (
    BinaryValidity,
    ContinuousValidity,
    binary_outcome_validity,
    continuous_outcome_validity,
)
from interloop_scorecard.store import outcomes, stats
from interloop_scorecard.store import scorecards as cards

# Outcomes that are yes/no by definition; any other outcome is binary only if every value is 0 or 1.
BINARY_OUTCOMES = frozenset({"retention_90d", "retained_90d"})
SELECTED = frozenset({"advance", "hire"})


async def rebuild(conn: asyncpg.Connection, tenant_id: str) -> tuple[int, list[str]]:
    """Recompute every (job, round, dimension) state from the newest submitted scorecard versions, replace
    the stored states, and name the keys whose incremental state disagreed with the recomputation."""
    fresh: dict[stats.Key, DimensionState] = {}
    for r in await cards.latest_submitted_ratings(conn, tenant_id):
        key = (r["job_id"], r["round"], r["dimension"])
        scale = None
        for d in json.loads(r["dimensions"]) if r["dimensions"] else []:
            if d["key"] == r["dimension"]:
                scale = (d["scale"]["min"], d["scale"]["max"])
        fresh.setdefault(key, DimensionState()).add(
            r["candidate_id"], r["interviewer_id"], r["score"], scale or (int(r["score"]), int(r["score"]))
        )
    stored = await stats.all_states(conn, tenant_id)
    changed = []
    for key in sorted(set(fresh) | set(stored)):
        new, old = fresh.get(key, DimensionState()), stored.get(key, DimensionState())
        if not new.equivalent(old):
            changed.append("/".join(key))
    await stats.lock(conn, tenant_id, list(fresh))
    await stats.save(conn, tenant_id, {**{k: DimensionState() for k in stored}, **fresh})
    return len(fresh), changed


@dataclass(frozen=True)
class ValidityRow:
    round: str
    dimension: str
    binary: bool
    result: BinaryValidity | ContinuousValidity


async def predictive_validity(
    conn: asyncpg.Connection, tenant_id: str, job_id: str, outcome: str, n_boot: int
) -> list[ValidityRow]:
    rows = await outcomes.validity_rows(conn, tenant_id, job_id, outcome)
    values = {r["value"] for r in rows}
    binary = outcome in BINARY_OUTCOMES or (bool(values) and values <= {0.0, 1.0})
    groups: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for r in rows:
        x, y = groups.setdefault((r["round"], r["dimension"]), ([], []))
        x.append(r["score"])
        y.append(r["value"])
    out = []
    for (rnd, dim), (x, y) in sorted(groups.items()):
        if binary:
            res: BinaryValidity | ContinuousValidity = binary_outcome_validity(
                np.array(x), np.array(y) >= 0.5, n_boot=n_boot
            )
        else:
            res = continuous_outcome_validity(np.array(x), np.array(y), n_boot=n_boot)
        out.append(ValidityRow(rnd, dim, binary, res))
    return out


@dataclass(frozen=True)
class AdverseImpact:
    selection: dict[str, ImpactTable]
    scoring: dict[str, ImpactTable]
    median_score: float | None
    candidates_scored: int


def _attribute_columns(rows: list[Any]) -> dict[str, list[str]]:
    names = sorted({k for r in rows if r["attributes"] for k in json.loads(r["attributes"])})
    cols: dict[str, list[str]] = {n: [] for n in names}
    for r in rows:
        attrs = json.loads(r["attributes"]) if r["attributes"] else {}
        for n in names:
            cols[n].append(str(attrs.get(n) or "unknown"))
    return cols


async def adverse_impact(conn: asyncpg.Connection, tenant_id: str, job_id: str, round: str) -> AdverseImpact:
    rows = await outcomes.impact_rows(conn, tenant_id, job_id, round)
    decided = [r for r in rows if r["decision"] is not None]
    scored = [r for r in rows if r["score"] is not None]
    selection: dict[str, ImpactTable] = {}
    scoring: dict[str, ImpactTable] = {}
    cols = _attribute_columns(decided)
    if decided and cols:
        selection = selection_impact(cols, [r["decision"] in SELECTED for r in decided])
    cols = _attribute_columns(scored)
    if scored and cols:
        scoring = scoring_rate_impact(cols, [r["score"] for r in scored])
    median = None
    if scored:
        ordered = sorted(Fraction(r["score"]) for r in scored)
        k = len(ordered)
        median = float(ordered[k // 2] if k % 2 else (ordered[k // 2 - 1] + ordered[k // 2]) / 2)
    return AdverseImpact(selection, scoring, median, len(scored))

"""Statistics: the reliability, calibration and per-dimension reports read from the persisted
accumulators (which submissions and amendments keep current), the batch rebuild that checks them, predictive
validity against HRIS outcomes, and adverse impact and the LL144 bias audit (compliance scope only)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import numpy as np
from interloop_common.clock import utc_now
from interloop_common.db import tenant_tx
from interloop_common.errors import FieldViolations, NotFound

from interloop_scorecard.domain.stats.adverse_impact import (
    ImpactTable,
    sample_median,
    scoring_rate_impact,
    selection_impact,
)
from interloop_scorecard.domain.stats.bias_audit import (
    Assessed,
    AuditRequest,
    BiasAudit,
    Scope,
    Selection,
    audit_request,
    scoring_rates,
    selection_rates,
)
from interloop_scorecard.domain.stats.calibration import Calibration
from interloop_scorecard.domain.stats.state import LEVELS, DimensionState, Reliability, Summary
from interloop_scorecard.domain.stats.validity import (
    BinaryValidity,
    ContinuousValidity,
    binary_outcome_validity,
    continuous_outcome_validity,
)
from interloop_scorecard.domain.stats.work import check_bootstrap
from interloop_scorecard.store import outcomes, stats
from interloop_scorecard.store import scorecards as cards
from interloop_scorecard.usecases.outcomes import require_compliance

# Outcomes that are yes/no by definition; any other outcome is binary only if every value is 0 or 1.
BINARY_OUTCOMES = frozenset({"retention_90d", "retained_90d"})
SELECTED = Selection.ADVANCED_OR_HIRED.decisions


async def list_statistics(pool: asyncpg.Pool, tenant_id: str, job_id: str) -> list[asyncpg.Record]:
    """The (job, round, dimension) keys that have statistics, optionally for one job."""
    async with tenant_tx(pool, tenant_id) as conn:
        return await stats.keys(conn, tenant_id, job_id)


async def _state(pool: asyncpg.Pool, tenant_id: str, key: stats.Key) -> DimensionState:
    async with tenant_tx(pool, tenant_id) as conn:
        state = await stats.get(conn, tenant_id, key)
    if state is None or state.n_ratings == 0:
        raise NotFound(f"no submitted ratings for job {key[0]!r} round {key[1]!r} dimension {key[2]!r}")
    return state


async def reliability(
    pool: asyncpg.Pool, tenant_id: str, key: stats.Key, *, n_boot: int, min_n: int, max_cells: int
) -> Reliability:
    """Inter-rater reliability of one dimension; the bootstrap (one per alpha level) is capped at
    `max_cells` resampled values and runs off the event loop."""
    state = await _state(pool, tenant_id, key)
    check_bootstrap(n_boot, [state.n_ratings] * len(LEVELS), max_cells)
    return await asyncio.to_thread(state.reliability, n_boot=n_boot, min_n=min_n)


async def calibration(pool: asyncpg.Pool, tenant_id: str, key: stats.Key, *, min_n: int) -> Calibration:
    """Each interviewer's leniency and erraticness on one dimension."""
    state = await _state(pool, tenant_id, key)
    return await asyncio.to_thread(state.calibration.finalize, min_n=min_n)


async def dimension_statistics(
    pool: asyncpg.Pool, tenant_id: str, job_id: str, round: str
) -> dict[str, Summary]:
    async with tenant_tx(pool, tenant_id) as conn:
        states = await stats.for_round(conn, tenant_id, job_id, round)
    return {d: s.summary() for d, s in states.items()}


async def rebuild_statistics(pool: asyncpg.Pool, tenant_id: str) -> tuple[int, list[str]]:
    """A command: recompute every (job, round, dimension) state from the newest submitted scorecard
    versions, replace the stored states, and name the keys whose incremental state disagreed."""
    async with tenant_tx(pool, tenant_id) as conn:
        return await _rebuild(conn, tenant_id)


async def _rebuild(conn: asyncpg.Connection, tenant_id: str) -> tuple[int, list[str]]:
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
    pool: asyncpg.Pool, tenant_id: str, job_id: str, outcome: str, *, n_boot: int, max_cells: int
) -> list[ValidityRow]:
    """How well each (round, dimension) score predicted an HRIS outcome of the job's hires; the bootstrap
    is capped at `max_cells` resampled values and runs off the event loop."""
    async with tenant_tx(pool, tenant_id) as conn:
        rows = await outcomes.validity_rows(conn, tenant_id, job_id, outcome)
    values = {r["value"] for r in rows}
    binary = outcome in BINARY_OUTCOMES or (bool(values) and values <= {0.0, 1.0})
    groups: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for r in rows:
        x, y = groups.setdefault((r["round"], r["dimension"]), ([], []))
        x.append(r["score"])
        y.append(r["value"])
    check_bootstrap(n_boot, [len(x) for x, _ in groups.values()], max_cells)
    return await asyncio.to_thread(_validity, groups, binary, n_boot)


def _validity(
    groups: dict[tuple[str, str], tuple[list[float], list[float]]], binary: bool, n_boot: int
) -> list[ValidityRow]:
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


async def adverse_impact(
    pool: asyncpg.Pool, tenant_id: str, job_id: str, round: str, *, scopes: Iterable[str]
) -> AdverseImpact:
    """Selection and scoring rates by demographic group (four-fifths rule, Fisher's exact test)."""
    require_compliance(scopes)
    if not job_id:
        raise FieldViolations([("job_id", "required")])
    async with tenant_tx(pool, tenant_id) as conn:
        rows = await outcomes.impact_rows(conn, tenant_id, job_id, round)
    return await asyncio.to_thread(_impact, rows)


def _impact(rows: list[Any]) -> AdverseImpact:
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
    median = float(sample_median(r["score"] for r in scored)) if scored else None
    return AdverseImpact(selection, scoring, median, len(scored))


async def bias_audit(
    pool: asyncpg.Pool,
    tenant_id: str,
    *,
    scope: Scope | None,
    job_id: str,
    round: str,
    start: datetime | None,
    end: datetime | None,
    selection: Selection | None,
    scopes: Iterable[str],
    now: datetime | None = None,
) -> BiasAudit:
    """The NYC LL144 bias audit of one period: selection rates from the recorded decisions, scoring rates
    from the submitted scorecards, by sex, race/ethnicity and their intersection."""
    require_compliance(scopes)
    request = audit_request(
        scope=scope, job_id=job_id, round=round, start=start, end=end, selection=selection
    )
    args = (request.job_id, request.round, request.start, request.end)
    async with tenant_tx(pool, tenant_id) as conn:
        decided = await outcomes.audit_decisions(conn, tenant_id, *args)
        scored = await outcomes.audit_scores(conn, tenant_id, *args)
    return await asyncio.to_thread(_bias_audit, request, decided, scored, now or utc_now())


def _assessed(r: Any) -> Assessed:
    return Assessed.of(json.loads(r["attributes"]) if r["attributes"] else None)


def _bias_audit(request: AuditRequest, decided: list[Any], scored: list[Any], now: datetime) -> BiasAudit:
    chosen = request.selection.decisions
    return BiasAudit(
        request,
        selection_rates(
            [_assessed(r) for r in decided],
            [r["decision"] in chosen for r in decided],
            [r["decided_at"] for r in decided],
        ),
        scoring_rates(
            [_assessed(r) for r in scored],
            [r["score"] for r in scored],
            [at for r in scored for at in (r["first_at"], r["last_at"])],
        ),
        now,
    )

"""Predictive validity of interview ratings against later outcomes (90-day retention, first review).

For a boolean outcome: point-biserial r (with its t-test p), AUC (Mann-Whitney U / n1 n0) and a logistic
regression fitted by IRLS; for a numeric outcome: Pearson and Spearman r. Percentile bootstrap CIs, and
warnings instead of silence when the sample is too small to read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

MIN_N = 30
MIN_PER_CLASS = 10


@dataclass(frozen=True)
class LogisticFit:
    coef: tuple[float, ...]  # intercept first
    se: tuple[float, ...]
    z: tuple[float, ...]
    p: tuple[float, ...]
    converged: bool
    iterations: int
    log_likelihood: float


def logistic_regression(x: ArrayLike, y: ArrayLike, *, max_iter: int = 50, tol: float = 1e-10) -> LogisticFit:
    """Maximum-likelihood logistic regression with an intercept, by iteratively reweighted least squares."""
    xm = np.asarray(x, dtype=np.float64)
    xm = xm[:, None] if xm.ndim == 1 else xm
    yv = np.asarray(y, dtype=np.float64)
    design = np.column_stack([np.ones(xm.shape[0]), xm])
    beta = np.zeros(design.shape[1])
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007
        eta = design @ beta
        mu = 1.0 / (1.0 + np.exp(-eta))
        w = np.clip(mu * (1.0 - mu), 1e-12, None)
        hess = design.T @ (design * w[:, None])
        step = np.linalg.solve(hess, design.T @ (yv - mu))
        beta = beta + step
        if np.max(np.abs(step)) < tol * (1.0 + np.max(np.abs(beta))):
            converged = True
            break
    eta = design @ beta
    mu = 1.0 / (1.0 + np.exp(-eta))
    w = np.clip(mu * (1.0 - mu), 1e-12, None)
    cov = np.linalg.inv(design.T @ (design * w[:, None]))
    se = np.sqrt(np.diag(cov))
    z = beta / se
    p = 2.0 * stats.norm.sf(np.abs(z))
    ll = float(np.sum(yv * -np.logaddexp(0.0, -eta) + (1.0 - yv) * -np.logaddexp(0.0, eta)))
    return LogisticFit(
        tuple(beta.tolist()), tuple(se.tolist()), tuple(z.tolist()), tuple(p.tolist()), converged, it, ll
    )


def auc(scores: ArrayLike, outcome: ArrayLike) -> float:
    """Probability that a random positive outscores a random negative (ties count 1/2)."""
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcome, dtype=bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = stats.rankdata(x)
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def _row_corr(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    xc = x - x.mean(axis=1, keepdims=True)
    yc = y - y.mean(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (xc * yc).sum(axis=1) / np.sqrt((xc * xc).sum(axis=1) * (yc * yc).sum(axis=1))


def _ci(reps: NDArray[np.float64], confidence: float) -> tuple[float, float] | None:
    reps = reps[np.isfinite(reps)]
    if reps.size < 10:
        return None
    tail = (1 - confidence) / 2
    lo, hi = np.quantile(reps, [tail, 1 - tail])
    return float(lo), float(hi)


@dataclass(frozen=True)
class BinaryValidity:
    n: int
    n_positive: int
    point_biserial: float | None
    point_biserial_p: float | None
    point_biserial_ci95: tuple[float, float] | None
    auc: float | None
    auc_ci95: tuple[float, float] | None
    logistic: LogisticFit | None
    warnings: tuple[str, ...] = field(default=())


def binary_outcome_validity(
    scores: ArrayLike, outcome: ArrayLike, *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0
) -> BinaryValidity:
    """Validity of `scores` against a boolean outcome such as 90-day retention."""
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcome, dtype=bool)
    n, n1 = int(x.size), int(y.sum())
    warns = []
    if n < MIN_N:
        warns.append(f"small sample: n={n} < {MIN_N}; treat estimates as indicative only")
    if min(n1, n - n1) < MIN_PER_CLASS:
        warns.append(f"only {min(n1, n - n1)} in the rarer outcome class (< {MIN_PER_CLASS})")
    if n < 3 or n1 == 0 or n1 == n or np.ptp(x) == 0:
        warns.append("no variation in scores or outcome: validity is undefined")
        return BinaryValidity(n, n1, None, None, None, None, None, None, tuple(warns))
    r, p = stats.pearsonr(x, y.astype(np.float64))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(n_boot, n))
    bx, by = x[idx], y[idx]
    r_ci = _ci(_row_corr(bx, by.astype(np.float64)), confidence)
    n1b = by.sum(axis=1)
    ranks = stats.rankdata(bx, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc_b = ((ranks * by).sum(axis=1) - n1b * (n1b + 1) / 2.0) / (n1b * (n - n1b))
    fit = logistic_regression(x, y)
    if not fit.converged:
        warns.append("logistic regression did not converge (perfect or quasi-separation?)")
    return BinaryValidity(
        n, n1, float(r), float(p), r_ci, auc(x, y), _ci(auc_b, confidence), fit, tuple(warns)
    )


@dataclass(frozen=True)
class ContinuousValidity:
    n: int
    pearson: float | None
    pearson_p: float | None
    pearson_ci95: tuple[float, float] | None
    spearman: float | None
    warnings: tuple[str, ...] = field(default=())


def continuous_outcome_validity(
    scores: ArrayLike, outcome: ArrayLike, *, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0
) -> ContinuousValidity:
    """Validity of `scores` against a numeric outcome such as the first performance rating."""
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64)
    n = int(x.size)
    warns = [f"small sample: n={n} < {MIN_N}; treat estimates as indicative only"] if n < MIN_N else []
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        warns.append("no variation in scores or outcome: validity is undefined")
        return ContinuousValidity(n, None, None, None, None, tuple(warns))
    r, p = stats.pearsonr(x, y)
    idx = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    rho = stats.spearmanr(x, y).statistic
    return ContinuousValidity(
        n, float(r), float(p), _ci(_row_corr(x[idx], y[idx]), confidence), float(rho), tuple(warns)
    )


def validity_by_group(
    rounds: Sequence[Any],
    dimensions: Sequence[Any],
    scores: ArrayLike,
    outcomes: ArrayLike,
    *,
    binary: bool,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[tuple[Any, Any], BinaryValidity | ContinuousValidity]:
    """Validity per (round, dimension) of long-format rows (one row per hire x round x dimension)."""
    rd = np.asarray(rounds, dtype=object)
    dm = np.asarray(dimensions, dtype=object)
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(outcomes)
    out: dict[tuple[Any, Any], BinaryValidity | ContinuousValidity] = {}
    for key in dict.fromkeys(zip(rd.tolist(), dm.tolist(), strict=True)):
        mask = (rd == key[0]) & (dm == key[1])
        if binary:
            out[key] = binary_outcome_validity(x[mask], y[mask].astype(bool), n_boot=n_boot, seed=seed)
        else:
            out[key] = continuous_outcome_validity(
                x[mask], y[mask].astype(np.float64), n_boot=n_boot, seed=seed
            )
    return out

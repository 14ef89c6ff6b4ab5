"""Chance-corrected agreement for categorical ratings: Fleiss' kappa, Cohen's kappa, Gwet's AC1/AC2.

Weighted variants place categories by their position on the template's FULL scale (e.g. 1..5 or the five
Greenhouse labels), not just the labels that happen to be used, so an unused middle point still counts
as distance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .ratings import Ratings, matrix_ratings

Weights = Literal["linear", "quadratic"] | None


def _positions(
    values: NDArray[np.float64], categories: Sequence[float] | None
) -> tuple[NDArray[np.intp], int]:
    if categories is None:
        cats = np.unique(values)
    else:
        cats = np.asarray(categories, dtype=np.float64)
        if cats.size < 2 or np.any(np.diff(cats) <= 0):
            raise ValueError("categories must be at least two strictly increasing scale points")
    pos = np.searchsorted(cats, values)
    bad = (pos >= cats.size) | (cats[np.minimum(pos, cats.size - 1)] != values)
    if bad.any():
        raise ValueError(f"score {values[bad][0]!r} is not on the scale; expected one of {cats.tolist()}")
    return pos.astype(np.intp), int(cats.size)


def disagreement_weights(q: int, weights: Weights) -> NDArray[np.float64]:
    """q x q disagreement weights by scale position: 0 on the diagonal, 1 at the ends of the scale."""
    i = np.arange(q, dtype=np.float64)
    d = np.abs(i[:, None] - i[None, :]) / (q - 1)
    if weights is None:
        return (d > 0).astype(np.float64)
    if weights == "linear":
        return d
    if weights == "quadratic":
        return d * d
    raise ValueError(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")


@dataclass(frozen=True)
class FleissKappa:
    kappa: float
    p_observed: float
    p_expected: float
    n_subjects: int
    n_raters: int


def fleiss_kappa(counts: ArrayLike) -> FleissKappa:
    """Fleiss (1971) kappa from a subjects x categories table of rater counts (same total per subject)."""
    t = np.asarray(counts, dtype=np.float64)
    per_subject = t.sum(axis=1)
    if t.ndim != 2 or t.shape[0] < 1:
        raise ValueError("counts must be a non-empty subjects x categories table")
    m = per_subject[0]
    if not np.all(per_subject == m) or m < 2:
        raise ValueError("Fleiss' kappa needs the same number (>= 2) of ratings for every subject")
    n = t.shape[0]
    p_i = ((t * t).sum(axis=1) - m) / (m * (m - 1))
    p_j = t.sum(axis=0) / (n * m)
    p_bar = float(p_i.mean())
    p_e = float(p_j @ p_j)
    kappa = (p_bar - p_e) / (1 - p_e) if p_e < 1 else math.nan
    return FleissKappa(kappa, p_bar, p_e, n, int(m))


def category_counts(ratings: Ratings, categories: Sequence[float] | None = None) -> NDArray[np.float64]:
    """subjects x categories counts (category axis = scale positions)."""
    pos, q = _positions(ratings.score, categories)
    flat = np.bincount(ratings.subject * q + pos, minlength=ratings.n_subjects * q)
    return flat.reshape(ratings.n_subjects, q).astype(np.float64)


def fleiss_kappa_ratings(ratings: Ratings, categories: Sequence[float] | None = None) -> FleissKappa | None:
    """Fleiss' kappa over long-format ratings, or None unless every subject has the same number (>= 2)."""
    per_subject = np.bincount(ratings.subject, minlength=ratings.n_subjects)
    if per_subject.size == 0 or per_subject.min() != per_subject.max() or per_subject[0] < 2:
        return None
    return fleiss_kappa(category_counts(ratings, categories))


def cohen_kappa(
    a: ArrayLike, b: ArrayLike, categories: Sequence[float] | None = None, weights: Weights = None
) -> float:
    """Cohen's kappa (unweighted, linear or quadratic) for two raters over the same subjects."""
    va, vb = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if va.shape != vb.shape or va.ndim != 1:
        raise ValueError("the two raters' scores must be 1-D arrays over the same subjects")
    cats = categories if categories is not None else np.unique(np.concatenate([va, vb])).tolist()
    pa, q = _positions(va, cats)
    pb, _ = _positions(vb, cats)
    table = np.bincount(pa * q + pb, minlength=q * q).reshape(q, q).astype(np.float64)
    return cohen_kappa_table(table, weights)


def cohen_kappa_table(table: ArrayLike, weights: Weights = None) -> float:
    """Cohen's kappa from a q x q contingency table whose rows/columns are the full scale in order."""
    t = np.asarray(table, dtype=np.float64)
    q = t.shape[0]
    total = t.sum()
    if total == 0:
        return math.nan
    obs = t / total
    exp = np.outer(obs.sum(axis=1), obs.sum(axis=0))
    w = disagreement_weights(q, weights)
    d_exp = float((w * exp).sum())
    return 1.0 - float((w * obs).sum()) / d_exp if d_exp > 0 else math.nan


@dataclass(frozen=True)
class RaterPairKappa:
    rater_a: Any
    rater_b: Any
    n: int
    kappa: float


def pairwise_cohen_kappa(
    ratings: Ratings, categories: Sequence[float] | None = None, weights: Weights = None, min_shared: int = 2
) -> list[RaterPairKappa]:
    """Cohen's kappa for every rater pair that scored at least `min_shared` subjects in common."""
    n_s, n_r = ratings.n_subjects, ratings.n_raters
    grid = np.full((n_s, n_r), np.nan)
    grid[ratings.subject, ratings.rater] = ratings.score
    cats = categories if categories is not None else np.unique(ratings.score).tolist()
    out = []
    for i, j in combinations(range(n_r), 2):
        both = ~np.isnan(grid[:, i]) & ~np.isnan(grid[:, j])
        n = int(both.sum())
        if n >= min_shared:
            out.append(
                RaterPairKappa(
                    ratings.rater_ids[i],
                    ratings.rater_ids[j],
                    n,
                    cohen_kappa(grid[both, i], grid[both, j], cats, weights),
                )
            )
    return out


@dataclass(frozen=True)
class GwetAC:
    coefficient: float
    p_agreement: float
    p_chance: float
    n_subjects: int


def gwet_ac(
    data: Ratings | ArrayLike, categories: Sequence[float] | None = None, weights: Weights = None
) -> GwetAC:
    """Gwet's AC1 (weights=None) or AC2 (linear/quadratic) for any number of raters, missing allowed.

    Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed., ch. 4:
    p_a = mean over subjects with r_i >= 2 of sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1)),
    r*_ik = sum_l w_kl r_il
    p_e = T_w / (q (q - 1)) * sum_k pi_k (1 - pi_k), pi_k = mean over rated subjects of r_ik / r_i.
    """
    r = data if isinstance(data, Ratings) else matrix_ratings(data)
    counts = category_counts(r, categories)
    q = counts.shape[1]
    agree = 1.0 - disagreement_weights(q, weights)  # agreement weights
    r_i = counts.sum(axis=1)
    rated = r_i >= 1
    multi = r_i >= 2
    if not multi.any():
        return GwetAC(math.nan, math.nan, math.nan, int(rated.sum()))
    c = counts[multi]
    ri = r_i[multi]
    weighted = c @ agree.T
    p_a = float(((c * (weighted - 1.0)).sum(axis=1) / (ri * (ri - 1.0))).mean())
    pi = (counts[rated] / r_i[rated, None]).mean(axis=0)
    p_e = float(agree.sum() / (q * (q - 1)) * (pi @ (1.0 - pi)))
    coefficient = (p_a - p_e) / (1.0 - p_e) if p_e < 1 else math.nan
    return GwetAC(coefficient, p_a, p_e, int(rated.sum()))

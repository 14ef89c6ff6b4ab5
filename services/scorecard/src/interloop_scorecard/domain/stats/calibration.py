"""Interviewer calibration: who scores high (leniency), who is noisy (erratic), who agrees with peers.

Definitions, over the ratings a rater gave on subjects that someone else also rated ("shared" ratings):
* leniency  = mean of (rating - that subject's mean rating); sums to 0 over raters on complete designs;
* erratic   = RMS of the rater's residuals from the additive model rating = subject + rater fitted by
  least squares on the (sparse, incomplete) subject x rater graph;
* agreement = Pearson correlation of the rater's ratings with the mean of the OTHER raters on the same
  subjects.
Small samples are not over-read: leniency is shrunk toward 0 by n / (n + k), with k = residual variance /
between-rater variance (empirical Bayes) unless given, and raters under `min_n` shared ratings are flagged
`insufficient_n` and never `lenient`, `harsh` or `erratic`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from .ratings import Ratings, long_ratings


@dataclass(frozen=True)
class RaterCalibration:
    rater: Any
    n: int
    n_shared: int
    leniency: float | None
    leniency_shrunk: float | None
    erratic: float | None
    agreement: float | None
    flags: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "rater": self.rater,
            "n": self.n,
            "n_shared": self.n_shared,
            "leniency": self.leniency,
            "leniency_shrunk": self.leniency_shrunk,
            "erratic": self.erratic,
            "agreement": self.agreement,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class Calibration:
    raters: tuple[RaterCalibration, ...]
    residual_sd: float | None
    prior_strength: float | None


@dataclass(frozen=True)
class _AdditiveFit:
    sse_by_rater: NDArray[np.float64]
    residual_var: float | None


def _additive_fit(
    subject: NDArray[np.intp],
    rater: NDArray[np.intp],
    score: NDArray[np.float64],
    n_subjects: int,
    n_raters: int,
) -> _AdditiveFit:
    """Least squares for score = a_subject + b_rater on the observed cells; per-rater SSE.

    Subject effects are eliminated analytically, leaving an R x R (graph-Laplacian-like) system; adding
    one all-ones block per connected component fixes the per-component gauge so one solve suffices.
    """
    sse = np.zeros(n_raters)
    if score.size == 0:
        return _AdditiveFit(sse, None)
    ones = np.ones(score.size)
    inc = sparse.csr_matrix((ones, (subject, rater)), shape=(n_subjects, n_raters))  # counts N_sr
    n_s = np.asarray(inc.sum(axis=1)).ravel()
    n_r = np.asarray(inc.sum(axis=0)).ravel()
    sum_s = np.bincount(subject, weights=score, minlength=n_subjects)
    sum_r = np.bincount(rater, weights=score, minlength=n_raters)
    inv_ns = np.where(n_s > 0, 1.0 / np.where(n_s > 0, n_s, 1.0), 0.0)
    lap = (sparse.diags(n_r) - inc.T @ sparse.diags(inv_ns) @ inc).toarray()
    rhs = sum_r - inc.T @ (sum_s * inv_ns)
    graph = sparse.bmat([[None, inc], [inc.T, None]])
    n_comp, labels = connected_components(graph, directed=False)
    rater_comp = labels[n_subjects:]
    used = n_r > 0
    for c in np.unique(rater_comp[used]):
        members = np.flatnonzero((rater_comp == c) & used)
        lap[np.ix_(members, members)] += 1.0
    lap[~used, ~used] = 1.0
    b = np.linalg.solve(lap, rhs)
    a = (sum_s - inc @ b) * inv_ns
    resid = score - a[subject] - b[rater]
    sse = np.bincount(rater, weights=resid * resid, minlength=n_raters)
    comps = len(np.unique(labels[np.concatenate([n_s > 0, used])]))
    df = score.size - int((n_s > 0).sum()) - int(used.sum()) + comps
    return _AdditiveFit(sse, float(sse.sum() / df) if df > 0 else None)


def _finish(
    rater_ids: tuple[Any, ...],
    n: NDArray[np.float64],
    n_shared: NDArray[np.float64],
    sum_dev: NDArray[np.float64],
    moments: NDArray[np.float64],
    fit: _AdditiveFit,
    min_n: int,
    prior_strength: float | None,
    threshold: float,
    erratic_factor: float,
) -> Calibration:
    """Turn per-rater sufficient statistics into the report (shared by batch and accumulator)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        lenient = np.where(n_shared > 0, sum_dev / np.where(n_shared > 0, n_shared, 1), np.nan)
        erratic = np.where(
            n_shared > 0, np.sqrt(fit.sse_by_rater / np.where(n_shared > 0, n_shared, 1)), np.nan
        )
        k_, sx, so, sxx, soo, sxo = moments
        cov = k_ * sxo - sx * so
        var_x = k_ * sxx - sx * sx
        var_o = k_ * soo - so * so
        ok = (
            (k_ >= 3)
            & (var_x > 1e-12 * np.maximum(1.0, k_ * sxx))
            & (var_o > 1e-12 * np.maximum(1.0, k_ * soo))
        )
        agreement = np.where(ok, cov / np.sqrt(np.where(ok, var_x * var_o, 1.0)), np.nan)
    sigma2 = fit.residual_var
    k = prior_strength
    if k is None and sigma2 is not None:
        has = n_shared > 0
        tau2 = float(np.mean(lenient[has] ** 2) - np.mean(sigma2 / n_shared[has])) if has.any() else 0.0
        k = sigma2 / tau2 if tau2 > 0 else math.inf
    shrunk = (
        np.full(n.size, np.nan)
        if k is None
        else (np.zeros(n.size) if math.isinf(k) else lenient * n_shared / (n_shared + k))
    )
    enough = n_shared >= min_n
    typical = float(np.nanmedian(erratic[enough])) if enough.any() else math.nan
    out = []
    for i, rid in enumerate(rater_ids):
        flags = []
        if not enough[i]:
            flags.append("insufficient_n")
        else:
            if shrunk[i] >= threshold:
                flags.append("lenient")
            elif shrunk[i] <= -threshold:
                flags.append("harsh")
            if typical > 0 and erratic[i] > erratic_factor * typical:
                flags.append("erratic")
        out.append(
            RaterCalibration(
                rid,
                int(n[i]),
                int(n_shared[i]),
                _num(lenient[i]),
                _num(shrunk[i]),
                _num(erratic[i]),
                _num(agreement[i]),
                tuple(flags),
            )
        )
    return Calibration(tuple(out), None if sigma2 is None else math.sqrt(sigma2), k)


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def calibrate(
    ratings: Ratings,
    *,
    min_n: int = 10,
    prior_strength: float | None = None,
    threshold: float = 0.5,
    erratic_factor: float = 1.5,
) -> Calibration:
    """Per-rater leniency, shrunk leniency, erratic and agreement, with flags; see the module docstring.

    `threshold` is the shrunk leniency (in scale points) from which a rater is flagged lenient/harsh;
    `erratic_factor` times the median erratic among raters with enough data flags `erratic`.
    """
    s, r, x = ratings.subject, ratings.rater, ratings.score
    n_r_all = np.bincount(r, minlength=ratings.n_raters).astype(np.float64)
    n_s = np.bincount(s, minlength=ratings.n_subjects).astype(np.float64)
    shared = n_s[s] >= 2
    s, r, x = s[shared], r[shared], x[shared]
    sum_s = np.bincount(s, weights=x, minlength=ratings.n_subjects)
    ns = n_s[s]
    dev = x - sum_s[s] / ns
    other = (sum_s[s] - x) / (ns - 1.0)
    bc = lambda w: np.bincount(r, weights=w, minlength=ratings.n_raters)  # noqa: E731
    n_shared = bc(np.ones(x.size))
    moments = np.stack([n_shared, bc(x), bc(other), bc(x * x), bc(other * other), bc(x * other)])
    fit = _additive_fit(s, r, x, ratings.n_subjects, ratings.n_raters)
    return _finish(
        ratings.rater_ids,
        n_r_all,
        n_shared,
        bc(dev),
        moments,
        fit,
        min_n,
        prior_strength,
        threshold,
        erratic_factor,
    )


class CalibrationAccumulator:
    """Incremental calibration keyed by subject and rater ids (strings).

    add()/remove() update per-subject sums and the per-rater sums behind leniency and agreement, touching
    only the raters of the affected subject. finalize() reads those sums in O(raters) and re-solves the
    additive model for `erratic` from the stored cells (one vectorised pass; the R x R solve dominates).
    """

    def __init__(self) -> None:
        self._cells: dict[str, list[list[Any]]] = {}  # subject -> [[rater, score], ...]
        self._raters: dict[str, list[float]] = {}  # rater -> [n, n_shared, sum_dev, k, sx, so, sxx, soo, sxo]

    def _rater(self, rid: str) -> list[float]:
        return self._raters.setdefault(rid, [0.0] * 9)

    def _apply_subject(self, subject: str, sign: float) -> None:
        cells = self._cells.get(subject, [])
        m = len(cells)
        if m < 2:
            return
        total = sum(v for _, v in cells)
        for rid, v in cells:
            o = (total - v) / (m - 1)
            st = self._rater(rid)
            for i, d in enumerate((1.0, v - total / m, 1.0, v, o, v * v, o * o, v * o), start=1):
                st[i] += sign * d

    def add(self, subject: str, rater: str, score: float) -> None:
        subject, rater = str(subject), str(rater)
        self._apply_subject(subject, -1.0)
        self._cells.setdefault(subject, []).append([rater, float(score)])
        self._rater(rater)[0] += 1
        self._apply_subject(subject, +1.0)

    def remove(self, subject: str, rater: str, score: float) -> None:
        subject, rater, score = str(subject), str(rater), float(score)
        cells = self._cells.get(subject, [])
        if [rater, score] not in cells:
            raise KeyError(f"no score {score!r} by rater {rater!r} on subject {subject!r} to remove")
        self._apply_subject(subject, -1.0)
        cells.remove([rater, score])
        self._rater(rater)[0] -= 1
        if not cells:
            del self._cells[subject]
        self._apply_subject(subject, +1.0)
        if self._raters[rater][0] == 0:
            del self._raters[rater]

    def finalize(
        self,
        *,
        min_n: int = 10,
        prior_strength: float | None = None,
        threshold: float = 0.5,
        erratic_factor: float = 1.5,
    ) -> Calibration:
        rater_ids = tuple(sorted(self._raters))
        st = np.array([self._raters[r] for r in rater_ids], dtype=np.float64).reshape(-1, 9).T
        subj, rat, val = [], [], []
        for sid, cells in self._cells.items():
            if len(cells) >= 2:
                for rid, v in cells:
                    subj.append(sid)
                    rat.append(rid)
                    val.append(v)
        shared = long_ratings(subj, rat, val) if val else None
        pos = {rid: i for i, rid in enumerate(rater_ids)}
        if shared is None:
            fit = _AdditiveFit(np.zeros(len(rater_ids)), None)
        else:
            rmap = np.array([pos[r] for r in shared.rater_ids], dtype=np.intp)
            fit = _additive_fit(
                shared.subject, rmap[shared.rater], shared.score, shared.n_subjects, len(rater_ids)
            )
        return _finish(
            rater_ids, st[0], st[1], st[2], st[3:9], fit, min_n, prior_strength, threshold, erratic_factor
        )

    def to_state(self) -> dict[str, Any]:
        return {"cells": self._cells, "raters": self._raters}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> CalibrationAccumulator:
        acc = cls()
        acc._cells = {s: [[r, float(v)] for r, v in cells] for s, cells in state["cells"].items()}
        acc._raters = {r: [float(x) for x in v] for r, v in state["raters"].items()}
        return acc

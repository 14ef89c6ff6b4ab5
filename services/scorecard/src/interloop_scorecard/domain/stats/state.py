"""The persisted statistics of one (job, round, dimension): accumulators updated per scorecard, and the
reports read from them.

A submission adds each rating (subject = candidate, rater = interviewer); an amendment removes the old
version's ratings and adds the new ones. Reading a report never touches the scorecards: alpha, counts
and calibration sums come from the accumulators, and the design-wide statistics (ICC, Fleiss, Gwet,
Cohen pairs, bootstrap CIs) from the cells the calibration accumulator already keeps for this key only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .calibration import Calibration, CalibrationAccumulator
from .descriptive import DescriptiveAccumulator
from .icc import IccResult, icc
from .kappa import RaterPairKappa, fleiss_kappa_ratings, gwet_ac, pairwise_cohen_kappa
from .krippendorff import LEVELS, AlphaAccumulator, AlphaInterval, krippendorff_alpha_ci
from .ratings import Ratings, long_ratings


def _fin(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class Reliability:
    n_subjects: int
    n_raters: int
    n_ratings: int
    icc: IccResult
    alpha: dict[str, float]  # incremental point estimates per level
    alpha_ci: dict[str, AlphaInterval]
    fleiss_kappa: float | None
    gwet_ac1: float | None
    gwet_ac2_linear: float | None
    gwet_ac2_quadratic: float | None
    cohen_pairs: tuple[tuple[RaterPairKappa, float, float], ...]  # (unweighted, linear, quadratic)
    calibration: Calibration
    scale_points: tuple[float, ...]


@dataclass(frozen=True)
class CandidateSpread:
    candidate_id: str
    n: int
    sd: float
    minimum: float
    maximum: float


@dataclass(frozen=True)
class Summary:
    n: int
    mean: float | None
    sd: float | None
    distribution: dict[float, int]
    within_candidate_sd: float | None
    alpha_ordinal: float | None
    disagreements: tuple[CandidateSpread, ...]


class DimensionState:
    """Alpha, calibration and descriptive accumulators of one dimension, plus the scale seen so far."""

    def __init__(self) -> None:
        self.alpha = AlphaAccumulator()
        self.calibration = CalibrationAccumulator()
        self.descriptive = DescriptiveAccumulator()
        self.scale: tuple[int, int] | None = None

    def add(self, candidate: str, interviewer: str, score: float, scale: tuple[int, int]) -> None:
        self.alpha.add(candidate, score)
        self.calibration.add(candidate, interviewer, score)
        self.descriptive.add(score)
        # a template revision may widen the scale; categories span every point any version allowed
        self.scale = (
            scale if self.scale is None else (min(self.scale[0], scale[0]), max(self.scale[1], scale[1]))
        )

    def remove(self, candidate: str, interviewer: str, score: float) -> None:
        self.alpha.remove(candidate, score)
        self.calibration.remove(candidate, interviewer, score)
        self.descriptive.remove(score)

    @property
    def n_ratings(self) -> int:
        return sum(self.descriptive.counts.values())

    def ratings(self) -> Ratings:
        subj, rat, val = [], [], []
        for sid, cells in sorted(self.calibration._cells.items()):  # noqa: SLF001 - the accumulator's own cells
            for rid, v in cells:
                subj.append(sid)
                rat.append(rid)
                val.append(v)
        return long_ratings(np.asarray(subj, dtype=object), np.asarray(rat, dtype=object), val)

    def scale_points(self) -> tuple[float, ...]:
        seen = sorted(self.descriptive.counts)
        lo = min([self.scale[0]] + seen) if self.scale else (seen[0] if seen else 0)
        hi = max([self.scale[1]] + seen) if self.scale else (seen[-1] if seen else 0)
        return tuple(float(p) for p in range(int(lo), int(hi) + 1))

    # -- reports ---------------------------------------------------------------------------------
    def reliability(self, *, n_boot: int = 1000, min_n: int = 10, seed: int = 0) -> Reliability:
        r = self.ratings()
        cats = list(self.scale_points())
        ok = r.n_ratings >= 2 and len(cats) >= 2
        fleiss = fleiss_kappa_ratings(r, cats) if ok else None
        gw = {w: gwet_ac(r, cats, w).coefficient if ok else math.nan for w in (None, "linear", "quadratic")}
        pairs = []
        if ok:
            plain = pairwise_cohen_kappa(r, cats, None)
            lin = pairwise_cohen_kappa(r, cats, "linear")
            quad = pairwise_cohen_kappa(r, cats, "quadratic")
            pairs = [(p, a.kappa, b.kappa) for p, a, b in zip(plain, lin, quad, strict=True)]
        return Reliability(
            n_subjects=r.n_subjects,
            n_raters=r.n_raters,
            n_ratings=r.n_ratings,
            icc=icc(r),
            alpha={lv: self.alpha.finalize(lv) for lv in LEVELS},
            alpha_ci={lv: krippendorff_alpha_ci(r, lv, n_boot=n_boot, seed=seed) for lv in LEVELS}
            if r.n_ratings >= 2
            else {},
            fleiss_kappa=None if fleiss is None else _fin(fleiss.kappa),
            gwet_ac1=_fin(gw[None]),
            gwet_ac2_linear=_fin(gw["linear"]),
            gwet_ac2_quadratic=_fin(gw["quadratic"]),
            cohen_pairs=tuple(pairs),
            calibration=self.calibration.finalize(min_n=min_n),
            scale_points=tuple(cats),
        )

    def summary(self) -> Summary:
        n, mean, sd, dist = self.descriptive.finalize()
        full = {p: 0 for p in self.scale_points()}
        full.update(dist)
        spreads = []
        for sid, cells in self.calibration._cells.items():  # noqa: SLF001
            if len(cells) >= 2:
                v = np.array([c[1] for c in cells])
                spreads.append(
                    CandidateSpread(sid, v.size, float(v.std(ddof=1)), float(v.min()), float(v.max()))
                )
        spreads.sort(key=lambda s: (-s.sd, s.candidate_id))
        alpha = self.alpha.finalize("ordinal")
        return Summary(
            n=n,
            mean=mean,
            sd=sd,
            distribution=dict(sorted(full.items())),
            within_candidate_sd=float(np.mean([s.sd for s in spreads])) if spreads else None,
            alpha_ordinal=_fin(alpha),
            disagreements=tuple(spreads),
        )

    # -- persistence -----------------------------------------------------------------------------
    def to_state(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha.to_state(),
            "calibration": self.calibration.to_state(),
            "descriptive": self.descriptive.to_state(),
            "scale": list(self.scale) if self.scale else None,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> DimensionState:
        s = cls()
        s.alpha = AlphaAccumulator.from_state(state["alpha"])
        s.calibration = CalibrationAccumulator.from_state(state["calibration"])
        s.descriptive = DescriptiveAccumulator.from_state(state["descriptive"])
        s.scale = tuple(state["scale"]) if state.get("scale") else None  # type: ignore[assignment]
        return s

    def equivalent(self, other: DimensionState, tol: float = 1e-9) -> bool:
        """Same data (cells and counts) and the same derived sums up to float rounding."""
        if self.descriptive.counts != other.descriptive.counts:
            return False
        mine = {k: sorted(map(tuple, v)) for k, v in self.calibration._cells.items()}  # noqa: SLF001
        theirs = {k: sorted(map(tuple, v)) for k, v in other.calibration._cells.items()}  # noqa: SLF001
        if mine != theirs:
            return False
        for lv in LEVELS:
            a, b = self.alpha.finalize(lv), other.alpha.finalize(lv)
            if not (math.isnan(a) and math.isnan(b)) and not math.isclose(a, b, rel_tol=tol, abs_tol=tol):
                return False
        return True

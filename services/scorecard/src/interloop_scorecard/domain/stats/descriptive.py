"""Per-dimension distributions, means, SDs and disagreement (within-candidate SD and alpha)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .krippendorff import Level, krippendorff_alpha
from .ratings import Ratings, long_ratings


@dataclass(frozen=True)
class DimensionSummary:
    n: int
    mean: float | None
    sd: float | None
    distribution: dict[float, int]
    within_subject_sd: float | None  # mean SD of the ratings on one candidate, over candidates with >= 2
    alpha: float | None


def describe(
    ratings: Ratings, scale: Sequence[float] | None = None, level: Level = "ordinal"
) -> DimensionSummary:
    """Summary of one dimension; `scale` lists every scale point so unused points show as 0."""
    x = ratings.score
    n = int(x.size)
    values, counts = np.unique(x, return_counts=True)
    dist = {float(v): 0 for v in scale} if scale is not None else {}
    dist.update({float(v): int(c) for v, c in zip(values, counts, strict=True)})
    n_s = np.bincount(ratings.subject, minlength=ratings.n_subjects).astype(np.float64)
    multi = n_s >= 2
    within = None
    if multi.any():
        mean_s = np.bincount(ratings.subject, weights=x, minlength=ratings.n_subjects) / np.maximum(n_s, 1)
        dev = x - mean_s[ratings.subject]
        ss = np.bincount(ratings.subject, weights=dev * dev, minlength=ratings.n_subjects)
        within = float(np.mean(np.sqrt(ss[multi] / (n_s[multi] - 1))))
    alpha = krippendorff_alpha(ratings, level) if n >= 2 else math.nan
    return DimensionSummary(
        n=n,
        mean=float(x.mean()) if n else None,
        sd=float(x.std(ddof=1)) if n >= 2 else None,
        distribution=dict(sorted(dist.items())),
        within_subject_sd=within,
        alpha=alpha if math.isfinite(alpha) else None,
    )


def describe_dimensions(
    dimensions: Sequence[Any],
    subjects: Sequence[Any],
    raters: Sequence[Any],
    scores: ArrayLike,
    scales: Mapping[Any, Sequence[float]] | None = None,
    level: Level = "ordinal",
) -> dict[Any, DimensionSummary]:
    """`describe` for each dimension of long-format rows."""
    dims = np.asarray(dimensions, dtype=object)
    subj = np.asarray(subjects, dtype=object)
    rat = np.asarray(raters, dtype=object)
    x = np.asarray(scores, dtype=np.float64)
    out = {}
    for d in dict.fromkeys(dims.tolist()):
        mask = dims == d
        out[d] = describe(
            long_ratings(subj[mask], rat[mask], x[mask]), None if scales is None else scales.get(d), level
        )
    return out


class DescriptiveAccumulator:
    """Running count / mean / SD / distribution for one dimension (Welford-free: integer-friendly sums)."""

    def __init__(self) -> None:
        self.counts: dict[float, int] = {}

    def add(self, score: float) -> None:
        self.counts[float(score)] = self.counts.get(float(score), 0) + 1

    def remove(self, score: float) -> None:
        v = float(score)
        if self.counts.get(v, 0) == 0:
            raise KeyError(f"no score {v!r} to remove")
        self.counts[v] -= 1
        if not self.counts[v]:
            del self.counts[v]

    def finalize(self) -> tuple[int, float | None, float | None, dict[float, int]]:
        """(n, mean, sd, distribution); sums run over distinct values, so cost is O(scale points)."""
        v = np.array(list(self.counts), dtype=np.float64)
        c = np.array(list(self.counts.values()), dtype=np.float64)
        n = int(c.sum())
        if n == 0:
            return 0, None, None, {}
        mean = float(c @ v / n)
        sd = float(math.sqrt(c @ (v - mean) ** 2 / (n - 1))) if n >= 2 else None
        return n, mean, sd, dict(sorted(self.counts.items()))

    def to_state(self) -> dict[str, Any]:
        return {"counts": [[v, c] for v, c in sorted(self.counts.items())]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> DescriptiveAccumulator:
        acc = cls()
        acc.counts = {float(v): int(c) for v, c in state["counts"]}
        return acc

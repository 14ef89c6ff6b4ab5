"""Long-format ratings (subject, rater, score) and the reshaping every statistic shares."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class Ratings:
    """One score per row; subjects and raters are coded 0..S-1 / 0..R-1 in first-seen sorted order."""

    subject: NDArray[np.intp]
    rater: NDArray[np.intp]
    score: NDArray[np.float64]
    subject_ids: tuple[Any, ...]
    rater_ids: tuple[Any, ...]

    @property
    def n_subjects(self) -> int:
        return len(self.subject_ids)

    @property
    def n_raters(self) -> int:
        return len(self.rater_ids)

    @property
    def n_ratings(self) -> int:
        return int(self.score.size)


def _codes(labels: Sequence[Any] | ArrayLike) -> tuple[NDArray[np.intp], tuple[Any, ...]]:
    arr = np.asarray(labels)
    if arr.dtype == object:
        # mixed labels (e.g. ints and strings) cannot be sorted by numpy; code them by first appearance
        index: dict[Any, int] = {}
        codes = np.fromiter((index.setdefault(v, len(index)) for v in arr), dtype=np.intp, count=arr.size)
        return codes, tuple(index)
    uniq, inverse = np.unique(arr, return_inverse=True)
    return inverse.astype(np.intp, copy=False), tuple(uniq.tolist())


def long_ratings(
    subjects: Sequence[Any] | ArrayLike, raters: Sequence[Any] | ArrayLike, scores: ArrayLike
) -> Ratings:
    """Build `Ratings` from three equally long columns; rows with a NaN score are dropped."""
    score = np.asarray(scores, dtype=np.float64).ravel()
    s_codes, s_ids = _codes(subjects)
    r_codes, r_ids = _codes(raters)
    if not (s_codes.size == r_codes.size == score.size):
        raise ValueError(
            f"subjects, raters and scores must have the same length, got {s_codes.size}, {r_codes.size}, "
            f"{score.size}"
        )
    keep = ~np.isnan(score)
    if not keep.all():
        s_codes, r_codes, score = s_codes[keep], r_codes[keep], score[keep]
    return Ratings(s_codes, r_codes, score, s_ids, r_ids)


def matrix_ratings(matrix: ArrayLike) -> Ratings:
    """Build `Ratings` from a subjects x raters matrix with NaN for "not rated"."""
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError(f"ratings matrix must be 2-D (subjects x raters), got {m.ndim}-D")
    s, r = np.nonzero(~np.isnan(m))
    return Ratings(
        s.astype(np.intp), r.astype(np.intp), m[s, r], tuple(range(m.shape[0])), tuple(range(m.shape[1]))
    )


def complete_matrix(ratings: Ratings) -> tuple[NDArray[np.float64] | None, str | None]:
    """The subjects x raters matrix if every rater scored every subject exactly once, else why not."""
    n_s, n_r = ratings.n_subjects, ratings.n_raters
    cell = ratings.subject * n_r + ratings.rater
    counts = np.bincount(cell, minlength=n_s * n_r)
    if (counts > 1).any():
        dup = int(np.argmax(counts > 1))
        return None, (
            f"rater {ratings.rater_ids[dup % n_r]!r} scored subject {ratings.subject_ids[dup // n_r]!r} "
            f"{int(counts[dup])} times; give one score per subject and rater"
        )
    missing = int((counts == 0).sum())
    if missing:
        return None, (
            f"design is incomplete: {missing} of {n_s * n_r} subject x rater cells are missing; ICC needs "
            "every rater to score every subject (use Krippendorff's alpha for incomplete designs)"
        )
    m = np.empty(n_s * n_r)
    m[cell] = ratings.score
    return m.reshape(n_s, n_r), None

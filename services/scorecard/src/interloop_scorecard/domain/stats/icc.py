"""Intraclass correlations in the six Shrout & Fleiss (1979) / McGraw & Wong (1996) forms.

ICC1/ICC1k: one-way random (each subject rated by different raters); ICC2/ICC2k: two-way random,
absolute agreement; ICC3/ICC3k: two-way mixed, consistency. The k forms are the reliability of the mean
of the k raters. F tests, df and 95% CIs follow McGraw & Wong (ICC2's CI uses Satterthwaite's df).
ICC needs a complete subjects x raters design; otherwise the result carries a note instead of values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from .ratings import Ratings, complete_matrix

FORMS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")


@dataclass(frozen=True)
class IccForm:
    name: str
    value: float
    ci95: tuple[float, float]
    F: float
    df1: int
    df2: int
    p: float

    def as_dict(self) -> dict[str, object]:
        """JSON-ready; non-finite numbers (e.g. F with zero error variance) become None."""

        def fin(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {
            "value": fin(self.value),
            "ci95": [fin(self.ci95[0]), fin(self.ci95[1])],
            "F": fin(self.F),
            "df1": self.df1,
            "df2": self.df2,
            "p": fin(self.p),
        }


@dataclass(frozen=True)
class IccResult:
    """`forms` maps ICC1..ICC3k to their estimates, or is None with `note` saying why it can't be computed."""

    forms: dict[str, IccForm] | None
    note: str | None
    n_subjects: int
    n_raters: int


def icc(data: Ratings | ArrayLike, confidence: float = 0.95) -> IccResult:
    """All six ICC forms for a `Ratings` or a complete subjects x raters matrix."""
    if isinstance(data, Ratings):
        x, note = complete_matrix(data)
        n_s, n_r = data.n_subjects, data.n_raters
    else:
        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"ratings matrix must be 2-D (subjects x raters), got {x.ndim}-D")
        n_s, n_r = x.shape
        note = None
        if np.isnan(x).any():
            note = (
                f"design is incomplete: {int(np.isnan(x).sum())} of {x.size} subject x rater cells are "
                "missing; ICC needs every rater to score every subject"
            )
            x = None
    if x is None:
        return IccResult(None, note, n_s, n_r)
    if n_s < 2 or n_r < 2:
        return IccResult(None, f"ICC needs at least 2 subjects and 2 raters, got {n_s} and {n_r}", n_s, n_r)
    return IccResult(_icc_complete(x, confidence), None, n_s, n_r)


def _icc_complete(x: np.ndarray, confidence: float) -> dict[str, IccForm]:
    n, k = x.shape
    grand = x.mean()
    row = x.mean(axis=1)
    col = x.mean(axis=0)
    ss_total = float(((x - grand) ** 2).sum())
    ss_rows = k * float(((row - grand) ** 2).sum())
    ss_cols = n * float(((col - grand) ** 2).sum())
    ss_err = ss_total - ss_rows - ss_cols
    df_r, df_c, df_e, df_w = n - 1, k - 1, (n - 1) * (k - 1), n * (k - 1)
    # numpy scalars so degenerate designs (no variance at all) give nan/inf instead of raising
    msr = np.float64(ss_rows / df_r)
    msc = np.float64(ss_cols / df_c)
    mse = np.float64(max(ss_err, 0.0) / df_e)
    msw = np.float64((ss_cols + max(ss_err, 0.0)) / df_w)
    q = 1.0 - (1.0 - confidence) / 2.0

    with np.errstate(divide="ignore", invalid="ignore"):
        # A denominator that is zero up to rounding (e.g. ICC2k when MSR = (MSE - MSC) / n) leaves the
        # form undefined: nan, not a huge number whose sign and size are rounding noise.
        scale = float(msr + msc + mse + msw)

        def ratio(num: np.float64, den: np.float64) -> np.float64:
            return np.float64(np.nan) if abs(den) <= 1e-12 * scale else np.float64(num / den)

        icc1 = ratio(msr - msw, msr + (k - 1) * msw)
        icc2 = ratio(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n)
        icc3 = ratio(msr - mse, msr + (k - 1) * mse)
        icc1k = ratio(msr - msw, msr)
        icc2k = ratio(msr - mse, msr + (msc - mse) / n)
        icc3k = ratio(msr - mse, msr)

        f1 = msr / msw
        f3 = msr / mse
        p1 = float(stats.f.sf(f1, df_r, df_w))
        p3 = float(stats.f.sf(f3, df_r, df_e))

        f1l = f1 / stats.f.ppf(q, df_r, df_w)
        f1u = f1 * stats.f.ppf(q, df_w, df_r)
        f3l = f3 / stats.f.ppf(q, df_r, df_e)
        f3u = f3 * stats.f.ppf(q, df_e, df_r)
        ci1 = ((f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1))
        ci1k = (1 - 1 / f1l, 1 - 1 / f1u)
        ci3 = ((f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1))
        ci3k = (1 - 1 / f3l, 1 - 1 / f3u)

        # ICC2: Satterthwaite df for the denominator (McGraw & Wong 1996, table 7)
        a = k * icc2 / (n * (1 - icc2))
        b = 1 + k * icc2 * (n - 1) / (n * (1 - icc2))
        v = (a * msc + b * mse) ** 2 / ((a * msc) ** 2 / df_c + (b * mse) ** 2 / df_e)
        fs = stats.f.ppf(q, df_r, v)
        fi = stats.f.ppf(q, v, df_r)
        lo2 = n * (msr - fs * mse) / (fs * (k * msc + (k * n - k - n) * mse) + n * msr)
        hi2 = n * (fi * msr - mse) / (k * msc + (k * n - k - n) * mse + n * fi * msr)
        ci2 = (lo2, hi2)
        ci2k = (lo2 * k / (1 + lo2 * (k - 1)), hi2 * k / (1 + hi2 * (k - 1)))

    def form(
        name: str, value: float, ci: tuple[float, float], f: float, d1: int, d2: int, p: float
    ) -> IccForm:
        return IccForm(name, float(value), (float(ci[0]), float(ci[1])), float(f), d1, d2, p)

    return {
        "ICC1": form("ICC1", icc1, ci1, f1, df_r, df_w, p1),
        "ICC2": form("ICC2", icc2, ci2, f3, df_r, df_e, p3),
        "ICC3": form("ICC3", icc3, ci3, f3, df_r, df_e, p3),
        "ICC1k": form("ICC1k", icc1k, ci1k, f1, df_r, df_w, p1),
        "ICC2k": form("ICC2k", icc2k, ci2k, f3, df_r, df_e, p3),
        "ICC3k": form("ICC3k", icc3k, ci3k, f3, df_r, df_e, p3),
    }

"""Adverse impact: selection rates and impact ratios by category and intersection.

* EEOC Uniform Guidelines (29 CFR 1607.4(D)) four-fifths rule, decided in exact integer arithmetic:
  group a shows adverse impact against the highest-rate group b iff sel_a * tot_b * 5 < 4 * sel_b * tot_a.
* NYC Local Law 144 (6 RCNY 5-301): for scored tools the "scoring rate" is the share of a category scoring
  above the sample median; impact ratio = scoring rate / highest scoring rate. Categories under 2% of the
  sample may be excluded from impact ratios and are reported as excluded; "unknown" is counted, not rated.
* Fisher's exact test of each category against the highest-rate category.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

MIN_SHARE = Fraction(2, 100)


@dataclass(frozen=True)
class GroupImpact:
    category: str
    selected: int
    total: int
    rate: Fraction | None
    impact_ratio: Fraction | None
    adverse_impact: bool | None  # four-fifths rule; None for the reference or an excluded category
    fisher_p: float | None
    excluded: str | None  # None, "below_min_share" or "unknown"

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "selected": self.selected,
            "total": self.total,
            "rate": None if self.rate is None else float(self.rate),
            "impact_ratio": None if self.impact_ratio is None else float(self.impact_ratio),
            "adverse_impact": self.adverse_impact,
            "fisher_p": self.fisher_p,
            "excluded": self.excluded,
        }


@dataclass(frozen=True)
class ImpactTable:
    groups: tuple[GroupImpact, ...]
    reference: str | None  # the highest-rate included category
    n: int

    def group(self, category: str) -> GroupImpact:
        return next(g for g in self.groups if g.category == category)


def four_fifths_adverse(sel_a: int, tot_a: int, sel_b: int, tot_b: int) -> bool:
    """True when a's selection rate is below 4/5 of b's, decided exactly (no floats)."""
    return sel_a * tot_b * 5 < 4 * sel_b * tot_a


def impact_table(
    counts: Mapping[str, tuple[int, int]], *, min_share: Fraction = MIN_SHARE, unknown: str | None = "unknown"
) -> ImpactTable:
    """Impact ratios from {category: (selected, total)}."""
    n = sum(t for _, t in counts.values())
    excluded: dict[str, str] = {}
    for cat, (sel, tot) in counts.items():
        if not 0 <= sel <= tot:
            raise ValueError(f"counts[{cat!r}]: selected must be between 0 and total, got {sel} of {tot}")
        if unknown is not None and cat == unknown:
            excluded[cat] = "unknown"
        elif n and Fraction(tot, n) < min_share:
            excluded[cat] = "below_min_share"
    included = [c for c, (_, t) in counts.items() if c not in excluded and t > 0]
    ref = max(included, key=lambda c: Fraction(counts[c][0], counts[c][1]), default=None)
    groups = []
    for cat, (sel, tot) in counts.items():
        rate = Fraction(sel, tot) if tot else None
        if cat in excluded or ref is None or rate is None:
            groups.append(GroupImpact(cat, sel, tot, rate, None, None, None, excluded.get(cat)))
            continue
        rs, rt = counts[ref]
        ref_rate = Fraction(rs, rt)
        ratio = rate / ref_rate if ref_rate else None
        if cat == ref:
            groups.append(GroupImpact(cat, sel, tot, rate, ratio, None, None, None))
            continue
        p = float(stats.fisher_exact([[sel, tot - sel], [rs, rt - rs]]).pvalue)
        groups.append(GroupImpact(cat, sel, tot, rate, ratio, four_fifths_adverse(sel, tot, rs, rt), p, None))
    return ImpactTable(tuple(groups), ref, n)


def _counts(categories: Sequence[str], selected: Sequence[bool]) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for cat, sel in zip(categories, selected, strict=True):
        c = out.setdefault(str(cat), [0, 0])
        c[0] += int(bool(sel))
        c[1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def selection_impact(
    attributes: Mapping[str, Sequence[str]],
    selected: Sequence[bool],
    *,
    min_share: Fraction = MIN_SHARE,
    unknown: str | None = "unknown",
    intersections: bool = True,
) -> dict[str, ImpactTable]:
    """Impact tables per attribute (e.g. "sex", "race") and, if asked, for their intersection.

    The intersection key joins attribute names with " x " and categories with " / "; a person whose value
    is `unknown` on any attribute is "unknown" in the intersection.
    """
    names = list(attributes)
    out = {
        name: impact_table(_counts(attributes[name], selected), min_share=min_share, unknown=unknown)
        for name in names
    }
    if intersections and len(names) > 1:
        cols = [list(map(str, attributes[nm])) for nm in names]
        joined = [
            unknown if unknown is not None and unknown in row else " / ".join(row)
            for row in zip(*cols, strict=True)
        ]
        out[" x ".join(names)] = impact_table(_counts(joined, selected), min_share=min_share, unknown=unknown)
    return out


def sample_median(values: Iterable[float]) -> Fraction:
    """The median of the whole sample, exact (LL144: "the median score for the full sample")."""
    ordered = sorted(Fraction(v) for v in values)
    k = len(ordered)
    if k == 0:
        raise ValueError("scores must not be empty")
    return ordered[k // 2] if k % 2 else (ordered[k // 2 - 1] + ordered[k // 2]) / 2


def above_median(scores: ArrayLike) -> tuple[Fraction, list[bool]]:
    """The sample median and, per score, whether it is above it (LL144's "scoring rate" outcome)."""
    x = np.asarray(scores, dtype=np.float64).tolist()
    median = sample_median(x)
    return median, [Fraction(v) > median for v in x]


def scoring_rate_impact(
    attributes: Mapping[str, Sequence[str]],
    scores: ArrayLike,
    *,
    min_share: Fraction = MIN_SHARE,
    unknown: str | None = "unknown",
    intersections: bool = True,
) -> dict[str, ImpactTable]:
    """NYC LL144 scoring-rate impact ratios: "selected" means scoring above the sample median."""
    _, above = above_median(scores)
    return selection_impact(
        attributes, above, min_share=min_share, unknown=unknown, intersections=intersections
    )

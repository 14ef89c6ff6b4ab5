"""Invariants checked with hypothesis (kept small: the suite shares two cores)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from interloop_scorecard.domain.stats.adverse_impact import impact_table
from interloop_scorecard.domain.stats.calibration import calibrate
from interloop_scorecard.domain.stats.icc import icc
from interloop_scorecard.domain.stats.krippendorff import LEVELS, krippendorff_alpha
from interloop_scorecard.domain.stats.ratings import matrix_ratings

FAST = settings(max_examples=25, deadline=None)

scores_5pt = arrays(
    np.float64, st.tuples(st.integers(3, 12), st.integers(2, 5)), elements=st.integers(1, 5).map(float)
)


@FAST
@given(units=st.lists(st.integers(1, 5), min_size=2, max_size=15), raters=st.integers(2, 5))
def test_alpha_is_one_under_perfect_agreement(units, raters):
    if len(set(units)) < 2:
        units = [*units, (units[0] % 5) + 1]
    x = np.repeat(np.array(units, dtype=float)[:, None], raters, axis=1)
    for level in LEVELS:
        assert krippendorff_alpha(x, level) == 1.0 or abs(krippendorff_alpha(x, level) - 1) < 1e-12


@FAST
@given(x=scores_5pt, shift=st.floats(-50, 50), scale=st.floats(0.1, 10))
def test_icc_invariant_to_linear_rescaling(x, shift, scale):
    base = icc(x).forms
    moved = icc(x * scale + shift).forms
    if base is None or moved is None:
        return
    for name, f in base.items():
        if np.isfinite(f.value):
            assert abs(moved[name].value - f.value) < 1e-6


@FAST
@given(x=scores_5pt, shift=st.floats(-50, 50))
def test_interval_alpha_invariant_to_shift(x, shift):
    a, b = krippendorff_alpha(x, "interval"), krippendorff_alpha(x + shift, "interval")
    assert (np.isnan(a) and np.isnan(b)) or abs(a - b) < 1e-9


@FAST
@given(x=scores_5pt)
def test_leniency_sums_to_zero_on_complete_designs(x):
    cal = calibrate(matrix_ratings(x), min_n=1)
    assert abs(sum(rc.leniency or 0.0 for rc in cal.raters)) < 1e-9


@FAST
@given(
    groups=st.dictionaries(
        st.sampled_from("ABCDEF"),
        st.tuples(st.integers(0, 60), st.integers(1, 60)).map(lambda t: (min(t), max(t))),
        min_size=1,
        max_size=6,
    )
)
def test_impact_ratios_are_within_zero_and_one(groups):
    t = impact_table(groups, min_share=Fraction(0))
    ref = t.group(t.reference) if t.reference else None
    for g in t.groups:
        if g.impact_ratio is not None:
            assert 0 <= g.impact_ratio <= 1
    if ref is not None and ref.rate:
        assert ref.impact_ratio == 1


@FAST
@given(
    x=arrays(
        np.float64,
        st.tuples(st.integers(2, 40), st.integers(2, 6)),
        elements=st.one_of(st.just(np.nan), st.integers(-3, 7).map(float), st.floats(-5, 5, width=32)),
    ),
    block=st.integers(1, 64),
)
def test_streamed_matrix_alpha_equals_the_long_form(x, block):
    """Subjects x raters matrices are streamed in blocks of units (bounded memory); whatever the block
    size, missing pattern or scale, the result is the long-form computation's."""
    from interloop_scorecard.domain.stats import krippendorff as k
    from interloop_scorecard.domain.stats.ratings import long_ratings

    subject, rater = np.nonzero(~np.isnan(x))
    long = long_ratings(subject.tolist(), rater.tolist(), x[subject, rater])
    saved = k._BLOCK_CELLS
    k._BLOCK_CELLS = block
    try:
        for level in LEVELS:
            a, b = krippendorff_alpha(x, level), krippendorff_alpha(long, level)
            assert (np.isnan(a) and np.isnan(b)) or abs(a - b) < 1e-9, (level, a, b)
    finally:
        k._BLOCK_CELLS = saved

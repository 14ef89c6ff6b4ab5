"""Krippendorff's alpha: Krippendorff (2011) worked example, the krippendorff package, the accumulator."""

from __future__ import annotations

import json

import krippendorff as kd
import numpy as np
import pytest
from interloop_scorecard.domain.stats import krippendorff as kmod
from interloop_scorecard.domain.stats.krippendorff import (
    LEVELS,
    AlphaAccumulator,
    krippendorff_alpha,
    krippendorff_alpha_all,
    krippendorff_alpha_ci,
)
from interloop_scorecard.domain.stats.ratings import long_ratings

nan = np.nan
# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", section C: 4 observers x 12 units
K2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
        [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan],
    ]
)


def test_krippendorff_2011_published_values():
    alphas = krippendorff_alpha_all(K2011.T)
    assert alphas["nominal"] == pytest.approx(0.743, abs=5e-4)
    assert alphas["ordinal"] == pytest.approx(0.815, abs=5e-4)
    assert alphas["interval"] == pytest.approx(0.849, abs=5e-4)
    assert alphas["ratio"] == pytest.approx(0.797, abs=5e-4)
    # nominal in closed form from the paper's coincidence matrix: n = 40, diagonal o_cc = 7, 10, 8, 4, 3,
    # marginals n_c = 9, 13, 10, 5, 3
    sum_occ, sum_nc2 = 7 + 10 + 8 + 4 + 3, 9**2 + 13**2 + 10**2 + 5**2 + 3**2
    assert alphas["nominal"] == pytest.approx(1 - 39 * (40 - sum_occ) / (40**2 - sum_nc2), abs=1e-12)


@pytest.mark.parametrize("scale", ["5pt", "0-99", "continuous"])
def test_matches_krippendorff_package(scale):
    rng = np.random.default_rng(7)
    units, raters = 120, 6
    truth = rng.normal(size=(units, 1))
    x = truth + rng.normal(0, 0.7, size=(units, raters))
    if scale == "5pt":
        x = np.clip(np.round(x + 3), 1, 5)
    elif scale == "0-99":
        x = np.clip(np.round(x * 15 + 50), 0, 99)
    else:
        x = np.abs(x) * 10
    x[rng.random(x.shape) < 0.3] = nan
    for level in LEVELS:
        if scale == "continuous" and level == "nominal":
            continue
        ref = kd.alpha(x.T, level_of_measurement=level)
        assert krippendorff_alpha(x, level) == pytest.approx(ref, abs=1e-9), level


def test_ratio_quadrature_path_matches_exact(monkeypatch):
    rng = np.random.default_rng(3)
    x = np.abs(rng.normal(5, 2, size=(300, 4)))
    exact = krippendorff_alpha(x, "ratio")
    monkeypatch.setattr(kmod, "_RATIO_EXACT_MAX_VALUES", 10)
    assert krippendorff_alpha(x, "ratio") == pytest.approx(exact, abs=1e-10)


def test_bootstrap_ci_brackets_point_estimate():
    res = krippendorff_alpha_ci(K2011.T, "interval", n_boot=300, seed=1)
    assert res.ci95[0] <= res.alpha <= res.ci95[1]
    assert res.alpha == pytest.approx(0.849, abs=5e-4)


def test_accumulator_equals_batch_and_survives_json():
    rng = np.random.default_rng(11)
    subjects = rng.integers(0, 40, 300)
    raters = rng.integers(0, 8, 300)
    scores = rng.integers(1, 6, 300).astype(float)
    acc = AlphaAccumulator()
    for s, v in zip(subjects, scores, strict=True):
        acc.add(str(s), v)
    # a retracted score must leave no trace
    acc.add("3", 5.0)
    acc.remove("3", 5.0)
    acc = AlphaAccumulator.from_state(json.loads(json.dumps(acc.to_state())))
    batch = long_ratings(subjects, raters, scores)
    for level in LEVELS:
        assert acc.finalize(level) == pytest.approx(krippendorff_alpha(batch, level), abs=1e-9), level
    # then one more scorecard arrives: update, don't recompute
    acc.add("0", 1.0)
    batch2 = long_ratings(np.append(subjects, 0), np.append(raters, 99), np.append(scores, 1.0))
    assert acc.finalize("ordinal") == pytest.approx(krippendorff_alpha(batch2, "ordinal"), abs=1e-9)


def test_ratio_is_undefined_for_negative_scores():
    assert np.isnan(krippendorff_alpha(np.array([[-1.0, 2.0], [3.0, 4.0]]), "ratio"))


def test_no_variation_is_undefined():
    assert np.isnan(krippendorff_alpha(np.full((5, 3), 2.0)))

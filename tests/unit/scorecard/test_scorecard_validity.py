"""Predictive validity: statsmodels Logit, scipy Mann-Whitney and point-biserial, small-N warnings."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from interloop_scorecard.domain.stats.validity import (
    auc,
    binary_outcome_validity,
    continuous_outcome_validity,
    logistic_regression,
    validity_by_group,
)
from scipy import stats


def _data(seed: int, n: int = 200):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, n).astype(float)
    y = rng.random(n) < 1 / (1 + np.exp(-(x - 3)))
    return x, y


@pytest.mark.parametrize("seed", [0, 1])
def test_logistic_matches_statsmodels(seed):
    x, y = _data(seed)
    ref = sm.Logit(y.astype(float), sm.add_constant(x)).fit(disp=0)
    fit = logistic_regression(x, y)
    assert fit.converged
    np.testing.assert_allclose(fit.coef, ref.params, rtol=1e-8)
    np.testing.assert_allclose(fit.se, ref.bse, rtol=1e-6)
    np.testing.assert_allclose(fit.p, ref.pvalues, rtol=1e-6)
    assert fit.log_likelihood == pytest.approx(ref.llf, rel=1e-10)


def test_auc_and_point_biserial_match_scipy():
    x, y = _data(2)
    u = stats.mannwhitneyu(x[y], x[~y]).statistic
    assert auc(x, y) == pytest.approx(u / (y.sum() * (~y).sum()))
    res = binary_outcome_validity(x, y, n_boot=200)
    pb = stats.pointbiserialr(y, x)
    assert res.point_biserial == pytest.approx(pb.statistic)
    assert res.point_biserial_p == pytest.approx(pb.pvalue)
    assert res.auc_ci95 is not None and res.auc_ci95[0] <= res.auc <= res.auc_ci95[1]
    assert res.warnings == ()


def test_small_samples_warn():
    res = binary_outcome_validity([1, 2, 3, 4, 5, 2], [0, 0, 1, 1, 1, 0], n_boot=50)
    assert any("small sample" in w for w in res.warnings)
    assert any("rarer outcome class" in w for w in res.warnings)
    undefined = binary_outcome_validity([3, 3, 3], [0, 1, 1])
    assert undefined.auc is None and any("undefined" in w for w in undefined.warnings)


def test_continuous_outcome_and_grouping():
    rng = np.random.default_rng(3)
    x = rng.normal(size=80)
    perf = x + rng.normal(size=80)
    res = continuous_outcome_validity(x, perf, n_boot=200)
    assert res.pearson == pytest.approx(stats.pearsonr(x, perf).statistic)
    assert res.spearman == pytest.approx(stats.spearmanr(x, perf).statistic)
    groups = validity_by_group(
        ["onsite"] * 40 + ["phone"] * 40, ["coding"] * 80, x, perf, binary=False, n_boot=50
    )
    assert set(groups) == {("onsite", "coding"), ("phone", "coding")}
    assert groups[("onsite", "coding")].n == 40

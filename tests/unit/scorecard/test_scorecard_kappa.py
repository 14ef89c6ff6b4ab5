"""Fleiss, Cohen and Gwet: published examples, statsmodels, and Gwet's formulas worked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from interloop_scorecard.domain.stats.kappa import (
    cohen_kappa,
    cohen_kappa_table,
    fleiss_kappa,
    fleiss_kappa_ratings,
    gwet_ac,
    pairwise_cohen_kappa,
)
from interloop_scorecard.domain.stats.ratings import long_ratings, matrix_ratings
from statsmodels.stats.inter_rater import cohens_kappa as sm_cohen
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

# Fleiss (1971), Table 1: 30 patients x 6 psychiatrists, 5 diagnoses (raw categories per patient)
FLEISS_1971 = np.array(
    [
        [4, 4, 4, 4, 4, 4],
        [2, 2, 2, 5, 5, 5],
        [2, 3, 3, 3, 3, 5],
        [5, 5, 5, 5, 5, 5],
        [2, 2, 2, 4, 4, 4],
        [1, 1, 3, 3, 3, 3],
        [3, 3, 3, 3, 5, 5],
        [1, 1, 3, 3, 3, 4],
        [1, 1, 4, 4, 4, 4],
        [5, 5, 5, 5, 5, 5],
        [1, 4, 4, 4, 4, 4],
        [1, 2, 4, 4, 4, 4],
        [2, 2, 2, 3, 3, 3],
        [1, 4, 4, 4, 4, 4],
        [2, 2, 4, 4, 4, 5],
        [3, 3, 3, 3, 3, 5],
        [1, 1, 1, 4, 5, 5],
        [1, 1, 1, 1, 1, 2],
        [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5],
        [2, 4, 4, 4, 4, 4],
        [2, 2, 4, 5, 5, 5],
        [1, 1, 4, 4, 4, 4],
        [1, 4, 4, 4, 4, 5],
        [2, 2, 2, 2, 2, 4],
        [1, 1, 1, 1, 5, 5],
        [2, 2, 4, 4, 4, 4],
        [1, 3, 3, 3, 3, 3],
        [5, 5, 5, 5, 5, 5],
    ]
)

# Wikipedia "Fleiss' kappa" worked example: 10 subjects x 14 raters, counts per category
WIKIPEDIA = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)

# irrCAC's cont3x3abstractors (Gwet 2014): 2 abstractors x 100 cases
ABSTRACTORS = np.array([[13, 0, 0], [0, 20, 7], [0, 4, 56]])

nan = np.nan
K2011 = np.array(
    [  # Krippendorff (2011) units x observers, = irrCAC's cac.raw4raters
        [1, 1, nan, 1],
        [2, 2, 3, 2],
        [3, 3, 3, 3],
        [3, 3, 3, 3],
        [2, 2, 2, 2],
        [1, 2, 3, 4],
        [4, 4, 4, 4],
        [1, 1, 2, 1],
        [2, 2, 2, 2],
        [nan, 5, 5, 5],
        [nan, nan, 1, 1],
        [nan, 3, nan, nan],
    ]
)


def test_fleiss_1971_published_kappa():
    r = fleiss_kappa_ratings(matrix_ratings(FLEISS_1971), [1, 2, 3, 4, 5])
    assert r is not None
    assert r.kappa == pytest.approx(0.430, abs=5e-4)


def test_wikipedia_fleiss_example():
    r = fleiss_kappa(WIKIPEDIA)
    assert r.kappa == pytest.approx(0.210, abs=5e-4)
    assert r.p_observed == pytest.approx(0.378, abs=5e-4)
    assert r.p_expected == pytest.approx(0.213, abs=5e-4)


def test_fleiss_matches_statsmodels_on_random_counts():
    rng = np.random.default_rng(5)
    counts = rng.multinomial(7, [0.1, 0.2, 0.4, 0.2, 0.1], size=50)
    assert fleiss_kappa(counts).kappa == pytest.approx(sm_fleiss(counts), abs=1e-12)


def test_fleiss_is_none_when_subjects_have_different_numbers_of_ratings():
    assert fleiss_kappa_ratings(matrix_ratings(K2011)) is None


def test_cohen_published_and_statsmodels():
    assert cohen_kappa_table(ABSTRACTORS) == pytest.approx(0.7964094, abs=1e-7)  # irrCAC kappa2.table
    for wt in ("linear", "quadratic"):
        assert cohen_kappa_table(ABSTRACTORS, wt) == pytest.approx(
            sm_cohen(ABSTRACTORS, wt=wt).kappa, abs=1e-12
        )


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_weights_use_the_full_scale(weights):
    rng = np.random.default_rng(9)
    # only 1, 2 and 5 are used on a 1..5 scale: position distances must be 0..4, not 0..2
    a = rng.choice([1.0, 2.0, 5.0], 80)
    b = np.where(rng.random(80) < 0.6, a, rng.choice([1.0, 2.0, 5.0], 80))
    table = np.zeros((5, 5))
    np.add.at(table, (a.astype(int) - 1, b.astype(int) - 1), 1)
    wt = {None: None, "linear": "linear", "quadratic": "quadratic"}[weights]
    ref = sm_cohen(table, wt=wt).kappa if wt else sm_cohen(table).kappa
    assert cohen_kappa(a, b, [1, 2, 3, 4, 5], weights) == pytest.approx(ref, abs=1e-12)
    if weights is not None:
        assert cohen_kappa(a, b, [1, 2, 3, 4, 5], weights) != pytest.approx(cohen_kappa(a, b, None, weights))


def test_pairwise_cohen_over_long_ratings():
    r = long_ratings(["s1", "s2", "s3", "s1", "s2", "s3"], ["a", "a", "a", "b", "b", "b"], [1, 2, 3, 1, 2, 2])
    (pair,) = pairwise_cohen_kappa(r, [1, 2, 3])
    assert (pair.rater_a, pair.rater_b, pair.n) == ("a", "b", 3)
    assert pair.kappa == pytest.approx(cohen_kappa([1, 2, 3], [1, 2, 2], [1, 2, 3]))


def test_gwet_ac1_two_raters_by_hand():
    # Gwet (2014) ch. 4 for two raters: p_a = diagonal share, pi_k = (row_k + col_k) / 2n,
    # p_e = sum pi_k (1 - pi_k) / (q - 1)
    a = np.repeat([1, 2, 2, 3, 3], [13, 20, 7, 4, 56]).astype(float)
    b = np.repeat([1, 2, 3, 2, 3], [13, 20, 7, 4, 56]).astype(float)
    p_a = (13 + 20 + 56) / 100
    pi = np.array([13 + 13, 27 + 24, 60 + 63]) / 200
    p_e = float(np.sum(pi * (1 - pi)) / 2)
    res = gwet_ac(np.c_[a, b], [1, 2, 3])
    assert res.p_agreement == pytest.approx(p_a)
    assert res.p_chance == pytest.approx(p_e)
    assert res.coefficient == pytest.approx((p_a - p_e) / (1 - p_e), abs=1e-12)
    assert res.coefficient == pytest.approx(0.8493, abs=5e-5)  # irrCAC gwet.ac1.table(cont3x3abstractors)


def _gwet_by_hand(rows, q, agree):
    """Gwet's multi-rater formulas written as plain loops, straight from the Handbook."""
    r_ik = [[sum(1 for v in row if v == k + 1) for k in range(q)] for row in rows]
    r_i = [sum(c) for c in r_ik]
    terms = []
    for c, ri in zip(r_ik, r_i, strict=True):
        if ri >= 2:
            star = [sum(agree[k][l] * c[l] for l in range(q)) for k in range(q)]  # noqa: E741
            terms.append(sum(c[k] * (star[k] - 1) for k in range(q)) / (ri * (ri - 1)))
    p_a = sum(terms) / len(terms)
    rated = [(c, ri) for c, ri in zip(r_ik, r_i, strict=True) if ri >= 1]
    pi = [sum(c[k] / ri for c, ri in rated) / len(rated) for k in range(q)]
    t_w = sum(sum(row) for row in agree)
    p_e = t_w / (q * (q - 1)) * sum(p * (1 - p) for p in pi)
    return p_a, p_e, (p_a - p_e) / (1 - p_e)


def test_gwet_ac1_and_ac2_multi_rater_by_hand():
    rows = [[v for v in row if not np.isnan(v)] for row in K2011]
    q = 5
    identity = [[1.0 if k == l else 0.0 for l in range(q)] for k in range(q)]  # noqa: E741
    quadratic = [[1 - (k - l) ** 2 / (q - 1) ** 2 for l in range(q)] for k in range(q)]  # noqa: E741
    linear = [[1 - abs(k - l) / (q - 1) for l in range(q)] for k in range(q)]  # noqa: E741
    p_a, p_e, ac1 = _gwet_by_hand(rows, q, identity)
    res = gwet_ac(K2011, [1, 2, 3, 4, 5])
    assert (res.p_agreement, res.p_chance) == (pytest.approx(p_a), pytest.approx(p_e))
    assert res.coefficient == pytest.approx(ac1, abs=1e-12)
    # irrCAC: gwet.ac1.raw(cac.raw4raters) -> pa 0.8181818, pe 0.1903212, AC1 0.7754
    assert (p_a, p_e, ac1) == (
        pytest.approx(0.8181818, abs=1e-6),
        pytest.approx(0.1903212, abs=1e-6),
        pytest.approx(0.7754, abs=5e-5),
    )
    for weights, w in (("quadratic", quadratic), ("linear", linear)):
        _, _, ac2 = _gwet_by_hand(rows, q, w)
        assert gwet_ac(K2011, [1, 2, 3, 4, 5], weights).coefficient == pytest.approx(ac2, abs=1e-12)

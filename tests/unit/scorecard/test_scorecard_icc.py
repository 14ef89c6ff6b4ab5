"""ICC: Shrout & Fleiss (1979) published table and a cross-check against pingouin."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from interloop_scorecard.domain.stats.icc import icc
from interloop_scorecard.domain.stats.ratings import long_ratings, matrix_ratings

# Shrout & Fleiss (1979), Table 2: 6 targets x 4 judges
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], dtype=float
)


def test_shrout_fleiss_published_values():
    forms = icc(SHROUT_FLEISS).forms
    assert forms is not None
    published = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}
    for name, value in published.items():
        assert round(forms[name].value, 2) == value, name
    # the unrounded values implied by the paper's mean squares (BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02)
    exact = {
        "ICC1": 0.165742,
        "ICC2": 0.289764,
        "ICC3": 0.714841,
        "ICC1k": 0.442797,
        "ICC2k": 0.620051,
        "ICC3k": 0.909316,
    }
    for name, value in exact.items():
        assert forms[name].value == pytest.approx(value, abs=5e-6), name
    assert forms["ICC1"].F == pytest.approx(11.241666 / 6.263888, rel=1e-5)
    assert (forms["ICC1"].df1, forms["ICC1"].df2) == (5, 18)
    assert (forms["ICC3"].df1, forms["ICC3"].df2) == (5, 15)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_pingouin_on_random_data(seed):
    rng = np.random.default_rng(seed)
    n, k = 25, 5
    x = rng.normal(size=(n, 1)) + rng.normal(0, 0.8, size=(n, k)) + rng.normal(0, 0.5, size=(1, k))
    df = pd.DataFrame({"t": np.repeat(np.arange(n), k), "r": np.tile(np.arange(k), n), "s": x.ravel()})
    ref = pg.intraclass_corr(df, "t", "r", "s").set_index("Type")
    names = {
        "ICC1": "ICC(1,1)",
        "ICC2": "ICC(A,1)",
        "ICC3": "ICC(C,1)",
        "ICC1k": "ICC(1,k)",
        "ICC2k": "ICC(A,k)",
        "ICC3k": "ICC(C,k)",
    }
    ours = icc(long_ratings(df["t"], df["r"], df["s"])).forms
    assert ours is not None
    for mine, theirs in names.items():
        row = ref.loc[theirs]
        f = ours[mine]
        assert f.value == pytest.approx(row["ICC"], abs=1e-9)
        assert f.F == pytest.approx(row["F"], rel=1e-9)
        assert (f.df1, f.df2) == (row["df1"], row["df2"])
        assert f.p == pytest.approx(row["pval"], rel=1e-6, abs=1e-300)
        # pingouin rounds its CI to 2 decimals
        assert f.ci95[0] == pytest.approx(row["CI95"][0], abs=0.0051)
        assert f.ci95[1] == pytest.approx(row["CI95"][1], abs=0.0051)


def test_incomplete_design_returns_note_not_numbers():
    x = SHROUT_FLEISS.copy()
    x[0, 1] = np.nan
    result = icc(matrix_ratings(x))
    assert result.forms is None
    assert "incomplete" in (result.note or "")
    dup = long_ratings(["a", "a", "b", "b", "a"], ["r1", "r2", "r1", "r2", "r1"], [1, 2, 3, 4, 5])
    assert "2 times" in (icc(dup).note or "")


def test_icc_invariant_to_adding_a_constant():
    base = icc(SHROUT_FLEISS).forms
    shifted = icc(SHROUT_FLEISS + 100.0).forms
    assert base is not None and shifted is not None
    for name in base:
        assert shifted[name].value == pytest.approx(base[name].value, abs=1e-9)

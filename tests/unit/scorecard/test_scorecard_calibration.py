"""Interviewer calibration: definitions, least-squares cross-check, shrinkage and the accumulator."""

from __future__ import annotations

import json

import numpy as np
import pytest
from interloop_scorecard.domain.stats.calibration import CalibrationAccumulator, calibrate
from interloop_scorecard.domain.stats.ratings import long_ratings, matrix_ratings


def _sparse_panel(seed: int, subjects: int = 60, raters: int = 8, keep: float = 0.5):
    rng = np.random.default_rng(seed)
    bias = rng.normal(0, 0.7, raters)
    x = rng.normal(3, 1, (subjects, 1)) + bias + rng.normal(0, 0.5, (subjects, raters))
    x[rng.random(x.shape) > keep] = np.nan
    return matrix_ratings(x), x


def test_definitions_on_a_small_table():
    x = np.array([[4.0, 2.0, 3.0], [5.0, 3.0, 4.0], [2.0, 1.0, 3.0], [4.0, 4.0, 4.0]])
    cal = calibrate(matrix_ratings(x), min_n=1)
    dev = x - x.mean(axis=1, keepdims=True)
    for j, rc in enumerate(cal.raters):
        assert rc.leniency == pytest.approx(dev[:, j].mean())
        others = (x.sum(axis=1) - x[:, j]) / 2
        assert rc.agreement == pytest.approx(np.corrcoef(x[:, j], others)[0, 1])
        # complete design: additive LS residual = double-centred value
        resid = x - x.mean(axis=1, keepdims=True) - x.mean(axis=0, keepdims=True) + x.mean()
        assert rc.erratic == pytest.approx(np.sqrt(np.mean(resid[:, j] ** 2)))
    assert sum(rc.leniency for rc in cal.raters) == pytest.approx(0, abs=1e-12)


def test_erratic_matches_dummy_variable_least_squares_on_a_sparse_design():
    r, _ = _sparse_panel(1)
    s, rt, y = r.subject, r.rater, r.score
    shared = np.bincount(s)[s] >= 2
    s, rt, y = s[shared], rt[shared], y[shared]
    design = np.column_stack(
        [
            np.eye(r.n_subjects)[s],
            np.eye(r.n_raters)[rt][:, 1:],  # drop one rater: the model is otherwise rank-deficient
        ]
    )
    beta = np.linalg.lstsq(design, y, rcond=None)[0]  # min-norm LS: residuals are unique regardless
    resid = y - design @ beta
    cal = calibrate(r)
    for j, rc in enumerate(cal.raters):
        assert rc.erratic == pytest.approx(np.sqrt(np.mean(resid[rt == j] ** 2)), abs=1e-9)


def test_three_scorecards_do_not_make_a_rater_lenient():
    rng = np.random.default_rng(2)
    subjects, raters, scores = [], [], []
    for s in range(40):
        for rid in ("a", "b", "c"):
            subjects.append(s)
            raters.append(rid)
            scores.append(3 + rng.normal(0, 0.3))
    for s in range(3):  # newcomer: three very high scores
        subjects.append(s)
        raters.append("new")
        scores.append(5.0)
    cal = calibrate(long_ratings(subjects, raters, scores), min_n=10)
    new = next(rc for rc in cal.raters if rc.rater == "new")
    assert new.leniency is not None and new.leniency > 1
    assert "insufficient_n" in new.flags and "lenient" not in new.flags
    assert abs(new.leniency_shrunk or 0) < abs(new.leniency)


def test_a_consistently_lenient_rater_is_flagged():
    rng = np.random.default_rng(4)
    x = rng.normal(3, 1, (60, 1)) + rng.normal(0, 0.3, (60, 5))
    x[:, 0] += 1.5
    cal = calibrate(matrix_ratings(x))
    assert "lenient" in cal.raters[0].flags
    assert all("lenient" not in rc.flags for rc in cal.raters[1:])


def test_accumulator_equals_batch():
    r, _ = _sparse_panel(3)
    acc = CalibrationAccumulator()
    for s, rt, v in zip(r.subject, r.rater, r.score, strict=True):
        acc.add(f"s{s:03d}", f"r{rt:02d}", v)
    acc.add("s001", "r00", 9.0)
    acc.remove("s001", "r00", 9.0)
    acc = CalibrationAccumulator.from_state(json.loads(json.dumps(acc.to_state())))
    inc = acc.finalize()
    batch = calibrate(long_ratings([f"s{s:03d}" for s in r.subject], [f"r{t:02d}" for t in r.rater], r.score))
    assert [a.rater for a in inc.raters] == [b.rater for b in batch.raters]
    for a, b in zip(inc.raters, batch.raters, strict=True):
        assert (a.n, a.n_shared, a.flags) == (b.n, b.n_shared, b.flags)
        for attr in ("leniency", "leniency_shrunk", "erratic", "agreement"):
            assert getattr(a, attr) == pytest.approx(getattr(b, attr), abs=1e-9), attr

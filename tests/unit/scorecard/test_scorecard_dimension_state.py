"""The persisted per-dimension state: incremental add/remove equals a batch computation, survives JSON."""

from __future__ import annotations

import json
import math
import random

import pytest
from interloop_scorecard.domain.stats.calibration import calibrate
from interloop_scorecard.domain.stats.icc import icc
from interloop_scorecard.domain.stats.krippendorff import LEVELS, krippendorff_alpha
from interloop_scorecard.domain.stats.ratings import long_ratings
from interloop_scorecard.domain.stats.state import DimensionState


def _data(seed: int = 3, subjects: int = 12, raters: tuple[str, ...] = ("a", "b", "c", "d")):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    rows = []
    for s in range(subjects):
        q = rng.randint(1, 5)
        for r in raters:
            if rng.random() < 0.8:
                rows.append((f"s{s:02d}", r, float(max(1, min(5, q + rng.choice((-1, 0, 0, 1)))))))
    return rows


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def test_incremental_alpha_and_calibration_equal_batch_after_amendments() -> None:
    rows = _data()
    state = DimensionState()
    for s, r, v in rows:
        state.add(s, r, v, (1, 5))
    # amend a third of the ratings: remove the old version's value, add the new one
    rng = random.Random(11)
    current = list(rows)
    for i in range(0, len(current), 3):
        s, r, v = current[i]
        nv = float(rng.randint(1, 5))
        state.remove(s, r, v)
        state.add(s, r, nv, (1, 5))
        current[i] = (s, r, nv)
    state = DimensionState.from_state(json.loads(json.dumps(state.to_state())))  # as stored in jsonb
    batch = long_ratings(*zip(*sorted(current), strict=True))
    for level in LEVELS:
        assert _close(state.alpha.finalize(level), krippendorff_alpha(batch, level))
    mine = {r.rater: r for r in state.calibration.finalize(min_n=3).raters}
    for ref in calibrate(batch, min_n=3).raters:
        got = mine[ref.rater]
        assert got.n == ref.n and _close(got.leniency, ref.leniency) and _close(got.agreement, ref.agreement)
        assert got.flags == ref.flags
    n, mean, sd, _ = state.descriptive.finalize()
    assert (
        n == len(current)
        and _close(mean, float(batch.score.mean()))
        and _close(sd, float(batch.score.std(ddof=1)))
    )


def test_reliability_report_has_icc_only_for_complete_designs() -> None:
    complete = DimensionState()
    for s in range(6):
        for r, bias in (("a", 0), ("b", 1), ("c", 0)):
            complete.add(f"s{s}", r, float(min(5, 1 + s % 4 + bias)), (1, 5))
    rel = complete.reliability(n_boot=50, min_n=2)
    assert rel.icc.forms is not None and set(rel.icc.forms) == {
        "ICC1",
        "ICC2",
        "ICC3",
        "ICC1k",
        "ICC2k",
        "ICC3k",
    }
    ref = icc(complete.ratings()).forms
    assert ref is not None and _close(rel.icc.forms["ICC2"].value, ref["ICC2"].value)
    assert rel.fleiss_kappa is not None and len(rel.cohen_pairs) == 3 and set(rel.alpha_ci) == set(LEVELS)
    assert rel.scale_points == (1.0, 2.0, 3.0, 4.0, 5.0)

    incomplete = DimensionState()
    for s, r, v in _data(subjects=6):
        incomplete.add(s, r, v, (1, 5))
    rel = incomplete.reliability(n_boot=20)
    if rel.icc.forms is None:
        assert "incomplete" in (rel.icc.note or "")


def test_summary_lists_full_scale_and_biggest_disagreement_first() -> None:
    st = DimensionState()
    for s, r, v in (("x", "a", 1.0), ("x", "b", 5.0), ("y", "a", 3.0), ("y", "b", 3.0), ("z", "a", 2.0)):
        st.add(s, r, v, (1, 5))
    summary = st.summary()
    assert summary.distribution == {1.0: 1, 2.0: 1, 3.0: 2, 4.0: 0, 5.0: 1}
    assert [d.candidate_id for d in summary.disagreements] == ["x", "y"]
    assert summary.within_candidate_sd == pytest.approx((math.sqrt(8.0) + 0.0) / 2)


def test_empty_or_single_rating_state_reports_without_error() -> None:
    st = DimensionState()
    st.add("x", "a", 3.0, (1, 5))
    rel = st.reliability(n_boot=10)
    assert rel.n_ratings == 1 and rel.icc.forms is None and rel.fleiss_kappa is None
    st.add("y", "b", 4.0, (1, 5))  # two ratings, but no candidate rated twice: nothing pairable
    rel = st.reliability(n_boot=10)
    assert all(math.isnan(v) for v in rel.alpha.values()) and rel.gwet_ac1 is None
    st.remove("x", "a", 3.0)
    st.remove("y", "b", 4.0)
    assert st.n_ratings == 0 and st.summary().n == 0


def test_equivalent_detects_drift() -> None:
    a, b = DimensionState(), DimensionState()
    for s, r, v in _data(subjects=5):
        a.add(s, r, v, (1, 5))
        b.add(s, r, v, (1, 5))
    assert a.equivalent(b)
    b.add("extra", "a", 2.0, (1, 5))
    assert not a.equivalent(b)

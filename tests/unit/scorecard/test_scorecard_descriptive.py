"""Per-dimension summaries and their accumulator."""

from __future__ import annotations

import json

import numpy as np
import pytest
from interloop_scorecard.domain.stats.descriptive import DescriptiveAccumulator, describe, describe_dimensions
from interloop_scorecard.domain.stats.krippendorff import krippendorff_alpha
from interloop_scorecard.domain.stats.ratings import long_ratings


def test_describe_shows_the_full_scale_and_disagreement():
    r = long_ratings(["a", "a", "b", "b", "c"], ["x", "y", "x", "y", "x"], [1, 3, 2, 2, 4])
    d = describe(r, scale=[1, 2, 3, 4, 5])
    assert d.distribution == {1.0: 1, 2.0: 2, 3.0: 1, 4.0: 1, 5.0: 0}
    assert d.mean == pytest.approx(2.4) and d.sd == pytest.approx(np.std([1, 3, 2, 2, 4], ddof=1))
    assert d.within_subject_sd == pytest.approx((np.std([1, 3], ddof=1) + 0.0) / 2)
    assert d.alpha == pytest.approx(krippendorff_alpha(r, "ordinal"))


def test_describe_dimensions_splits_rows():
    out = describe_dimensions(["c", "c", "m", "m"], ["a", "a", "a", "a"], ["x", "y", "x", "y"], [1, 2, 3, 3])
    assert set(out) == {"c", "m"} and out["m"].within_subject_sd == 0


def test_accumulator_equals_batch():
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, 200).astype(float)
    acc = DescriptiveAccumulator()
    for v in x:
        acc.add(v)
    acc.add(5)
    acc.remove(5)
    acc = DescriptiveAccumulator.from_state(json.loads(json.dumps(acc.to_state())))
    n, mean, sd, _ = acc.finalize()
    assert (n, mean, sd) == (200, pytest.approx(x.mean()), pytest.approx(x.std(ddof=1)))

"""Adverse impact: UGESP four-fifths examples, LL144 scoring rates, exclusions, Fisher's exact test."""

from __future__ import annotations

from fractions import Fraction

import pytest
from interloop_scorecard.domain.stats.adverse_impact import (
    four_fifths_adverse,
    impact_table,
    scoring_rate_impact,
    selection_impact,
)
from scipy import stats


def test_ugesp_example_80_of_120_vs_24_of_48():
    t = impact_table({"White": (80, 120), "Black": (24, 48)})
    white, black = t.group("White"), t.group("Black")
    assert t.reference == "White"
    assert white.rate == Fraction(2, 3) and black.rate == Fraction(1, 2)
    assert black.impact_ratio == Fraction(3, 4)
    assert black.adverse_impact is True
    assert black.fisher_p == pytest.approx(stats.fisher_exact([[24, 24], [80, 40]]).pvalue)


def test_exactly_four_fifths_is_not_adverse():
    # 40/100 vs 50/100: ratio 0.8 exactly; floats could tip either way, integers cannot
    assert four_fifths_adverse(40, 100, 50, 100) is False
    assert four_fifths_adverse(39, 100, 50, 100) is True
    t = impact_table({"a": (50, 100), "b": (40, 100)})
    assert t.group("b").impact_ratio == Fraction(4, 5) and t.group("b").adverse_impact is False


def test_small_categories_and_unknown_are_excluded_and_shown():
    t = impact_table({"A": (50, 100), "B": (30, 100), "C": (1, 3), "unknown": (2, 10)})
    assert t.group("C").excluded == "below_min_share"
    assert t.group("unknown").excluded == "unknown"
    assert t.group("C").impact_ratio is None
    assert {g.category for g in t.groups} == {"A", "B", "C", "unknown"}


def test_intersections():
    sex = ["F", "F", "M", "M"] * 25
    race = ["X", "Y", "X", "Y"] * 25
    selected = [True, False, True, True] * 25
    tables = selection_impact({"sex": sex, "race": race}, selected)
    assert set(tables) == {"sex", "race", "sex x race"}
    inter = tables["sex x race"]
    assert inter.group("F / Y").rate == 0
    assert inter.group("F / Y").adverse_impact is True


def test_ll144_scoring_rate_uses_sample_median():
    scores = [1, 2, 3, 4, 5, 6, 7, 8]  # median 4.5
    groups = ["a", "a", "a", "a", "b", "b", "b", "b"]
    t = scoring_rate_impact({"group": groups}, scores)["group"]
    assert t.group("a").rate == 0 and t.group("b").rate == 1
    assert t.group("a").impact_ratio == 0

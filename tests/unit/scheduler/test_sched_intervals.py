"""Interval algebra against a brute-force minute-grid oracle (Hypothesis), plus the half-open edge cases."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from interloop_scheduler.domain.intervals import (
    at_least,
    complement,
    coverage,
    intersect,
    merge,
    shrink_ends,
    subtract,
    union,
)

GRID = 60

intervals = st.lists(
    st.tuples(st.integers(0, GRID - 1), st.integers(1, GRID)).map(lambda t: (min(t), max(t))), max_size=8
)


def points(ivs: list[tuple[int, int]]) -> set[int]:
    return {m for a, b in ivs for m in range(a, b)}


def canonical(ivs: list[tuple[int, int]]) -> bool:
    """Sorted, non-empty, disjoint and not touching."""
    return all(a < b for a, b in ivs) and all(ivs[i][1] < ivs[i + 1][0] for i in range(len(ivs) - 1))


@settings(max_examples=150, deadline=None)
@given(intervals, intervals)
def test_set_operations_match_the_minute_grid(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> None:
    for result, expected in [
        (merge(a), points(a)),
        (union(a, b), points(a) | points(b)),
        (intersect(a, b), points(a) & points(b)),
        (subtract(a, b), points(a) - points(b)),
        (complement(a, (10, 50)), set(range(10, 50)) - points(a)),
    ]:
        assert points(result) == expected
        assert canonical(result)


@settings(max_examples=150, deadline=None)
@given(st.lists(intervals, min_size=1, max_size=5), st.integers(0, 5))
def test_k_of_n_coverage_matches_the_minute_grid(lists: list[list[tuple[int, int]]], k: int) -> None:
    named = {f"p{i}": lst for i, lst in enumerate(lists)}
    segments = coverage(named, k, (0, GRID))
    seen: dict[int, frozenset[str]] = {}
    for seg in segments:
        assert seg.count >= k
        for m in range(seg.start, seg.end):
            assert m not in seen
            seen[m] = seg.members
    for m in range(GRID):
        who = frozenset(n for n, lst in named.items() if m in points(lst))
        if len(who) >= k:
            assert seen.get(m) == who
        else:
            assert m not in seen
    if k >= 1:
        assert points(at_least(named, k)) == set(seen)
        assert canonical(at_least(named, k))


@settings(max_examples=100, deadline=None)
@given(intervals, st.integers(1, 20))
def test_shrink_ends_gives_exactly_the_starts_that_fit(a: list[tuple[int, int]], length: int) -> None:
    free = points(a)
    starts = points(shrink_ends(merge(a), length))
    assert starts == {t for t in range(GRID) if all(m in free for m in range(t, t + length))}


def test_touching_intervals_do_not_overlap() -> None:
    assert intersect([(0, 10)], [(10, 20)]) == []
    assert merge([(0, 10), (10, 20)]) == [(0, 20)]
    assert subtract([(0, 20)], [(0, 10)]) == [(10, 20)]
    assert at_least({"a": [(0, 10)], "b": [(10, 20)]}, 2) == []

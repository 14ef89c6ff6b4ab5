"""Half-open interval algebra by sorted sweep: merge, union, intersect, subtract, complement and k-of-n
coverage (which members cover each piece of a window). Every function takes and returns lists of
``(start, end)`` pairs with ``start < end``; inputs need not be sorted unless a name says ``_sorted``.
Works on any totally ordered values (ints, aware datetimes); the scheduler uses epoch seconds."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T", bound=Any)
K = TypeVar("K", bound=Hashable)
Interval = tuple[T, T]


def merge(intervals: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """Sorted, disjoint, non-touching cover of ``intervals`` (empty ones dropped). O(n log n)."""
    ordered = sorted(iv for iv in intervals if iv[0] < iv[1])
    out: list[tuple[T, T]] = []
    for start, end in ordered:
        if out and start <= out[-1][1]:  # touching half-open intervals coalesce
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def union(*lists: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    return merge(iv for lst in lists for iv in lst)


def intersect_sorted(a: Sequence[tuple[T, T]], b: Sequence[tuple[T, T]]) -> list[tuple[T, T]]:
    """Intersection of two merged lists by a two-pointer sweep. O(len(a) + len(b))."""
    out: list[tuple[T, T]] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = a[i][0] if a[i][0] > b[j][0] else b[j][0]
        end = a[i][1] if a[i][1] < b[j][1] else b[j][1]
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def intersect(a: Iterable[tuple[T, T]], b: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    return intersect_sorted(merge(a), merge(b))


def subtract_sorted(a: Sequence[tuple[T, T]], b: Sequence[tuple[T, T]]) -> list[tuple[T, T]]:
    """``a`` minus ``b`` for merged lists, by a two-pointer sweep. O(len(a) + len(b))."""
    out: list[tuple[T, T]] = []
    j = 0
    for start, end in a:
        while j < len(b) and b[j][1] <= start:
            j += 1
        cursor = start
        k = j
        while k < len(b) and b[k][0] < end:
            if b[k][0] > cursor:
                out.append((cursor, b[k][0]))
            if b[k][1] > cursor:
                cursor = b[k][1]
            if cursor >= end:
                break
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def subtract(a: Iterable[tuple[T, T]], b: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    return subtract_sorted(merge(a), merge(b))


def complement(intervals: Iterable[tuple[T, T]], window: tuple[T, T]) -> list[tuple[T, T]]:
    return subtract_sorted([window] if window[0] < window[1] else [], merge(intervals))


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of the window on which exactly ``members`` are covered (``len(members)`` is the count)."""

    start: Any
    end: Any
    members: frozenset[Any]

    @property
    def count(self) -> int:
        return len(self.members)


def coverage(
    lists: Mapping[K, Iterable[tuple[T, T]]], k: int, window: tuple[T, T] | None = None
) -> list[Segment]:
    """Pieces where at least ``k`` members' intervals cover, with who covers them, by one sweep line over
    the sorted boundaries (+1 at a start, -1 at an end; ends sort before starts at the same instant, so
    touching intervals do not overlap). Adjacent pieces with the same members are joined.
    With ``k == 0`` a ``window`` is required and uncovered gaps are reported with no members.
    O(n log n + pieces × members)."""
    if k < 0:
        raise ValueError(f"k: must be >= 0, got {k}")
    events: list[tuple[Any, int, int]] = []  # (time, 0 = end / 1 = start, member index)
    keys = list(lists)
    for idx, key in enumerate(keys):
        for start, end in merge(lists[key]):
            if window is not None:
                start = start if start > window[0] else window[0]
                end = end if end < window[1] else window[1]
            if start < end:
                events.append((start, 1, idx))
                events.append((end, 0, idx))
    if k == 0:
        if window is None:
            raise ValueError("window: required when k == 0")
        events.append((window[0], 2, -1))
        events.append((window[1], 2, -1))
    events.sort(key=lambda e: (e[0], e[1]))
    out: list[Segment] = []
    active: set[int] = set()
    prev: Any = None
    i, n = 0, len(events)
    while i < n:
        moment = events[i][0]
        if prev is not None and prev < moment and len(active) >= k:
            members = frozenset(keys[m] for m in active)
            if out and out[-1].end == prev and out[-1].members == members:
                out[-1] = Segment(out[-1].start, moment, members)
            else:
                out.append(Segment(prev, moment, members))
        while i < n and events[i][0] == moment:
            _, kind, idx = events[i]
            if kind == 1:
                active.add(idx)
            elif kind == 0:
                active.discard(idx)
            i += 1
        prev = moment
    return out


def at_least(lists: Mapping[K, Iterable[tuple[T, T]]], k: int) -> list[tuple[T, T]]:
    """Where at least ``k`` (>= 1) of the lists cover, merged; counts only, no member sets."""
    if k < 1:
        raise ValueError(f"k: must be >= 1, got {k}")
    events: list[tuple[Any, int]] = []
    for lst in lists.values():
        for start, end in merge(lst):
            events.append((start, 1))
            events.append((end, -1))
    events.sort()  # -1 sorts before +1 at the same instant: half-open
    out: list[tuple[T, T]] = []
    count = 0
    opened: Any = None
    for moment, delta in events:
        before = count
        count += delta
        if before < k <= count:
            opened = moment
        elif count < k <= before and opened is not None and opened < moment:
            if out and out[-1][1] == opened:
                out[-1] = (out[-1][0], moment)
            else:
                out.append((opened, moment))
    return out


def shrink_ends(intervals: Iterable[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    """Integer intervals -> the half-open set of start points ``t`` with ``[t, t+length)`` inside one of
    them: ``[a, b - length + 1)``. Turns "free for the whole meeting" into a point-coverage question."""
    return [(a, b - length + 1) for a, b in intervals if b - a >= length]

"""Krippendorff's alpha for nominal, ordinal, interval and ratio data with missing values.

alpha = 1 - (n - 1) * A / B where, over pairable values only (units with at least two values),
A = sum over units of sum_{i != j in unit} delta^2(v_i, v_j) / (m_u - 1)   (observed, = sum o_ck delta^2_ck)
B = sum_{i != j over all pairable values} delta^2(v_i, v_j)         (expected, = sum n_c n_k delta^2_ck)

No V x V coincidence matrix is ever built, so 0-99 scales and continuous scores stay O(n) in memory:
* interval: sum_{i != j} (v_i - v_j)^2 = 2 m SS, so A and B are within-unit and total sums of squares;
* ordinal: Krippendorff's ordinal metric equals the interval metric on mid-ranks of the pairable values;
* nominal: counts of equal values per unit and overall;
* ratio: A from within-unit pairs; B from distinct values, exactly when few, otherwise through
  ck/(c+k)^2 = integral_0^inf t ck e^{-t(c+k)} dt, a 1-D integral of a squared O(V) sum done by the
  trapezoid rule in log t (spectrally accurate, ~1e-15 relative). Ratio data need an absolute zero, so
  ratio alpha is NaN (undefined) when any score is negative.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .ratings import Ratings, long_ratings

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")

# distinct-value count up to which the ratio expected disagreement is summed exactly (pairwise, chunked)
_RATIO_EXACT_MAX_VALUES = 4096
_CHUNK_ELEMENTS = 2_000_000


def _pairable_values(data: Ratings | ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    """(unit code, value) of every pairable value, from `Ratings` or a subjects x raters matrix."""
    if isinstance(data, Ratings):
        return _pairable(data.subject, data.score)
    x = np.asarray(data, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"ratings matrix must be 2-D (subjects x raters), got {x.ndim}-D")
    observed = ~np.isnan(x)
    per_unit = observed.sum(axis=1)
    keep = per_unit >= 2
    # row-major boolean indexing keeps each unit's values together; no rater codes are needed for alpha
    values = x[observed] if keep.all() else x[keep][observed[keep]]
    unit = np.repeat(np.arange(int(keep.sum()), dtype=np.intp), per_unit[keep])
    return unit, values


def _pairable(
    unit: NDArray[np.intp], value: NDArray[np.float64]
) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
    m = np.bincount(unit)
    keep = m[unit] >= 2
    return unit[keep], value[keep]


def _interval_parts(unit: NDArray[np.intp], value: NDArray[np.float64]) -> tuple[float, float]:
    n = value.size
    m = np.bincount(unit).astype(np.float64)
    unit_mean = np.bincount(unit, weights=value) / np.where(m > 0, m, 1.0)
    dev = value - unit_mean[unit]
    np.square(dev, out=dev)
    ss_unit = np.bincount(unit, weights=dev)
    with np.errstate(invalid="ignore", divide="ignore"):
        a = float(np.sum(np.where(m >= 2, 2.0 * m * ss_unit / (m - 1.0), 0.0)))
    centred = np.subtract(value, value.mean(), out=dev)  # reuse the buffer: memory stays ~2n floats
    b = 2.0 * n * float(centred @ centred)
    return a, b


def _value_codes(
    value: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.int64]]:
    """(distinct values, code of each value, count of each distinct value), like np.unique.

    Rating scales are usually small integer ranges (1-5, 0-99): a bincount then replaces the O(n log n) sort.
    """
    lo, hi = float(value.min()), float(value.max())
    if hi - lo < 65536 and np.array_equal(value, np.rint(value)):
        offset = (value - lo).astype(np.intp)
        counts = np.bincount(offset)
        present = counts > 0
        remap = np.cumsum(present) - 1
        return np.flatnonzero(present) + lo, remap[offset], counts[present]
    uniq, inverse, counts = np.unique(value, return_inverse=True, return_counts=True)
    return uniq, inverse.astype(np.intp, copy=False), counts


def _midranks(value: NDArray[np.float64]) -> NDArray[np.float64]:
    _, inverse, counts = _value_codes(value)
    c = counts.astype(np.float64)
    mid = np.cumsum(c) - c / 2.0
    return mid[inverse]


def _nominal_parts(unit: NDArray[np.intp], value: NDArray[np.float64]) -> tuple[float, float]:
    n = value.size
    _, vcode, n_c = _value_codes(value)
    m = np.bincount(unit).astype(np.float64)
    n_values = int(vcode.max()) + 1
    key = unit.astype(np.int64) * n_values + vcode
    if m.size * n_values <= 4 * _CHUNK_ELEMENTS:  # small scale: dense unit x value counts, no sort
        dense = np.bincount(key, minlength=m.size * n_values)
        keys = np.flatnonzero(dense)
        n_uc = dense[keys].astype(np.float64)
    else:
        keys, cnt = np.unique(key, return_counts=True)
        n_uc = cnt.astype(np.float64)
    key_unit = keys // n_values
    same = float(np.sum(n_uc * (n_uc - 1.0) / (m[key_unit] - 1.0)))
    nc = n_c.astype(np.float64)
    return float(n) - same, float(n) * n - float(nc @ nc)


def _ratio_delta2(c: NDArray[np.float64], k: NDArray[np.float64]) -> NDArray[np.float64]:
    s = c + k
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(s == 0, 0.0, (c - k) / np.where(s == 0, 1.0, s))
    return r * r


def _ratio_expected(values: NDArray[np.float64], counts: NDArray[np.float64]) -> float:
    """sum_c sum_k n_c n_k ((c - k) / (c + k))^2 over distinct values c, k."""
    v = values.size
    if v <= _RATIO_EXACT_MAX_VALUES:
        total = 0.0
        step = max(1, _CHUNK_ELEMENTS // max(v, 1))
        for lo in range(0, v, step):
            block = _ratio_delta2(values[lo : lo + step, None], values[None, :])
            total += float(counts[lo : lo + step] @ block @ counts)
        return total
    n = float(counts.sum())
    zero = values == 0
    n0 = float(counts[zero].sum())
    x = values[~zero] / values.max()
    w = counts[~zero] * x
    # I = sum n_c n_k x_c x_k / (x_c + x_k)^2 = int e^{2y} (sum w e^{-e^y x})^2 dy, trapezoid in y
    y = np.arange(-22.0, math.log(50.0 / float(x.min())) + 1.0, 0.2)
    integral = 0.0
    for yi in y:
        s = float(w @ np.exp(-math.exp(yi) * x))
        integral += math.exp(2.0 * yi) * s * s
    integral *= 0.2
    return n * n - n0 * n0 - 4.0 * integral


def _ratio_parts(unit: NDArray[np.intp], value: NDArray[np.float64]) -> tuple[float, float]:
    m = np.bincount(unit)
    mu = m[unit]
    order = np.lexsort((unit, mu))
    vs, ms = value[order], mu[order]
    a = 0.0
    for size in np.unique(ms):
        lo, hi = np.searchsorted(ms, size, "left"), np.searchsorted(ms, size, "right")
        block = vs[lo:hi].reshape(-1, size)
        rows = max(1, _CHUNK_ELEMENTS // (size * size))
        for r0 in range(0, block.shape[0], rows):
            b = block[r0 : r0 + rows]
            a += float(_ratio_delta2(b[:, :, None], b[:, None, :]).sum()) / (size - 1)
    vals, counts = np.unique(value, return_counts=True)
    return a, _ratio_expected(vals, counts.astype(np.float64))


def _alpha_from_pairable(unit: NDArray[np.intp], value: NDArray[np.float64], level: Level) -> float:
    n = value.size
    if n < 2:
        return math.nan
    if level == "nominal":
        a, b = _nominal_parts(unit, value)
    elif level == "ordinal":
        a, b = _interval_parts(unit, _midranks(value))
    elif level == "interval":
        a, b = _interval_parts(unit, value)
    elif level == "ratio":
        if float(value.min()) < 0:
            return math.nan  # the ratio metric needs an absolute zero: negative scores make it meaningless
        a, b = _ratio_parts(unit, value)
    else:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if b <= 0:
        return math.nan  # no variation among pairable values: alpha is undefined
    return 1.0 - (n - 1) * a / b


# -- subjects x raters matrices: streamed in blocks of units, so memory stays a few MiB however large
_BLOCK_CELLS = 1 << 17  # cells (1 MiB of float64) per block of units


def _blocks(
    x: NDArray[np.float64], width: int = 0
) -> Iterable[tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.float64]]]:
    """(values, observed mask, values per unit) for blocks of pairable units (>= 2 values)."""
    rows = max(1, _BLOCK_CELLS // max(x.shape[1], width, 1))
    for r0 in range(0, x.shape[0], rows):
        block = x[r0 : r0 + rows]
        obs = ~np.isnan(block)
        m = obs.sum(axis=1)
        keep = m >= 2
        if not keep.any():
            continue
        if not keep.all():
            block, obs, m = block[keep], obs[keep], m[keep]
        yield block, obs, m.astype(np.float64)


def _interval_blocks(
    x: NDArray[np.float64],
    mapped: Any = None,
) -> tuple[float, float, float]:
    """(n, A, B) of the interval metric, on the values or on `mapped(block, obs)` (e.g. mid-ranks).

    Per block: within-unit sums of squares for A; the block's count, mean and sum of squared deviations
    merged into running totals (Chan et al.'s parallel update, no cancellation) for B = 2 n SS."""
    a, n, mean, m2 = 0.0, 0.0, 0.0, 0.0
    for block, obs, m in _blocks(x):
        v = np.where(obs, block, 0.0) if mapped is None else mapped(block, obs)
        unit_mean = v.sum(axis=1) / m
        dev = v - unit_mean[:, None]
        dev *= obs
        np.square(dev, out=dev)
        ss = dev.sum(axis=1)
        a += float(np.sum(2.0 * m * ss / (m - 1.0)))
        nb = float(m.sum())
        mean_b = float(unit_mean @ m) / nb
        m2_b = float(ss.sum()) + float(m @ np.square(unit_mean - mean_b))
        delta, total = mean_b - mean, n + nb
        m2 += m2_b + delta * delta * n * nb / total
        mean += delta * nb / total
        n = total
    return n, a, 2.0 * n * m2


def _integer_range(x: NDArray[np.float64]) -> tuple[float, int] | None:
    """(lowest value, number of possible values) when every score is an integer in a small range."""
    with np.errstate(invalid="ignore"):
        if not np.isnan(x).all():
            lo, hi = float(np.nanmin(x)), float(np.nanmax(x))
            if hi - lo < 65536:
                for block, obs, _ in _blocks(x):
                    vals = block[obs]
                    if not np.array_equal(vals, np.rint(vals)):
                        return None
                return lo, int(hi - lo) + 1
    return None


def _codes(block: NDArray[np.float64], obs: NDArray[np.bool_], lo: float) -> NDArray[np.intp]:
    return (np.where(obs, block, lo) - lo).astype(np.intp)


def _matrix_alpha(x: NDArray[np.float64], level: Level) -> float | None:
    """Alpha of a subjects x raters matrix in bounded memory; None when this path does not apply (ratio,
    or ordinal/nominal scores that are not integers in a small range)."""
    if level == "interval":
        n, a, b = _interval_blocks(x)
    elif level in ("ordinal", "nominal"):
        scale = _integer_range(x)
        if scale is None:
            return None
        lo, width = scale
        counts = np.zeros(width, dtype=np.float64)
        same = 0.0
        for block, obs, m in _blocks(x, width):
            codes = _codes(block, obs, lo)
            if level == "ordinal":
                counts += np.bincount(codes[obs], minlength=width)
                continue
            rows = np.broadcast_to(np.arange(block.shape[0])[:, None], block.shape)
            n_uc = np.bincount((rows * width + codes)[obs], minlength=block.shape[0] * width)
            n_uc = n_uc.reshape(block.shape[0], width).astype(np.float64)
            same += float(np.sum(n_uc * (n_uc - 1.0) / (m - 1.0)[:, None]))
            counts += n_uc.sum(axis=0)
        if level == "ordinal":
            mid = np.cumsum(counts) - counts / 2.0
            n, a, b = _interval_blocks(x, lambda block, obs: np.where(obs, mid[_codes(block, obs, lo)], 0.0))
        else:
            n = float(counts.sum())
            a, b = n - same, n * n - float(counts @ counts)
    else:
        return None
    if n < 2 or b <= 0:
        return math.nan
    return 1.0 - (n - 1.0) * a / b


def krippendorff_alpha(data: Ratings | ArrayLike, level: Level = "interval") -> float:
    """Krippendorff's alpha for `data` (a `Ratings` or a subjects x raters matrix with NaN = missing).

    Returns NaN when there is no variation among pairable values (alpha is undefined there).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if not isinstance(data, Ratings):
        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"ratings matrix must be 2-D (subjects x raters), got {x.ndim}-D")
        streamed = _matrix_alpha(x, level)
        if streamed is not None:
            return streamed
        data = x
    unit, value = _pairable_values(data)
    return _alpha_from_pairable(unit, value, level)


def krippendorff_alpha_all(data: Ratings | ArrayLike) -> dict[str, float]:
    """Alpha at every level of measurement, sharing the pairable-value filtering."""
    unit, value = _pairable_values(data)
    return {level: _alpha_from_pairable(unit, value, level) for level in LEVELS}


@dataclass(frozen=True)
class AlphaInterval:
    alpha: float
    ci95: tuple[float, float]
    n_boot: int
    confidence: float


def krippendorff_alpha_ci(
    data: Ratings | ArrayLike,
    level: Level = "interval",
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> AlphaInterval:
    """Alpha with a percentile bootstrap CI from resampling units (subjects) with replacement."""
    unit, value = _pairable_values(data)
    point = _alpha_from_pairable(unit, value, level)
    order = np.argsort(unit, kind="stable")
    unit, value = unit[order], value[order]
    units, starts, sizes = np.unique(unit, return_index=True, return_counts=True)
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    for b in range(n_boot):
        pick = rng.integers(0, units.size, units.size)
        lengths = sizes[pick]
        new_unit = np.repeat(np.arange(pick.size), lengths)
        offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        rows = np.repeat(starts[pick], lengths) + offsets
        reps[b] = _alpha_from_pairable(new_unit, value[rows], level)
    reps = reps[~np.isnan(reps)]
    tail = (1.0 - confidence) / 2.0
    if reps.size == 0:
        return AlphaInterval(point, (math.nan, math.nan), n_boot, confidence)
    lo, hi = np.quantile(reps, [tail, 1.0 - tail])
    return AlphaInterval(point, (float(lo), float(hi)), n_boot, confidence)


def krippendorff_alpha_long(
    subjects: Iterable[Any], raters: Iterable[Any], scores: ArrayLike, level: Level = "interval"
) -> float:
    """Convenience: alpha from long-format columns."""
    return krippendorff_alpha(long_ratings(list(subjects), list(raters), scores), level)


class AlphaAccumulator:
    """Incremental Krippendorff's alpha: per-unit value counts plus the sparse coincidence sums.

    add()/remove() touch only the unit that changed (O(distinct values in that unit)^2); finalize() costs
    O(distinct coincidence pairs), independent of how many scorecards the tenant has. The state is plain
    JSON (see `to_state` / `from_state`).
    """

    def __init__(self) -> None:
        self._units: dict[str, dict[float, int]] = {}
        self._coinc: dict[tuple[float, float], float] = {}  # unordered c <= k; o_ck for c < k
        self._marg: dict[float, float] = {}

    # -- coincidences of one unit ---------------------------------------------------------------
    def _apply(self, counts: Mapping[float, int], sign: float) -> None:
        m = sum(counts.values())
        if m < 2:
            return
        items = sorted(counts.items())
        for i, (c, nc) in enumerate(items):
            self._bump(self._marg, c, sign * nc)
            self._bump(self._coinc, (c, c), sign * nc * (nc - 1) / (m - 1))
            for k, nk in items[i + 1 :]:
                self._bump(self._coinc, (c, k), sign * nc * nk / (m - 1))

    @staticmethod
    def _bump(d: dict[Any, float], key: Any, delta: float) -> None:
        v = d.get(key, 0.0) + delta
        if abs(v) < 1e-9:
            d.pop(key, None)
        else:
            d[key] = v

    def add(self, unit: str, value: float) -> None:
        counts = self._units.setdefault(str(unit), {})
        self._apply(counts, -1.0)
        v = float(value)
        counts[v] = counts.get(v, 0) + 1
        self._apply(counts, +1.0)

    def remove(self, unit: str, value: float) -> None:
        key, v = str(unit), float(value)
        counts = self._units.get(key)
        if not counts or v not in counts:
            raise KeyError(f"unit {key!r} has no value {v!r} to remove")
        self._apply(counts, -1.0)
        counts[v] -= 1
        if counts[v] == 0:
            del counts[v]
        if counts:
            self._apply(counts, +1.0)
        else:
            del self._units[key]

    def finalize(self, level: Level = "interval") -> float:
        if not self._marg:
            return math.nan
        values = np.array(sorted(self._marg))
        counts = np.array([self._marg[v] for v in values])
        n = float(counts.sum())
        if n < 2:
            return math.nan
        pairs = np.array([(c, k, o) for (c, k), o in self._coinc.items()], dtype=np.float64).reshape(-1, 3)
        c, k, o = pairs[:, 0], pairs[:, 1], pairs[:, 2]
        off = c != k
        if level == "nominal":
            a = 2.0 * float(o[off].sum())
            b = n * n - float(counts @ counts)
        elif level in ("interval", "ordinal"):
            if level == "ordinal":
                mid = np.cumsum(counts) - counts / 2.0
                pos = dict(zip(values.tolist(), mid.tolist(), strict=True))
                c = np.array([pos[x] for x in c])
                k = np.array([pos[x] for x in k])
                vals = mid
            else:
                vals = values
            a = 2.0 * float(o[off] @ ((c[off] - k[off]) ** 2))
            centred = vals - float(counts @ vals) / n
            b = 2.0 * n * float(counts @ (centred * centred))
        elif level == "ratio":
            if float(values[0]) < 0:
                return math.nan
            a = 2.0 * float(o[off] @ _ratio_delta2(c[off], k[off]))
            b = _ratio_expected(values, counts)
        else:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
        if b <= 0:
            return math.nan
        return 1.0 - (n - 1.0) * a / b

    def to_state(self) -> dict[str, Any]:
        return {
            "units": {u: [[v, n] for v, n in sorted(c.items())] for u, c in self._units.items()},
            "coincidences": [[c, k, o] for (c, k), o in sorted(self._coinc.items())],
            "marginals": [[v, n] for v, n in sorted(self._marg.items())],
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> AlphaAccumulator:
        acc = cls()
        acc._units = {u: {float(v): int(n) for v, n in pairs} for u, pairs in state["units"].items()}
        acc._coinc = {(float(c), float(k)): float(o) for c, k, o in state["coincidences"]}
        acc._marg = {float(v): float(n) for v, n in state["marginals"]}
        return acc

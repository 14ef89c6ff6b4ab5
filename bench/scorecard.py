"""Scorecard statistics engine vs reference packages, measured in the same run.

Krippendorff's alpha (10,000 subjects x 50 raters; 5-point, 0-99 and continuous scores) against the
`krippendorff` package and ICC (100,000 ratings) against pingouin. Prints, per case, how many times faster
we are (reference time / our time) and how much less peak memory we use (reference peak / our peak,
tracemalloc). The krippendorff package builds V x V (and units x V) matrices; when that would need absurd
memory the reference is skipped and the estimate printed instead.

    .venv/bin/python bench/scorecard.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from interloop_scorecard.domain.stats.icc import icc
from interloop_scorecard.domain.stats.krippendorff import krippendorff_alpha
from interloop_scorecard.domain.stats.ratings import long_ratings

REFERENCE_MEMORY_LIMIT = 2 * 1024**3  # skip the reference when its matrices alone would exceed this


def measure(fn: Callable[[], Any]) -> tuple[Any, float, int]:
    """(result, seconds, peak bytes): best of up to 3 untraced runs, then one traced run for the peak."""
    gc.collect()
    t0 = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - t0
    if elapsed < 0.5:  # short runs are noisy on a shared machine: the first one also pays warm-up
        for _ in range(3):
            t0 = time.perf_counter()
            fn()
            elapsed = min(elapsed, time.perf_counter() - t0)
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, elapsed, peak


def mib(b: float) -> str:
    return f"{b / 1024**2:,.1f} MiB" if b < 1024**3 * 10 else f"{b / 1024**4:,.2f} TiB"


def panel(rng: np.random.Generator, units: int, raters: int, kind: str) -> np.ndarray:
    truth = rng.normal(size=(units, 1))
    x = truth + rng.normal(0, 0.8, size=(units, raters))
    if kind == "5-point":
        x = np.clip(np.round(x + 3), 1, 5)
    elif kind == "0-99":
        x = np.clip(np.round(x * 15 + 50), 0, 99)
    else:
        x = np.abs(x * 10 + 50)  # ratio data need an absolute zero
    x[rng.random(x.shape) < 0.2] = np.nan
    return x


def row(case: str, ours: tuple[Any, float, int], ref: tuple[Any, float, int] | None, note: str = "") -> None:
    val, t, peak = ours
    if ref is None:
        print(f"{case:<38} ours {val:+.6f} {t:7.2f}s {mib(peak):>12} | reference skipped: {note}")
        return
    rval, rt, rpeak = ref
    print(
        f"{case:<38} ours {val:+.6f} {t:7.2f}s {mib(peak):>12} | ref {rval:+.6f} {rt:7.2f}s "
        f"{mib(rpeak):>12} | speed x{rt / t:6.1f}  memory x{rpeak / max(peak, 1):7.1f}  "
        f"|diff| {abs(val - rval):.1e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args()
    units, raters, icc_subjects, icc_raters = (1_000, 20, 500, 20) if args.quick else (10_000, 50, 2_000, 50)
    rng = np.random.default_rng(2025)

    import krippendorff as kd
    import pandas as pd
    import pingouin as pg

    print(f"Krippendorff's alpha: {units:,} subjects x {raters} raters, 20% missing")
    for kind, levels in (
        ("5-point", ("interval", "ordinal", "nominal")),
        ("0-99", ("interval", "ordinal")),
        ("continuous", ("interval", "ratio")),
    ):
        x = panel(rng, units, raters, kind)
        distinct = int(np.unique(x[~np.isnan(x)]).size)
        for level in levels:
            ours = measure(lambda x=x, level=level: krippendorff_alpha(x, level))
            # the package allocates units x V value counts and V x V coincidence/distance matrices
            need = 8 * (distinct * distinct * 3 + units * distinct)
            case = f"alpha {kind} {level} (V={distinct:,})"
            if need > REFERENCE_MEMORY_LIMIT:
                row(case, ours, None, f"krippendorff would allocate ~{mib(need)} for V x V and units x V")
                continue
            ref = measure(lambda x=x, level=level: kd.alpha(x.T, level_of_measurement=level))
            row(case, ours, ref)

    n_ratings = icc_subjects * icc_raters
    print(
        f"\nICC (six forms): {icc_subjects:,} subjects x {icc_raters} raters = {n_ratings:,} ratings, "
        "long format"
    )
    y = rng.normal(size=(icc_subjects, 1)) + rng.normal(size=(icc_subjects, icc_raters))
    subj = np.repeat(np.arange(icc_subjects), icc_raters)
    rat = np.tile(np.arange(icc_raters), icc_subjects)
    df = pd.DataFrame({"subject": subj, "rater": rat, "score": y.ravel()})

    def ours_icc() -> float:
        forms = icc(long_ratings(subj, rat, y.ravel())).forms
        assert forms is not None
        return forms["ICC2"].value

    def ref_icc() -> float:
        out = pg.intraclass_corr(df, "subject", "rater", "score")
        return float(out.loc[out["Type"] == "ICC(A,1)", "ICC"].iloc[0])

    row("ICC2 (all six forms computed)", measure(ours_icc), measure(ref_icc))


if __name__ == "__main__":
    main()

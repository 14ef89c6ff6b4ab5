"""The inter-rater reliability report behind `interloop irr`: ICC, alpha, Fleiss' kappa and calibration."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .calibration import calibrate
from .icc import icc
from .kappa import fleiss_kappa_ratings
from .krippendorff import krippendorff_alpha_all
from .ratings import Ratings


def _clean(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def irr_report(ratings: Ratings, *, min_n: int = 10) -> dict[str, Any]:
    """JSON-ready reliability report for one dimension of long-format ratings."""
    result = icc(ratings)
    fleiss = fleiss_kappa_ratings(ratings, np.unique(ratings.score).tolist()) if ratings.n_ratings else None
    report: dict[str, Any] = {
        "n_subjects": ratings.n_subjects,
        "n_raters": ratings.n_raters,
        "n_ratings": ratings.n_ratings,
        "icc": None if result.forms is None else {k: f.as_dict() for k, f in result.forms.items()},
    }
    if result.note:
        report["icc_note"] = result.note
    report["krippendorff_alpha"] = {k: _clean(v) for k, v in krippendorff_alpha_all(ratings).items()}
    report["fleiss_kappa"] = None if fleiss is None else _clean(fleiss.kappa)
    cal = calibrate(ratings, min_n=min_n)
    report["raters"] = [{**rc.as_dict(), "rater": _plain(rc.rater)} for rc in cal.raters]
    return report


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x

"""Work limits for the bootstrap statistics: one tenant's request cannot ask a replica for unbounded CPU
or memory (a resample of n values costs n cells; the limit is on their total)."""

from __future__ import annotations

from collections.abc import Iterable

from interloop_scorecard.domain.errors import ValidationError


def check_bootstrap(n_boot: int, sizes: Iterable[int], max_cells: int) -> None:
    """Refuse `n_boot` resamples of groups of these sizes when their cells exceed `max_cells`."""
    total = sum(sizes)
    if total and n_boot * total > max_cells:
        most = max_cells // total
        raise ValidationError(
            "bootstrap_samples",
            f"{n_boot} resamples of {total} values exceed this server's limit of {max_cells} resampled "
            f"values; ask for at most {most} resamples"
            if most
            else "values at any number of resamples",
        )

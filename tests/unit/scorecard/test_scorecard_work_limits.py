"""The bootstrap work limit: a request whose resamples would exceed the server's cap is refused naming
bootstrap_samples and the largest number that fits; requests within the cap pass."""

from __future__ import annotations

import pytest
from interloop_common.errors import FieldViolations
from interloop_scorecard.domain.stats.work import check_bootstrap


def test_within_the_cap_passes() -> None:
    check_bootstrap(1000, [40, 60], max_cells=100_000)
    check_bootstrap(20000, [], max_cells=1)  # nothing to resample costs nothing


def test_over_the_cap_names_the_field_and_what_would_fit() -> None:
    with pytest.raises(FieldViolations) as err:
        check_bootstrap(1001, [40, 60], max_cells=100_000)
    [(field, message)] = err.value.violations
    assert field == "bootstrap_samples"
    assert "at most 1000 resamples" in message


def test_data_too_large_for_any_bootstrap_says_so() -> None:
    with pytest.raises(FieldViolations) as err:
        check_bootstrap(1, [10, 10], max_cells=5)
    assert "any number of resamples" in err.value.violations[0][1]

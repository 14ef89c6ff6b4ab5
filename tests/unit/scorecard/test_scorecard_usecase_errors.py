"""The scorecard's refusals are the common vocabulary: a broken domain rule is a FieldViolations naming the
field (INVALID_ARGUMENT), re-rooted under the request's path; the erasure rule decides what it covers."""

from __future__ import annotations

import pytest
from interloop_common.errors import FieldViolations
from interloop_scorecard.domain.errors import ValidationError
from interloop_scorecard.domain.templates import RatingScale
from interloop_scorecard.usecases.erasure import covers_demographics


def test_a_domain_rule_is_a_field_violation_naming_the_field() -> None:
    with pytest.raises(FieldViolations) as caught:
        RatingScale.numeric(5, 1)
    exc = caught.value
    assert isinstance(exc, ValidationError) and isinstance(exc, ValueError)
    assert exc.status == "INVALID_ARGUMENT"
    assert exc.violations == [(exc.field, exc.message)]
    moved = exc.under("scorecard.")
    assert moved.violations == [(f"scorecard.{exc.field}", exc.message)]
    assert str(moved) == f"scorecard.{exc.field}: {exc.message}"


@pytest.mark.parametrize(
    ("fields", "deleted", "covered"),
    [
        ([], False, True),
        (["email"], True, True),
        (["email", "phone"], False, False),
        (["EEOC_race"], False, True),
        (["gender"], False, True),
    ],
)
def test_erasure_covers_demographics(fields: list[str], deleted: bool, covered: bool) -> None:
    assert covers_demographics(fields, deleted=deleted) is covered

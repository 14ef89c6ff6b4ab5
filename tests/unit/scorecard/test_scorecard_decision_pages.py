"""ListDecisions page tokens: the (decided_at, id) of the last decision shown survives the round trip to
the microsecond, and anything else is refused as page.page_token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from interloop_common.errors import FieldViolations
from interloop_common.rpc import decode_cursor, encode_cursor
from interloop_scorecard.usecases.outcomes import decision_after, parse_decision_after


@pytest.mark.parametrize(
    ("at", "row_id"),
    [
        (datetime(2024, 3, 1, 9, 0, 0, 123456, tzinfo=UTC), 1),
        (datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))), 2**63 - 1),
    ],
)
def test_the_token_names_the_last_decision_shown(at: datetime, row_id: int) -> None:
    token = encode_cursor(decision_after({"decided_at": at, "id": row_id}))
    back = parse_decision_after(decode_cursor(token))
    assert back == (at, row_id) and back is not None and back[0].utcoffset() == at.utcoffset()


def test_no_token_is_the_first_page() -> None:
    assert parse_decision_after("") is None


@pytest.mark.parametrize(
    "after",
    [
        "garbage",
        "/12",
        "2024-03-01T09:00:00+00:00",
        "2024-03-01T09:00:00+00:00/",
        "2024-03-01T09:00:00/12",  # no zone
        "2024-03-01T09:00:00+00:00/x",
        "2024-03-01T09:00:00+00:00/0",
        "2024-03-01T09:00:00+00:00/-4",
        f"2024-03-01T09:00:00+00:00/{2**63}",
        "2024-13-01T09:00:00+00:00/12",
    ],
)
def test_a_bad_token_is_a_field_violation(after: str) -> None:
    with pytest.raises(FieldViolations) as caught:
        parse_decision_after(after)
    assert [f for f, _ in caught.value.violations] == ["page.page_token"]

"""What every resource's JSON has in common: cursor pages and their query parameters, timestamps in (they
must carry an offset) and out (RFC 3339 strings, each in the format its resource has always used)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar.openapi.spec.enums import OpenAPIFormat
from litestar.params import KwargDefinition, Parameter

from interloop_gateway.problems import problem

T = TypeVar("T")

Cursor = Annotated[str, Parameter(query="cursor", default="", description="next_cursor of the previous page")]
Limit = Annotated[int, Parameter(query="limit", default=50, ge=1, le=500)]
# An integer a request may carry into a protobuf int32 field: larger is a 400 naming the field, not a 500.
Int32 = Annotated[int, msgspec.Meta(ge=-(2**31), le=2**31 - 1)]

# A moment as the wire shows it: kept as the string the resource renders, documented as a date-time.
Timestamp = Annotated[str, KwargDefinition(format=OpenAPIFormat.DATE_TIME)]
LocalDate = Annotated[str, KwargDefinition(format=OpenAPIFormat.DATE)]


class Page(msgspec.Struct, Generic[T]):
    """One page of a list; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None


def aware(value: datetime, field: str) -> datetime:
    """A timestamp from a request, in UTC; one without an offset is refused (naming the field)."""
    if value.tzinfo is None:
        raise problem(
            400,
            f"{field} must carry a UTC offset, e.g. 2026-03-09T09:00:00-04:00",
            extra={"errors": [{"field": field, "detail": "timestamp without offset"}]},
        )
    return value.astimezone(UTC)


def iso(moment: datetime) -> str:
    """UTC, `Z`-suffixed ISO 8601."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def pb_iso(stamp: Any) -> str:
    """A protobuf Timestamp as `iso` writes it."""
    return iso(stamp.ToDatetime(tzinfo=UTC))

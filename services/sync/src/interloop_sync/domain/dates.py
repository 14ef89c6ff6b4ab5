"""Date and timestamp parsing for the formats vendors actually send (one vendor often sends several)."""

from __future__ import annotations

from datetime import UTC, date, datetime

# Greenhouse hire payloads use YYYY-MM-DD (offer.starts_at); offer webhooks and educations use MM/DD/YYYY.
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")


def parse_date(value: object, formats: tuple[str, ...] = DATE_FORMATS) -> date | None:
    """A calendar date from a string in one of ``formats``; None for None/empty; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a date string, got {type(value).__name__}")
    for fmt in formats:
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date in any of {list(formats)}")


def parse_timestamp(value: object) -> datetime | None:
    """An aware UTC datetime from ISO-8601 (``Z`` suffix allowed) or epoch milliseconds (Lever)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("expected a timestamp, got a boolean")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if not isinstance(value, str):
        raise ValueError(f"expected a timestamp string, got {type(value).__name__}")
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        # A bare date ("2014-11-10" in offer.sent_at) or naive time: vendors mean UTC.
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)

"""Response body of the inbound webhooks (the request body is the vendor's, taken as raw bytes)."""

from __future__ import annotations

import msgspec


class DeliveryOut(msgspec.Struct):
    # accepted | duplicate
    outcome: str
    delivery_id: str
    event_types: list[str]


class CalendarPushOut(msgspec.Struct):
    # refreshing (the interviewer's busy times are being read again) | acknowledged (Google's sync)
    outcome: str
    notifications: int

"""JSON for domain values stored in jsonb: dates ISO, Decimals and Money as strings (never floats)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from interloop_sync.domain.model import Money


def plain(value: Any) -> Any:
    if isinstance(value, Money):
        return {"amount": format(value.amount, "f"), "currency": value.currency}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def dumps(value: Any) -> str:
    return json.dumps(plain(value), sort_keys=True)

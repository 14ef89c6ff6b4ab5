"""Response bodies of liveness and readiness."""

from __future__ import annotations

import msgspec


class LivenessOut(msgspec.Struct):
    status: str


class ReadinessOut(msgspec.Struct):
    status: str
    # each backend and the database: SERVING, or what answered instead
    checks: dict[str, str]

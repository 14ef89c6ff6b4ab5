"""Response bodies of liveness, readiness and the backends' health."""

from __future__ import annotations

import msgspec


class LivenessOut(msgspec.Struct):
    status: str


class ReadinessOut(msgspec.Struct):
    status: str
    # what this pod's readiness depends on: its database (SERVING, or what answered instead)
    checks: dict[str, str]
    # each backend's gRPC health at the gateway's last look (reported, never a reason to be unready: a
    # backend that is down answers 503 on its own routes only)
    backends: dict[str, str]


class BackendsOut(msgspec.Struct):
    status: str
    # each backend's gRPC health now: SERVING, or what answered instead
    backends: dict[str, str]

"""Fixtures of the gateway's integration tests: a second gateway pod in front of the session's backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from interloop_devstack.testing import BACKENDS, Infra, ServiceSet

GatewayPod = Callable[..., ServiceSet]


@pytest.fixture
def gateway_pod(platform: ServiceSet, infra: Infra, tmp_path: Path) -> GatewayPod:
    """`gateway_pod(*own, **settings)`: a ServiceSet (not started) of a gateway with a database of its own,
    in front of the session's backends except those named in `own` (the set's own processes, for a test
    that stops one); `settings` are INTERLOOP_GATEWAY_* values by field name (`scorecard_target=...`)."""

    def make(*own: str, **settings: str) -> ServiceSet:
        pod = ServiceSet(infra, tmp_path, (*own, "gateway"))
        env = pod.procs["gateway"].env
        for backend in BACKENDS:
            if backend not in own:
                env[f"INTERLOOP_GATEWAY_{backend.upper()}_TARGET"] = platform.target(backend)
        env["INTERLOOP_GATEWAY_TOPIC_PREFIX"] = platform.prefix  # the partner event stream's topics
        env |= {f"INTERLOOP_GATEWAY_{name.upper()}": value for name, value in settings.items()}
        return pod

    return make

"""Start fails with one line when the pool cannot cover sync's concurrency (issue 14, item 2), and the count
of consumer groups the pool is sized by is the one the service declares."""

from __future__ import annotations

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from interloop_sync import app
from interloop_sync.events import consumers
from interloop_sync.settings import SyncSettings


@pytest.mark.parametrize("mail", [True, False])
def test_the_counted_consumer_groups_are_the_declared_ones(mail: bool) -> None:
    settings = SyncSettings(interview_emails=mail)
    declared = consumers.consumers(SimpleNamespace(settings=settings))  # type: ignore[arg-type]
    assert consumers.count(settings) == len(declared)


def test_the_defaults_fit_the_default_pool() -> None:
    settings = SyncSettings()
    assert settings.pool_shortfall(consumers.count(settings)) is None
    app.check_pool(settings)  # no exit


def test_a_pool_below_the_concurrency_fails_start_with_one_line_naming_what_to_set() -> None:
    settings = SyncSettings(db_pool_max=10, consumer_concurrency=4, automation_concurrency=3)
    need = 6 * 4 + 3 + 5 + settings.db_rpc_connections
    with pytest.raises(SystemExit) as exited:
        app.check_pool(settings)
    line = str(exited.value)
    assert "\n" not in line
    assert "INTERLOOP_SYNC_DB_POOL_MAX=10" in line and f"the {need} connections" in line
    assert "INTERLOOP_SYNC_CONSUMER_CONCURRENCY=4" in line and f"raise the pool to {need}" in line


def test_a_pool_exactly_covering_the_concurrency_starts() -> None:
    base = SyncSettings(consumer_concurrency=3, interview_emails=False)
    need = 5 * 3 + base.automation_concurrency + 5 + base.db_rpc_connections
    assert (
        SyncSettings(consumer_concurrency=3, interview_emails=False, db_pool_max=need).pool_shortfall(5)
        is None
    )
    assert SyncSettings(consumer_concurrency=3, interview_emails=False, db_pool_max=need - 1).pool_shortfall(
        5
    )


def test_serve_with_too_small_a_pool_exits_before_connecting_with_that_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTERLOOP_SYNC_")}
    # a database nobody listens on: the check must come first, or the error would be a connection's
    env |= {"INTERLOOP_SYNC_DB_POOL_MAX": "5", "INTERLOOP_SYNC_DATABASE_URL": "postgresql://u@127.0.0.1:1/x"}
    out = subprocess.run(
        [sys.executable, "-m", "interloop_sync", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("sync: INTERLOOP_SYNC_DB_POOL_MAX=5 is below"), out.stderr

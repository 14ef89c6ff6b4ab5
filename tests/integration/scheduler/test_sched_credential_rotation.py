"""Rotating the scheduler's credential keys: calendar credentials sealed under an old key are re-sealed
under the new one by `python -m interloop_scheduler rotate-credentials`, and still read the calendar with
only the new key. A database of its own: the rotation touches every tenant's rows, the session platform's
scheduler keeps its own key."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from interloop_common import db
from interloop_common.keyring import KeyRing, KeysUnavailable, generate_key
from interloop_fakes.calendars import FakeGoogleCalendar
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.store.interviewers import InterviewerRow
from interloop_scheduler.usecases.calendar_push import open_channels
from interloop_scheduler.usecases.calendars import refresh_calendars
from interloop_scheduler.usecases.interviewers import upsert_interviewer

SETTING = "INTERLOOP_SCHEDULER_CREDENTIAL_KEYS"


@pytest.fixture(scope="module")
def google() -> Iterator[FakeGoogleCalendar]:
    with FakeGoogleCalendar() as fake:
        yield fake


@pytest.fixture
def dsn(infra) -> str:  # type: ignore[no-untyped-def]
    url = infra.database(f"scheduler_rotation_{uuid.uuid4().hex[:8]}")
    db.migrate(url, "interloop_scheduler")
    return url


def rotate(dsn: str, keys: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INTERLOOP_SCHEDULER_DATABASE_URL": dsn, SETTING: keys}
    return subprocess.run(
        [sys.executable, "-m", "interloop_scheduler", "rotate-credentials"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


LOOPBACK = "127.0.0.0/8"  # the fake Google Calendar listens here; the outbound guard refuses it unless opened


async def test_rotated_calendar_credentials_open_and_read_with_only_the_new_key(
    dsn: str, google: FakeGoogleCalendar
) -> None:
    key_a, key_b = generate_key(), generate_key()
    tenant = "tenant-rotation"
    cal = {
        "kind": "google",
        "calendar_id": "gcal-rot@acme.test",
        "url": f"{google.base_url}/calendar/v3",
        "credential": "google-test-token",
        "user": "",
    }
    row = InterviewerRow(
        id="rot",
        email="rot@acme.test",
        display_name="Rot",
        time_zone="UTC",
        working_hours=[{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 6)],
        daily_cap=0,
        weekly_cap=0,
        calendar=cal,
    )
    pool = await db.create_pool(dsn, min_size=1, max_size=2)
    try:
        await upsert_interviewer(
            pool,
            SchedulerSettings(database_url=dsn, credential_keys=key_a),
            tenant,
            row,
            replace_profile=True,
        )

        async def stored() -> str:
            async with db.tenant_tx(pool, tenant) as conn:
                return await conn.fetchval(
                    "SELECT calendar->>'credential' FROM interviewers WHERE id = 'rot'"
                )

        before = await stored()
        assert before.startswith("fernet:") and "google-test-token" not in before
        assert KeyRing(key_a, setting=SETTING).open(before) == "google-test-token"

        # a push channel's secret is sealed with the same keys (its deliveries go nowhere here)
        google.add_calendar("gcal-rot@acme.test")
        push = SchedulerSettings(
            database_url=dsn,
            credential_keys=key_a,
            outbound_allow_networks=LOOPBACK,
            calendar_push_base_url="http://127.0.0.1:9",
        )
        assert await open_channels(pool, push, tenant) == {(tenant, "rot"): "opened"}

        async def channel_secret() -> str:
            async with db.tenant_tx(pool, tenant) as conn:
                return await conn.fetchval(
                    "SELECT secret FROM calendar_channels WHERE interviewer_id = 'rot'"
                )

        sealed_secret = await channel_secret()
        (live,) = google.live_channels("gcal-rot@acme.test")
        assert KeyRing(key_a, setting=SETTING).open(sealed_secret) == live.token

        done = rotate(dsn, f"{key_b},{key_a}")
        assert done.returncode == 0, done.stderr
        assert "2 credential(s) re-sealed under the newest key, 0 failed" in done.stdout
        resealed = await channel_secret()
        assert resealed != sealed_secret and KeyRing(key_b, setting=SETTING).open(resealed) == live.token

        after = await stored()
        assert after != before and after.startswith("fernet:")
        assert KeyRing(key_b, setting=SETTING).open(after) == "google-test-token"
        with pytest.raises(KeysUnavailable):
            KeyRing(key_a, setting=SETTING).open(after)

        # The old key dropped: the refresh still reads the calendar with the re-sealed token.
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
        google.add_calendar("gcal-rot@acme.test")
        google.add_busy("gcal-rot@acme.test", start, start + timedelta(hours=1))
        only_b = SchedulerSettings(
            database_url=dsn,
            credential_keys=key_b,
            calendar_http_attempts=1,
            outbound_allow_networks=LOOPBACK,
        )
        (result,) = await refresh_calendars(pool, only_b, tenant)
        assert (result.interviewer_id, result.status, result.busy_blocks) == ("rot", "known", 1), result
        # With only the old key, the same refresh cannot open it: unknown, never free.
        only_a = SchedulerSettings(
            database_url=dsn,
            credential_keys=key_a,
            calendar_http_attempts=1,
            outbound_allow_networks=LOOPBACK,
        )
        (stale,) = await refresh_calendars(pool, only_a, tenant)
        assert stale.status == "unknown"
    finally:
        await pool.close()

    # A value no configured key opens is reported and fails the command.
    failed = rotate(dsn, generate_key())
    assert failed.returncode == 1
    assert f"{tenant}/rot does not open with any key" in failed.stderr

"""What the scheduler consumes: the ATS moved an application to an interview stage -> open a scheduling
request for the job's default panel (announced as `interview.scheduling_requested`)."""

from __future__ import annotations

import asyncpg
from interloop.events.v1 import ats_pb2
from interloop_common import kafka
from interloop_common.events import Event
from interloop_common.retry import Permanent
from interloop_common.service import ConsumerSpec, Runtime

from interloop_scheduler.events.requests import open_request
from interloop_scheduler.rpc.mapping import utc_now
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.store import links as link_store


class NoDefaultPanel(Permanent):
    """The job has no default panel configured: a human must configure it (SetJobPanel), then replay."""


def stage_changed_handler(settings: SchedulerSettings):  # type: ignore[no-untyped-def]
    async def handle(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(ats_pb2.ApplicationStageChanged)
        assert isinstance(msg, ats_pb2.ApplicationStageChanged)
        if not msg.is_interview_stage:
            return
        round_ = msg.to_stage
        if await link_store.open_link_for(conn, event.tenant_id, msg.remote_application_id, round_):
            return  # already asked the candidate for this stage (a second move into it, say)
        config = await link_store.get_job_panel(conn, event.tenant_id, msg.remote_job_id)
        if config is None:
            raise NoDefaultPanel(
                f"job {msg.remote_job_id!r} has no default interview panel: set one with SetJobPanel "
                f"(PUT /v1/scheduling/job-panels/{msg.remote_job_id}) and replay this dead letter"
            )
        await open_request(
            conn,
            settings,
            event.tenant_id,
            utc_now(),
            candidate_id=msg.remote_candidate_id,
            application_id=msg.remote_application_id,
            job_id=msg.remote_job_id,
            round=round_,
            candidate_email=msg.candidate_email,
            candidate_name=msg.candidate_name,
            panel=config["panel"],
            duration_minutes=config["duration_minutes"],
            expires_in_hours=config.get("expires_in_hours", 0),
            slot_settings=config.get("settings", {}),
            connection_id=msg.connection_id,
        )

    return handle


def consumers(rt: Runtime) -> list[ConsumerSpec]:
    settings = rt.settings
    assert isinstance(settings, SchedulerSettings)
    return [
        ConsumerSpec(
            group="scheduler.ats",
            topics=[kafka.topic("ats")],
            handlers={"ats.application.stage_changed": stage_changed_handler(settings)},
        )
    ]

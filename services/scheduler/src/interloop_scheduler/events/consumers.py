"""What the scheduler consumes: the ATS moved an application to an interview stage, or an automation asked
for it (`ats.scheduling.requested`) -> open a scheduling request for the job's default panel (announced as
`interview.scheduling_requested`); the ATS rejected an application or the candidate withdrew -> its links
close and its upcoming interviews are cancelled; two candidates were merged -> the merged one's links and
bookings become the survivor's; a candidate was erased in the ATS -> erase their PII here."""

from __future__ import annotations

import asyncpg
from interloop.events.v1 import ats_pb2
from interloop_common import kafka
from interloop_common.erasure import acknowledge
from interloop_common.events import Event, MalformedEvent
from interloop_common.service import ConsumerSpec, Runtime

from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.usecases.emit import SOURCE
from interloop_scheduler.usecases.erasure import erase_candidate
from interloop_scheduler.usecases.links import close_application
from interloop_scheduler.usecases.requests import merge_candidates, open_for_job


def stage_changed_handler(settings: SchedulerSettings):  # type: ignore[no-untyped-def]
    async def handle(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(ats_pb2.ApplicationStageChanged)
        assert isinstance(msg, ats_pb2.ApplicationStageChanged)
        if not msg.is_interview_stage:
            return
        await open_for_job(
            conn,
            settings,
            event.tenant_id,
            candidate_id=msg.remote_candidate_id,
            application_id=msg.remote_application_id,
            job_id=msg.remote_job_id,
            round_=msg.to_stage,
            candidate_email=msg.candidate_email,
            candidate_name=msg.candidate_name,
            connection_id=msg.connection_id,
        )

    return handle


def scheduling_requested_handler(settings: SchedulerSettings):  # type: ignore[no-untyped-def]
    async def handle(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(ats_pb2.SchedulingRequested)
        assert isinstance(msg, ats_pb2.SchedulingRequested)
        if not msg.remote_application_id or not msg.remote_job_id:
            raise MalformedEvent(
                f"{event.type} {event.id}: remote_application_id and remote_job_id are required "
                "(the automation's application has no job in the sync mirror)"
            )
        await open_for_job(
            conn,
            settings,
            event.tenant_id,
            candidate_id=msg.remote_candidate_id,
            application_id=msg.remote_application_id,
            job_id=msg.remote_job_id,
            round_=msg.stage,
            candidate_email=msg.candidate_email,
            candidate_name=msg.candidate_name,
            connection_id=msg.connection_id,
        )

    return handle


def application_rejected_handler(settings: SchedulerSettings):  # type: ignore[no-untyped-def]
    async def handle(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(ats_pb2.ApplicationRejected)
        assert isinstance(msg, ats_pb2.ApplicationRejected)
        if not msg.remote_application_id:
            raise MalformedEvent(f"{event.type} {event.id}: remote_application_id is required")
        if msg.reverted:
            return  # un-rejected: what was closed stays closed; a new stage move opens a new request
        await close_application(
            conn,
            settings,
            event.tenant_id,
            msg.remote_application_id,
            withdrawn=msg.withdrawn,
            reason=msg.reason,
        )

    return handle


async def candidates_merged(conn: asyncpg.Connection, event: Event) -> None:
    msg = event.unpack(ats_pb2.CandidatesMerged)
    assert isinstance(msg, ats_pb2.CandidatesMerged)
    if not msg.surviving_candidate_id or not msg.merged_candidate_id:
        raise MalformedEvent(f"{event.type} {event.id}: surviving and merged candidate ids are required")
    if msg.surviving_candidate_id != msg.merged_candidate_id:
        await merge_candidates(conn, event.tenant_id, msg.surviving_candidate_id, msg.merged_candidate_id)


async def candidate_erased(conn: asyncpg.Connection, event: Event) -> None:
    msg = event.unpack(ats_pb2.CandidateErased)
    assert isinstance(msg, ats_pb2.CandidateErased)
    if not msg.remote_candidate_id:
        raise MalformedEvent(f"{event.type} {event.id}: remote_candidate_id is required")
    await erase_candidate(
        conn,
        event.tenant_id,
        msg.remote_candidate_id,
        list(msg.fields),
        deleted=msg.deleted,
        source="api" if msg.erasure_id else "ats",
    )
    await acknowledge(
        conn, event.tenant_id, msg.remote_candidate_id, msg.erasure_id, service="scheduler", source=SOURCE
    )


def consumers(rt: Runtime) -> list[ConsumerSpec]:
    settings = rt.settings
    assert isinstance(settings, SchedulerSettings)
    return [
        ConsumerSpec(
            group="scheduler.ats",
            topics=[kafka.topic("ats")],
            handlers={
                "ats.application.stage_changed": stage_changed_handler(settings),
                "ats.scheduling.requested": scheduling_requested_handler(settings),
                "ats.application.rejected": application_rejected_handler(settings),
                "ats.candidate.erased": candidate_erased,
                "ats.candidate.merged": candidates_merged,
            },
        )
    ]

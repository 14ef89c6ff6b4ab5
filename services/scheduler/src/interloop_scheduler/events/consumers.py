"""What the scheduler consumes: the ATS moved an application to an interview stage, or an automation asked
for it (`ats.scheduling.requested`) -> open a scheduling request for the job's default panel (announced as
`interview.scheduling_requested`); a candidate was erased in the ATS -> erase their PII here."""

from __future__ import annotations

import asyncpg
from interloop.events.v1 import ats_pb2
from interloop_common import kafka
from interloop_common.events import Event, MalformedEvent
from interloop_common.inbox import erase_dead_letters
from interloop_common.retry import Permanent
from interloop_common.service import ConsumerSpec, Runtime

from interloop_scheduler.events.requests import open_request
from interloop_scheduler.rpc.mapping import utc_now
from interloop_scheduler.settings import SchedulerSettings
from interloop_scheduler.store import links as link_store


class NoDefaultPanel(Permanent):
    """The job has no default panel configured: a human must configure it (SetJobPanel), then replay."""


async def _open_for_job(
    conn: asyncpg.Connection,
    settings: SchedulerSettings,
    tenant_id: str,
    *,
    candidate_id: str,
    application_id: str,
    job_id: str,
    round_: str,
    candidate_email: str,
    candidate_name: str,
    connection_id: str,
) -> None:
    """Open a request for the job's default panel unless one is already open for this application and
    round (a second move into the stage, or the stage change and an automation asking for the same)."""
    if await link_store.open_link_for(conn, tenant_id, application_id, round_):
        return
    config = await link_store.get_job_panel(conn, tenant_id, job_id)
    if config is None:
        raise NoDefaultPanel(
            f"job {job_id!r} has no default interview panel: set one with SetJobPanel "
            f"(PUT /v1/scheduling/job-panels/{job_id}) and replay this dead letter"
        )
    await open_request(
        conn,
        settings,
        tenant_id,
        utc_now(),
        candidate_id=candidate_id,
        application_id=application_id,
        job_id=job_id,
        round=round_,
        candidate_email=candidate_email,
        candidate_name=candidate_name,
        panel=config["panel"],
        duration_minutes=config["duration_minutes"],
        expires_in_hours=config.get("expires_in_hours", 0),
        slot_settings=config.get("settings", {}),
        connection_id=connection_id,
    )


def stage_changed_handler(settings: SchedulerSettings):  # type: ignore[no-untyped-def]
    async def handle(conn: asyncpg.Connection, event: Event) -> None:
        msg = event.unpack(ats_pb2.ApplicationStageChanged)
        assert isinstance(msg, ats_pb2.ApplicationStageChanged)
        if not msg.is_interview_stage:
            return
        await _open_for_job(
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
        await _open_for_job(
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


async def candidate_erased(conn: asyncpg.Connection, event: Event) -> None:
    msg = event.unpack(ats_pb2.CandidateErased)
    assert isinstance(msg, ats_pb2.CandidateErased)
    if not msg.remote_candidate_id:
        raise MalformedEvent(f"{event.type} {event.id}: remote_candidate_id is required")
    name, email = erased_parts(list(msg.fields), deleted=msg.deleted)
    # what we hold of them, to find it in dead-lettered records too
    held = await link_store.candidate_contacts(conn, event.tenant_id, msg.remote_candidate_id)
    needles = [e for e, _ in held if email] + [n for _, n in held if name]
    await erase_dead_letters(conn, event.tenant_id, needles)
    await link_store.erase_candidate(
        conn, event.tenant_id, msg.remote_candidate_id, name=name, email=email, close_links=msg.deleted
    )


NAME_FIELDS = frozenset({"full_name", "first_name", "last_name", "name", "candidate_name"})


def erased_parts(fields: list[str], *, deleted: bool) -> tuple[bool, bool]:
    """(erase the name?, erase the email?) for an ATS deletion or an anonymisation of `fields` (an
    anonymisation without a field list erases everything we hold)."""
    if deleted or not fields:
        return True, True
    lowered = [f.lower() for f in fields]
    return any(f in NAME_FIELDS for f in lowered), any("email" in f for f in lowered)


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
                "ats.candidate.erased": candidate_erased,
            },
        )
    ]

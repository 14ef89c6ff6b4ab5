"""Changes an ATS vendor pushes (``PushPartnerChanges``) on the session's four services (real PostgreSQL and
Kafka): they take the webhook path (a move into an interview stage puts the stage change on Kafka and the
scheduler opens a scheduling request for the job's default panel), a request id again is a duplicate with
no second effect, a bad batch is refused whole with nothing stored, a hire reaches the HRIS hand-off as a
Greenhouse hire does, a deletion erases the candidate; the partner's connection is listed and skipped by
reconciliation, webhooks, write-back and key rotation."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from interloop.events.v1 import ats_pb2, interview_pb2, scorecard_pb2
from interloop.sync.v1 import sync_pb2 as pb
from interloop.sync.v1 import sync_pb2_grpc
from interloop_common.events import Event, decode, encode, new_event
from interloop_common.rpc import field_violations
from interloop_devstack.testing import ServiceSet, eventually, rows, value
from interloop_fakes.ats import FakeWorkday
from interloop_sync.domain import partner as partner_model
from interloop_sync.rpc.convert import struct
from interloop_sync.store.connections import SealedCredentials

pytestmark = pytest.mark.integration

ALWAYS = [{"weekday": d, "start": "00:00", "end": "24:00"} for d in range(1, 8)]
ACCEPTED, DUPLICATE = pb.INGEST_OUTCOME_ACCEPTED, pb.INGEST_OUTCOME_DUPLICATE


@dataclass
class Partner:
    """A fresh tenant, its admin API key over REST, and a partner pushing to it over sync's gRPC."""

    tenant: str
    partner_id: str
    http: httpx.AsyncClient
    platform: ServiceSet

    async def push(self, *changes: pb.PartnerChange) -> list[tuple[str, int]]:
        async with grpc.aio.insecure_channel(self.platform.target("sync")) as ch:
            resp = await sync_pb2_grpc.SyncServiceStub(ch).PushPartnerChanges(
                pb.PushPartnerChangesRequest(
                    tenant_id=self.tenant, partner_id=self.partner_id, changes=list(changes)
                )
            )
        return [(r.request_id, r.outcome) for r in resp.results]

    async def refused(self, *changes: pb.PartnerChange) -> grpc.aio.AioRpcError:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await self.push(*changes)
        return caught.value

    async def panel(self, job_id: str) -> None:
        for who in ("hm", "p1"):
            r = await self.http.put(
                f"/v1/scheduling/interviewers/{who}",
                json={"email": f"{who}@partner.test", "time_zone": "UTC", "working_hours": ALWAYS},
            )
            assert r.status_code == 200, r.text
        r = await self.http.put(
            f"/v1/scheduling/job-panels/{job_id}",
            json={
                "panel": [{"interviewer_ids": ["hm"]}, {"interviewer_ids": ["p1"]}],
                "duration_minutes": 30,
            },
        )
        assert r.status_code == 200, r.text

    async def rows(self, svc: str, sql: str, *args: Any) -> list[Any]:
        return await rows(self.platform.dsns[svc], sql, self.tenant, *args)

    async def count(self, table: str, where: str = "true") -> int:
        """Rows of this tenant in sync's ``table`` (a test's literal table name and condition)."""
        sql = f"SELECT count(*) FROM {table} WHERE tenant_id = $1 AND {where}"  # noqa: S608
        return await value(self.platform.dsns["sync"], sql, self.tenant)

    async def _partitions(self, family: str) -> list[TopicPartition]:
        """The partitions of topic ``family``, as the broker describes them."""
        topic = f"{self.platform.prefix}interloop.{family}.v1"
        admin = AIOKafkaAdminClient(bootstrap_servers=self.platform.infra.kafka_bootstrap)
        await admin.start()
        try:
            (described,) = await admin.describe_topics([topic])
        finally:
            await admin.close()
        return [TopicPartition(topic, p["partition"]) for p in described["partitions"]]

    async def events(self, family: str) -> list[Event]:
        """Every record of this tenant on topic ``family`` so far, from the beginning."""
        parts = await self._partitions(family)
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.platform.infra.kafka_bootstrap, group_id=None, enable_auto_commit=False
        )
        await consumer.start()
        try:
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            found = []
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    for r in records:
                        if dict(r.headers).get("ce_tenant") == self.tenant.encode():
                            found.append(decode(r.value))
            return found
        finally:
            await consumer.stop()

    async def payloads(self, event_type: str, message: type[Any]) -> list[Any]:
        """The payloads of this tenant's ``event_type`` records on Kafka so far (log order per partition)."""
        family = event_type.split(".", 1)[0]
        return [e.unpack(message) for e in await self.events(family) if e.type == event_type]

    async def caught_up(self, group: str, family: str) -> bool:
        """Sync's outbox of this tenant is published and consumer ``group`` committed the end of every
        partition of topic ``family`` (checked on the topic's described partitions: never vacuously)."""
        unpublished = await value(
            self.platform.dsns["sync"],
            "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND published_at IS NULL",
            self.tenant,
        )
        if unpublished:
            return False
        parts = await self._partitions(family)
        admin = AIOKafkaAdminClient(bootstrap_servers=self.platform.infra.kafka_bootstrap)
        await admin.start()
        try:
            committed = await admin.list_consumer_group_offsets(f"{self.platform.prefix}{group}")
        finally:
            await admin.close()
        consumer = AIOKafkaConsumer(bootstrap_servers=self.platform.infra.kafka_bootstrap)
        await consumer.start()
        try:
            ends = await consumer.end_offsets(parts)
        finally:
            await consumer.stop()
        assert parts and any(end > 0 for end in ends.values()), f"nothing on {family} to be caught up with"
        return all(tp in committed and committed[tp].offset >= end for tp, end in ends.items() if end > 0)


@pytest.fixture
async def partner(platform: ServiceSet) -> AsyncIterator[Partner]:
    from interloop_cli.demo import create_api_key

    tenant = f"pp-{uuid.uuid4().hex[:8]}"
    key = await create_api_key(
        platform.dsns["gateway"], tenant_id=tenant, key=f"il_{tenant}_key", scopes=("admin",)
    )
    async with httpx.AsyncClient(
        base_url=platform.base_url, headers={"Authorization": f"Bearer {key}"}, timeout=30
    ) as http:
        yield Partner(tenant, f"vendor-{uuid.uuid4().hex[:6]}", http, platform)


@pytest.fixture
def workday() -> Iterator[FakeWorkday]:
    with FakeWorkday() as fake:
        yield fake


def candidate(rid: str, cid: str, email: str, first: str = "Ada", last: str = "Lovelace") -> pb.PartnerChange:
    return pb.PartnerChange(
        request_id=rid,
        upsert_candidate=pb.PartnerCandidate(
            candidate_id=cid, first_name=first, last_name=last, emails=[email]
        ),
    )


def application(
    rid: str, app: str, cid: str, job: str, job_name: str = "Platform Engineer"
) -> pb.PartnerChange:
    return pb.PartnerChange(
        request_id=rid,
        upsert_application=pb.PartnerApplication(
            application_id=app,
            candidate_id=cid,
            job_id=job,
            job_name=job_name,
            stage_id="applied",
            stage_name="Applied",
            source="referral",
        ),
    )


def move(rid: str, app: str, stage_id: str, name: str, **flag: bool) -> pb.PartnerChange:
    return pb.PartnerChange(
        request_id=rid,
        move_stage=pb.PartnerStageMove(application_id=app, stage_id=stage_id, stage_name=name, **flag),
    )


async def _partner_connection(p: Partner) -> pb.Connection:
    async with grpc.aio.insecure_channel(p.platform.target("sync")) as ch:
        listed = await sync_pb2_grpc.SyncServiceStub(ch).ListConnections(
            pb.ListConnectionsRequest(tenant_id=p.tenant)
        )
    (c,) = [c for c in listed.connections if c.provider == "partner"]
    return c


async def test_a_pushed_move_into_an_interview_stage_opens_one_scheduling_request(partner: Partner) -> None:
    job, app, cid = f"job-{uuid.uuid4().hex[:6]}", "app-1", "cand-1"
    email = f"ada-{partner.tenant}@partner.test"
    await partner.panel(job)

    first = [
        candidate("r-cand", cid, email),
        application("r-app", app, cid, job),
        move("r-move", app, "onsite", "Onsite Interview"),  # no flag: the policy sees "interview"
    ]
    assert await partner.push(*first) == [("r-cand", ACCEPTED), ("r-app", ACCEPTED), ("r-move", ACCEPTED)]

    # The partner acts through a connection of its own, listed with the others.
    c = await _partner_connection(partner)
    assert partner.partner_id in c.name and c.settings["partner_id"] == partner.partner_id
    assert c.mode == pb.CONNECTION_MODE_ACTIVE

    # On Kafka: the stage change a webhook move announces, with the job and the candidate's contact ...
    def stage_changes() -> Any:
        return partner.payloads("ats.application.stage_changed", ats_pb2.ApplicationStageChanged)

    (changed,) = await eventually(stage_changes, what="ats.application.stage_changed on Kafka")
    assert (changed.provider, changed.connection_id) == ("partner", c.id)
    assert (changed.remote_application_id, changed.remote_job_id, changed.remote_candidate_id) == (
        app,
        job,
        cid,
    )
    assert (changed.from_stage, changed.to_stage, changed.is_interview_stage) == (
        "Applied",
        "Onsite Interview",
        True,
    )
    assert (changed.candidate_email, changed.candidate_name) == (email, "Ada Lovelace")

    # ... and the scheduler's scheduling request for the job's default panel.
    (request,) = await eventually(
        lambda: partner.payloads(
            "interview.scheduling_requested", interview_pb2.InterviewSchedulingRequested
        ),
        what="interview.scheduling_requested on Kafka",
    )
    assert (request.application_id, request.job_id, request.candidate_email) == (app, job, email)
    assert (request.round, request.connection_id) == ("Onsite Interview", c.id)
    (mirrored,) = await partner.rows(
        "sync",
        "SELECT stage_name, source, job_ids FROM applications WHERE tenant_id = $1 AND remote_id = $2",
        app,
    )
    assert (mirrored["stage_name"], mirrored["source"], list(mirrored["job_ids"])) == (
        "Onsite Interview",
        "referral",
        [job],
    )

    # The same request ids again: DUPLICATE each, nothing applied or announced a second time.
    assert await partner.push(*first) == [("r-cand", DUPLICATE), ("r-app", DUPLICATE), ("r-move", DUPLICATE)]
    # a duplicate next to a new change: only the new one applies
    assert await partner.push(first[2], move("r-offer", app, "offer", "Offer")) == [
        ("r-move", DUPLICATE),
        ("r-offer", ACCEPTED),
    ]
    await eventually(
        lambda: partner.caught_up("scheduler.ats", "ats"), what="the scheduler past every change"
    )
    moves = [(x.to_stage, x.is_interview_stage) for x in await stage_changes()]
    assert moves == [("Onsite Interview", True), ("Offer", False)]  # one partition: one application's key
    links = await partner.rows(
        "scheduler", "SELECT application_id FROM scheduling_links WHERE tenant_id = $1"
    )
    assert [x[0] for x in links] == [app]
    assert await partner.count("webhook_deliveries") == 4
    assert await partner.count("sync_operations", "direction = 'inbound' AND outcome = 'duplicate'") == 4
    assert await partner.count("connections") == 1  # one connection per tenant and partner, however often


async def test_the_partners_interview_flag_wins_over_the_stage_name(partner: Partner) -> None:
    job = f"job-{uuid.uuid4().hex[:6]}"
    await partner.panel(job)
    results = await partner.push(
        candidate("c", "cand-2", f"flag-{partner.tenant}@partner.test"),
        application("a", "app-2", "cand-2", job),
        move("m1", "app-2", "screen", "Phone screen", interview_stage=True),
        move("m2", "app-2", "panel", "Panel interview", interview_stage=False),
    )
    assert [o for _, o in results] == [ACCEPTED] * 4
    await eventually(lambda: partner.caught_up("scheduler.ats", "ats"), what="the scheduler past the moves")
    changed = await partner.payloads("ats.application.stage_changed", ats_pb2.ApplicationStageChanged)
    flags = [(x.to_stage, x.is_interview_stage) for x in changed]
    assert flags == [("Phone screen", True), ("Panel interview", False)]
    links = await partner.rows("scheduler", "SELECT round FROM scheduling_links WHERE tenant_id = $1")
    assert [x[0] for x in links] == ["Phone screen"]


async def test_a_bad_batch_is_refused_whole_and_stores_nothing(partner: Partner) -> None:
    async def nothing_stored() -> None:
        for table in (
            "connections",
            "webhook_deliveries",
            "candidates",
            "applications",
            "outbox",
            "sync_operations",
        ):
            assert await partner.count(table) == 0, table

    good = candidate("ok-1", "cand-3", f"bad-{partner.tenant}@partner.test")
    err = await partner.refused(
        good,
        pb.PartnerChange(request_id="bad-1", move_stage=pb.PartnerStageMove(stage_id="onsite")),
        pb.PartnerChange(
            request_id="ok-1", hire_application=pb.PartnerHire(application_id="x", start_date="1/4/2026")
        ),
    )
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {f for f, _ in field_violations(err)} == {
        "changes[1].move_stage.application_id",
        "changes[2].request_id",
        "changes[2].hire_application.start_date",
    }
    await nothing_stored()

    # Well formed, but a move of an application Interloop does not hold: FAILED_PRECONDITION naming the
    # change, and the candidate pushed before it in the same batch is not stored either.
    err = await partner.refused(good, move("bad-2", "app-unknown", "onsite", "Onsite Interview"))
    assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "changes[1].move_stage.application_id" in err.details() and "app-unknown" in err.details()
    await nothing_stored()

    # Nothing of either attempt was recorded: the same request ids apply now.
    assert await partner.push(good) == [("ok-1", ACCEPTED)]


async def test_a_pushed_hire_reaches_the_hris_hand_off_like_a_webhook_hire(
    partner: Partner, workday: FakeWorkday
) -> None:
    async with grpc.aio.insecure_channel(partner.platform.target("sync")) as ch:
        await sync_pb2_grpc.SyncServiceStub(ch).CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=partner.tenant,
                credentials=workday.credentials,
                connection=pb.Connection(
                    provider="workday",
                    owner="hris-owner@partner.test",
                    base_url=workday.base_url,
                    settings={"tenant": workday.tenant, "organization": "ORG-ENG"},
                    field_mapping=struct(dict(partner_model.HIRE_MAPPING)),
                ),
            )
        )
    hire = pb.PartnerChange(
        request_id="r-hire", hire_application=pb.PartnerHire(application_id="app-4", start_date="2026-04-01")
    )
    results = await partner.push(
        candidate("r-c", "cand-4", "Grace.Hopper@Partner.test", "Grace", "Hopper"),
        application("r-a", "app-4", "cand-4", "job-4", job_name="Staff Engineer"),
        hire,
    )
    assert [o for _, o in results] == [ACCEPTED] * 3
    verified = await eventually(
        lambda: partner.rows(
            "sync",
            "SELECT ats_connection_id, application_id FROM hris_syncs"
            " WHERE tenant_id = $1 AND status = 'verified'",
        ),
        within=60,
        what="the verified HRIS record",
    )
    c = await _partner_connection(partner)
    assert [(str(r[0]), r[1]) for r in verified] == [(c.id, "app-4")]
    (worker,) = workday.workers.values()
    assert (worker["First_Name"], worker["Last_Name"]) == ("Grace", "Hopper")
    assert worker["Organization_Reference_ID"] == "ORG-ENG"  # the connection's organisation: none pushed
    assert (worker["Email_Address"], worker["Position_Title"], worker["Hire_Date"]) == (
        "grace.hopper@partner.test",
        "Staff Engineer",
        "2026-04-01",
    )
    assert await partner.count("outbox", "event_type = 'hris.employee.synced'") == 1
    (hired,) = await partner.rows(
        "sync", "SELECT status, hired_at IS NOT NULL FROM applications WHERE tenant_id = $1"
    )
    assert tuple(hired) == ("hired", True)

    # The same hire again under the same request id: a duplicate, nothing handed off again ...
    assert await partner.push(hire) == [("r-hire", DUPLICATE)]
    # ... and pushed again as a new change (as a webhook hire re-sent): the record is there, nothing written.
    again = pb.PartnerChange(
        request_id="r-hire-2",
        hire_application=pb.PartnerHire(application_id="app-4", start_date="2026-04-01"),
    )
    assert await partner.push(again) == [("r-hire-2", ACCEPTED)]
    await eventually(
        lambda: partner.count("sync_operations", "direction = 'hris' AND outcome = 'duplicate'"),
        what="the second hire seen as a duplicate by the HRIS hand-off",
    )
    assert len(workday.hires) == 1


async def test_a_pushed_candidate_deletion_erases_them(partner: Partner) -> None:
    job, email = f"job-{uuid.uuid4().hex[:6]}", f"erase-{partner.tenant}@partner.test"
    await partner.panel(job)
    await partner.push(
        candidate("c", "cand-5", email),
        application("a", "app-5", "cand-5", job),
        move("m", "app-5", "i", "Interview"),
    )
    await eventually(
        lambda: partner.rows(
            "scheduler", "SELECT 1 FROM scheduling_links WHERE tenant_id = $1 AND candidate_email = $2", email
        ),
        what="the scheduling request with the candidate's email",
    )

    assert await partner.push(
        pb.PartnerChange(request_id="d", delete_candidate=pb.PartnerDeletion(candidate_id="cand-5"))
    ) == [("d", ACCEPTED)]
    (cand,) = await partner.rows(
        "sync",
        "SELECT first_name, last_name, emails, deleted, anonymised FROM candidates"
        " WHERE tenant_id = $1 AND remote_id = 'cand-5'",
    )
    assert (cand["first_name"], cand["last_name"], list(cand["emails"])) == ("Anonymized", "cand-5", [])
    assert cand["deleted"] and cand["anonymised"]
    assert await partner.count("applications", "remote_id = 'app-5' AND deleted") == 1

    (msg,) = await eventually(
        lambda: partner.payloads("ats.candidate.erased", ats_pb2.CandidateErased),
        what="ats.candidate.erased on Kafka",
    )
    assert (msg.remote_candidate_id, msg.deleted) == ("cand-5", True)

    async def scheduler_erased() -> bool:
        links = await partner.rows(
            "scheduler", "SELECT candidate_email, candidate_name FROM scheduling_links WHERE tenant_id = $1"
        )
        return bool(links) and all(tuple(r) == ("", "") for r in links)

    await eventually(scheduler_erased, what="the candidate's PII erased in the scheduler")
    # the deleted candidate's application is gone: a move of it is refused
    err = await partner.refused(move("m2", "app-5", "o", "Offer"))
    assert (
        err.code() == grpc.StatusCode.FAILED_PRECONDITION
        and "changes[0].move_stage.application_id" in err.details()
    )


async def test_the_partners_connection_is_skipped_by_reconciliation_webhooks_write_back_and_rotation(
    partner: Partner,
) -> None:
    await partner.push(candidate("c", "cand-6", f"skip-{partner.tenant}@partner.test"))
    c = await _partner_connection(partner)
    async with grpc.aio.insecure_channel(partner.platform.target("sync")) as ch:
        stub = sync_pb2_grpc.SyncServiceStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.RunReconciliation(
                pb.RunReconciliationRequest(tenant_id=partner.tenant, connection_id=c.id)
            )
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        for provider in ("greenhouse", "partner"):  # no webhook is verified for it
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.IngestWebhook(
                    pb.IngestWebhookRequest(provider=provider, connection_id=c.id, raw_body=b"{}", headers={})
                )
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as caught:  # and none is made by hand
            await stub.CreateConnection(
                pb.CreateConnectionRequest(
                    tenant_id=partner.tenant,
                    connection=pb.Connection(provider="partner", owner="o@partner.test"),
                )
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    # A scorecard for the partner's candidate: write-back finds no vendor API there and moves on.
    event = new_event(
        type="scorecard.submitted",
        source="//test",
        tenant_id=partner.tenant,
        subject="scorecard/s6",
        payload=scorecard_pb2.ScorecardSubmitted(
            scorecard_id="s6", booking_id="b6", interviewer_id="i6", candidate_id="cand-6", version=1
        ),
    )
    producer = AIOKafkaProducer(bootstrap_servers=partner.platform.infra.kafka_bootstrap)
    await producer.start()
    try:
        body, headers = encode(event)
        await producer.send_and_wait(
            f"{partner.platform.prefix}interloop.scorecard.v1",
            body,
            key=partner.tenant.encode(),
            headers=headers,
        )
    finally:
        await producer.stop()
    await eventually(
        lambda: partner.caught_up("sync.writeback", "scorecard"), what="write-back past the scorecard"
    )
    assert await partner.count("dead_letters") == 0
    assert await partner.count("writebacks") == 0

    # Key rotation re-seals vendor credentials only: the partner's connection holds none.
    conn = await asyncpg.connect(partner.platform.dsns["sync"])
    try:
        await conn.execute("SELECT set_config('app.system', 'on', false)")
        labels = [label for label, _ in await SealedCredentials().sealed(conn)]
    finally:
        await conn.close()
    assert not [x for x in labels if c.id in x]

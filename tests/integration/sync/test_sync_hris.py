"""ATS -> HRIS at offer acceptance, write-back, automations and reconciliation on a sync process of their own
(real PostgreSQL and Kafka; fake vendors at the edges): read-back of every field, an HRIS outage waited out
(retries with backoff, the owner alerted once, no dead letter) and the hire written once when it is back,
kill -9 mid-batch without loss or duplicate HRIS writes, SMTP email."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from interloop.events.v1 import scorecard_pb2
from interloop.sync.v1 import sync_pb2 as pb
from interloop.sync.v1 import sync_pb2_grpc
from interloop_common.events import encode, new_event
from interloop_devstack.procs import kill9
from interloop_devstack.testing import Mailbox, ServiceSet, consumer_caught_up, eventually, rows, value
from interloop_fakes.ats import FakeGreenhouse, FakeLever, FakeWorkday
from interloop_fakes.ats.workday import BSVC, operation_of
from interloop_sync.rpc.convert import struct
from interloop_sync.usecases.automations import MAX_ATTEMPTS
from lxml import etree

from .conftest import GH_SECRET, WORKDAY_MAPPING, synthetic_hire
from .conftest import deliver_greenhouse as _deliver
from .conftest import staged_alerts as _alerts

pytestmark = pytest.mark.integration

WD = {"wd": BSVC}

OWNER = "hris-owner@acme.test"


@pytest.fixture(scope="module")
def sync_set(infra, tmp_path_factory, mailbox: Mailbox) -> Iterator[ServiceSet]:  # type: ignore[no-untyped-def]
    # A sync process of its own: these tests kill -9 it (its leases expire in 5 s), count its attempts and
    # wait out its backoff.
    services = ServiceSet(infra, tmp_path_factory.mktemp("sync-hris"), ("sync",))
    services.procs["sync"].env.update(
        {
            "INTERLOOP_SYNC_CONSUMER_MAX_ATTEMPTS": "3",
            "INTERLOOP_SYNC_CONSUMER_BACKOFF_INITIAL_SECONDS": "0.05",
            "INTERLOOP_SYNC_CONSUMER_BACKOFF_MAX_SECONDS": "0.2",
            "INTERLOOP_SYNC_SMTP_HOST": "127.0.0.1",
            "INTERLOOP_SYNC_SMTP_PORT": str(mailbox.port),
            "INTERLOOP_SYNC_AUTOMATION_POLL_SECONDS": "0.2",
            "INTERLOOP_SYNC_AUTOMATION_LEASE_SECONDS": "5",
            "INTERLOOP_SYNC_AUTOMATION_RETRY_INITIAL_SECONDS": "0.05",
            "INTERLOOP_SYNC_AUTOMATION_RETRY_MAX_SECONDS": "0.2",
            "INTERLOOP_SYNC_RECONCILE_INTERVAL_SECONDS": "0",
        }
    )
    services.start()
    try:
        yield services
    finally:
        services.stop()


@pytest.fixture
def workday() -> Iterator[FakeWorkday]:
    with FakeWorkday() as fake:
        yield fake


async def _setup(
    sync_set: ServiceSet,
    workday: FakeWorkday | None,
    *,
    hris_mode: int = pb.CONNECTION_MODE_ACTIVE,
    gh_base_url: str = "",
    gh_mode: int = pb.CONNECTION_MODE_ACTIVE,
) -> tuple[str, str, str]:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    async with grpc.aio.insecure_channel(sync_set.target("sync")) as ch:
        stub = sync_pb2_grpc.SyncServiceStub(ch)
        hris_id = ""
        if workday is not None:
            hris = await stub.CreateConnection(
                pb.CreateConnectionRequest(
                    tenant_id=tenant,
                    credentials=workday.credentials,
                    connection=pb.Connection(
                        provider="workday",
                        owner=OWNER,
                        base_url=workday.base_url,
                        mode=hris_mode,
                        settings={"tenant": workday.tenant},
                        field_mapping=struct(WORKDAY_MAPPING),
                    ),
                )
            )
            hris_id = hris.connection.id
        creds = {"webhook_secret": GH_SECRET}
        if gh_base_url:
            creds["api_key"] = "gh-test-key"
        ats = await stub.CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=tenant,
                credentials=creds,
                connection=pb.Connection(
                    provider="greenhouse",
                    owner="ats-owner@acme.test",
                    base_url=gh_base_url,
                    mode=gh_mode,
                    settings={"on_behalf_of": "1001"},
                ),
            )
        )
    return tenant, ats.connection.id, hris_id


def _verified(dsn: str, tenant: str):  # type: ignore[no-untyped-def]
    return lambda: value(
        dsn, "SELECT count(*) FROM hris_syncs WHERE tenant_id = $1 AND status = 'verified'", tenant
    )


async def test_offer_accepted_records_sync_to_workday_with_every_field_read_back(sync_set, workday) -> None:  # type: ignore[no-untyped-def]
    tenant, ats_id, _ = await _setup(sync_set, workday)
    dsn = sync_set.dsns["sync"]
    for n in range(6):
        resp = await _deliver(sync_set, ats_id, synthetic_hire(n))
        assert resp.outcome == pb.INGEST_OUTCOME_ACCEPTED
    await eventually(lambda: _count_ge(_verified(dsn, tenant), 6), within=60, what="6 verified HRIS records")
    assert len(workday.hires) == 6 and len(workday.workers) == 6
    by_name = {w["First_Name"]: w for w in workday.workers.values()}
    for n in range(6):
        w = by_name[f"Hire{n}"]
        assert w["Last_Name"] == f"Person{n}" and w["Email_Address"] == f"hire{n}@example.com"
        assert w["Position_Title"] == "Developer" and w["Hire_Date"] == "2015-01-23"
        assert w["Organization_Reference_ID"] == "ORG-ENG" and w["Location_ID"] == "LOC-NYC"
        assert Decimal(w["Amount"]) == 80000 + n and w["Currency_ID"] == "USD"
        assert w["Applicant_ID"] == w["Employee_ID"]  # the pre-hire, hired under our id
    assert workday.managers["ORG-ENG"] == "W-1001"  # the manager Get_Workers reports for each of them
    # Every hire was read back over Get_Workers (after the probe for an earlier hire under its key), and
    # 'verified' means every written field, the manager included, came back equal.
    reads = [r for r in workday.requests if operation_of(r) == "Get_Workers"]
    assert len(reads) == 12
    assert all(r.path == f"/ccx/service/{workday.tenant}/Staffing/v43.0" for r in workday.requests)
    synced = await rows(dsn, "SELECT fields, remote_id FROM hris_syncs WHERE tenant_id = $1", tenant)
    assert all(set(json.loads(r["fields"])) == set(WORKDAY_MAPPING["fields"]) for r in synced)
    events = await value(
        dsn,
        "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND event_type = 'hris.employee.synced'",
        tenant,
    )
    assert events == 6

    # The same hire delivered again (a new delivery: Greenhouse re-sent it, so the signed body differs; an
    # identical body would be a replay) writes nothing: the record is already there.
    again = synthetic_hire(0)
    again["payload"]["application"]["url"] += "&resent=1"
    await _deliver(sync_set, ats_id, again)
    await eventually(
        lambda: value(
            dsn,
            "SELECT count(*) FROM sync_operations WHERE tenant_id = $1 AND "
            "direction = 'hris' AND outcome = 'duplicate'",
            tenant,
        ),
        what="duplicate seen",
    )
    assert len(workday.hires) == 6


async def _count_ge(check, n: int) -> bool:  # type: ignore[no-untyped-def]
    return (await check() or 0) >= n


async def test_read_back_mismatch_and_conflict_go_to_the_owner(sync_set, workday) -> None:  # type: ignore[no-untyped-def]
    tenant, ats_id, _ = await _setup(sync_set, workday)
    dsn = sync_set.dsns["sync"]
    workday.store_transforms["Position_Title"] = lambda v: v.upper()  # the HRIS silently rewrites a field
    await _deliver(sync_set, ats_id, synthetic_hire(1))
    await eventually(
        lambda: value(
            dsn, "SELECT status FROM hris_syncs WHERE tenant_id = $1 AND status = 'mismatch'", tenant
        ),
        what="a read-back mismatch",
    )
    alerts = await _alerts(dsn, tenant)
    assert any(a.owner == OWNER and "title" in a.detail and "DEVELOPER" in a.detail for a in alerts), alerts

    # Both sides changed the title since the last sync: flagged for a human, nothing overwritten.
    changed = synthetic_hire(1)
    changed["payload"]["application"]["jobs"][0]["name"] = "Staff Developer"
    await _deliver(sync_set, ats_id, changed)
    conflicts = await eventually(
        lambda: rows(dsn, "SELECT field FROM sync_conflicts WHERE tenant_id = $1", tenant), what="a conflict"
    )
    assert [c["field"] for c in conflicts] == ["title"]
    assert len(workday.hires) == 1 and workday.writes_of("Change_Job") == []


async def test_ats_only_changes_update_the_hris_and_hris_changes_stand(sync_set, workday) -> None:  # type: ignore[no-untyped-def]
    tenant, ats_id, _ = await _setup(sync_set, workday)
    dsn = sync_set.dsns["sync"]
    hire = synthetic_hire(21, salary=90000)
    await _deliver(sync_set, ats_id, hire)
    await eventually(lambda: _count_ge(_verified(dsn, tenant), 1), what="the hire")
    (worker_id,) = list(workday.workers)

    # The ATS changes an ATS-owned field (title) the HRIS did not touch: it is written, and only it.
    hire["payload"]["application"]["jobs"][0]["name"] = "Staff Developer"
    await _deliver(sync_set, ats_id, hire)
    await eventually(lambda: len(workday.writes_of("Change_Job")) == 1, what="the update")
    (change,) = workday.writes_of("Change_Job")
    job = etree.fromstring(change.body).find(".//wd:Change_Job_Data/wd:Job_Data", WD)
    assert [etree.QName(e).localname for e in job.iter()] == [
        "Job_Data",
        "Position_Details",
        "Position_Title",
    ]
    assert job.findtext("wd:Position_Details/wd:Position_Title", namespaces=WD) == "Staff Developer"
    assert job.getparent().find("wd:Worker_Reference/wd:ID", WD).text == worker_id
    assert len(workday.writes) == 3  # pre-hire, hire, the one change
    assert workday.workers[worker_id]["Position_Title"] == "Staff Developer"
    assert workday.workers[worker_id]["Organization_Reference_ID"] == "ORG-ENG"

    async def baseline_moved() -> dict | None:
        got = await rows(dsn, "SELECT status, baseline FROM hris_syncs WHERE tenant_id = $1", tenant)
        base = json.loads(got[0]["baseline"]) if got and got[0]["baseline"] else {}
        return got[0] if base.get("title") == "Staff Developer" else None

    synced = await eventually(baseline_moved, what="the new baseline")
    assert synced["status"] == "verified"

    # Later the HRIS changes the title itself and the ATS sends the same record again: the ATS did not
    # change it since the last sync, so the HRIS value stands: nothing is written.
    workday.workers[worker_id]["Position_Title"] = "Principal Developer"
    hire["payload"]["application"]["url"] += "&resent=1"  # a new delivery (an identical body is a replay)
    await _deliver(sync_set, ats_id, hire)

    async def consumed() -> bool:  # the redelivered hire was published and the HRIS consumer is past it
        unpublished = await value(
            dsn, "SELECT count(*) FROM outbox WHERE tenant_id = $1 AND published_at IS NULL", tenant
        )
        return unpublished == 0 and await consumer_caught_up(
            sync_set.infra.kafka_bootstrap,
            f"{sync_set.prefix}sync.hris",
            f"{sync_set.prefix}interloop.ats.v1",
        )

    await eventually(consumed, what="the HRIS consumer to take the redelivered hire")
    assert len(workday.writes_of("Change_Job")) == 1
    assert workday.workers[worker_id]["Position_Title"] == "Principal Developer"
    assert await rows(dsn, "SELECT 1 FROM sync_conflicts WHERE tenant_id = $1", tenant) == []


async def test_hris_outage_is_waited_out_alerting_the_owner_once_and_the_hire_is_written_once(
    sync_set, workday, mailbox: Mailbox
) -> None:  # type: ignore[no-untyped-def]
    tenant, ats_id, _ = await _setup(sync_set, workday)
    dsn = sync_set.dsns["sync"]
    workday.set_down(True)
    await _deliver(sync_set, ats_id, synthetic_hire(7))
    # Retried with backoff well past the point where any other action would have failed for good.
    await eventually(
        lambda: value(
            dsn,
            "SELECT attempts FROM automation_actions WHERE tenant_id = $1 AND kind = 'hris_hire'"
            " AND status = 'pending' AND attempts >= 2 * $2",
            tenant,
            MAX_ATTEMPTS,
        ),
        within=60,
        what="the hire retried while Workday is down",
    )
    assert len([r for r in workday.requests if r.method == "POST"]) >= 2 * MAX_ATTEMPTS
    alerts = await eventually(lambda: _alerts(dsn, tenant), what="alerts")
    retrying = [a for a in alerts if a.owner == OWNER and "still retrying" in a.summary]
    assert len(retrying) == 1, alerts  # loud once, not once per attempt
    assert workday.writes == []
    assert await value(dsn, "SELECT count(*) FROM dead_letters WHERE tenant_id = $1", tenant) == 0

    # Each alert reaches its owner by email (one per alert).
    def tenant_mail() -> list[tuple[str, str]]:
        return [
            (r, f"{m['Subject']}\n{m.get_body(('plain',)).get_content()}")
            for rcpts, m in list(mailbox.messages)
            for r in rcpts
            # the session's mailbox also holds other tests' invites (multipart, ICS attached)
            if f"tenant: {tenant}" in m.get_body(("plain",)).get_content()
        ]

    async def mail_for_every_alert() -> list[tuple[str, str]] | None:
        mine = tenant_mail()
        return mine if len(mine) >= len(await _alerts(dsn, tenant)) else None

    mails = await eventually(mail_for_every_alert, within=30, what="the alert emails")
    assert sorted(to for to, _ in mails) == sorted(a.owner for a in await _alerts(dsn, tenant))
    assert any(to == OWNER and "still retrying" in m for to, m in mails), mails

    # Workday answers again: the hire is written once, with nothing to replay.
    workday.set_down(False)
    await eventually(
        lambda: _count_ge(_verified(dsn, tenant), 1), within=30, what="the hire once Workday is back"
    )
    assert len(workday.hires) == 1 and len(workday.workers) == 1
    assert await value(dsn, "SELECT count(*) FROM dead_letters WHERE tenant_id = $1", tenant) == 0
    action = await rows(
        dsn, "SELECT status FROM automation_actions WHERE tenant_id = $1 AND kind = 'hris_hire'", tenant
    )
    assert [r["status"] for r in action] == ["done"]


async def test_shadow_hris_connection_records_without_writing(sync_set, workday) -> None:  # type: ignore[no-untyped-def]
    tenant, ats_id, _ = await _setup(sync_set, workday, hris_mode=pb.CONNECTION_MODE_SHADOW)
    dsn = sync_set.dsns["sync"]
    await _deliver(sync_set, ats_id, synthetic_hire(3))
    row = await eventually(
        lambda: rows(
            dsn, "SELECT fields FROM hris_syncs WHERE tenant_id = $1 AND status = 'shadowed'", tenant
        ),
        what="a shadowed hand-off",
    )
    assert json.loads(row[0]["fields"])["first_name"] == "Hire3"
    assert workday.requests == []


async def test_email_automation_is_delivered_over_smtp_once(sync_set, mailbox: Mailbox) -> None:  # type: ignore[no-untyped-def]
    tenant, ats_id, _ = await _setup(sync_set, None)
    dsn = sync_set.dsns["sync"]
    async with grpc.aio.insecure_channel(sync_set.target("sync")) as ch:
        stub = sync_pb2_grpc.SyncServiceStub(ch)
        await stub.CreateAutomationRule(
            pb.CreateAutomationRuleRequest(
                tenant_id=tenant,
                rule=pb.AutomationRule(id="invite", dsl='on hire do send_email("welcome")'),
                templates=[
                    pb.EmailTemplate(
                        name="welcome",
                        subject="Welcome {{ candidate_name }}",
                        body="Hello {{ candidate_name }}, welcome aboard.",
                    )
                ],
            )
        )
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.CreateAutomationRule(
                pb.CreateAutomationRuleRequest(
                    tenant_id=tenant,
                    rule=pb.AutomationRule(id="fast-reject", dsl="on rejection do reject after 1h"),
                )
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "24h" in err.value.details()
        listed = await stub.ListAutomationRules(pb.ListAutomationRulesRequest(tenant_id=tenant))
        assert [r.id for r in listed.rules] == ["invite"]
    body = synthetic_hire(11)
    await _deliver(sync_set, ats_id, body)
    # A second delivery of the same hire (a new event: Greenhouse sent it again with something changed; the
    # byte-identical body would be a replay), but one email per rule+event.
    resent = json.loads(json.dumps(body))
    resent["payload"]["application"]["url"] += "&resent=1"
    await _deliver(sync_set, ats_id, resent)
    await eventually(
        lambda: value(dsn, "SELECT count(*) FROM communications WHERE tenant_id = $1", tenant),
        what="the email",
    )
    await asyncio.sleep(1)
    mine = mailbox.to("hire11@example.com")
    assert len(mine) == 2  # two deliveries (two events) of a rule without a dedupe condition
    assert mine[0]["Subject"] == "Welcome Hire11 Person11" and "welcome aboard" in mine[0].get_content()
    assert (
        await value(
            dsn, "SELECT count(*) FROM automation_actions WHERE tenant_id = $1 AND status = 'done'", tenant
        )
        == 2
    )


async def test_reconciliation_and_scorecard_write_back_once(sync_set) -> None:  # type: ignore[no-untyped-def]
    with FakeGreenhouse() as gh:
        seeded = gh.seed_candidates(5)
        tenant, ats_id, _ = await _setup(sync_set, None, gh_base_url=gh.base_url)
        dsn = sync_set.dsns["sync"]
        gh.rate_limit_next(1, retry_after=0.2)
        async with grpc.aio.insecure_channel(sync_set.target("sync")) as ch:
            stub = sync_pb2_grpc.SyncServiceStub(ch)
            run = await stub.RunReconciliation(
                pb.RunReconciliationRequest(tenant_id=tenant, connection_id=ats_id)
            )
            assert run.fetched == 5 and run.upserted == 5 and run.cursor
            again = await stub.RunReconciliation(
                pb.RunReconciliationRequest(tenant_id=tenant, connection_id=ats_id)
            )
            assert again.upserted == 0  # resumed from the persisted cursor
        assert await value(dsn, "SELECT count(*) FROM applications WHERE tenant_id = $1", tenant) == 5

        candidate = str(seeded[0]["id"])
        producer = AIOKafkaProducer(
            bootstrap_servers=sync_set.infra.kafka_bootstrap, acks="all", enable_idempotence=True
        )
        await producer.start()
        try:
            for _ in range(2):  # two events for one scorecard version (a re-emission): one note
                event = new_event(
                    type="scorecard.submitted",
                    source="//test",
                    tenant_id=tenant,
                    subject="scorecard/s1",
                    payload=scorecard_pb2.ScorecardSubmitted(
                        scorecard_id="s1",
                        booking_id="b1",
                        interviewer_id="i1",
                        candidate_id=candidate,
                        recommendation="strong_yes",
                        version=1,
                    ),
                )
                body, headers = encode(event)
                await producer.send_and_wait(
                    f"{sync_set.prefix}interloop.scorecard.v1", body, key=tenant.encode(), headers=headers
                )
        finally:
            await producer.stop()
        await eventually(
            lambda: value(
                dsn,
                "SELECT count(*) FROM sync_operations WHERE tenant_id = $1 AND direction = 'outbound'",
                tenant,
            ),
            what="write-back",
            within=30,
        )
        await eventually(
            lambda: _count_ge(
                lambda: value(
                    dsn,
                    "SELECT count(*) FROM sync_operations WHERE tenant_id = $1 AND direction = 'outbound'",
                    tenant,
                ),
                2,
            ),
            what="both events handled",
        )
        notes = gh.writes_to("/activity_feed/notes")
        assert len(notes) == 1 and notes[0].headers["on-behalf-of"] == "1001"
        assert "strong_yes" in notes[0].json()["body"]


async def test_kill9_mid_batch_loses_nothing_and_never_writes_twice(sync_set, workday) -> None:  # type: ignore[no-untyped-def]
    tenant, ats_id, _ = await _setup(sync_set, workday)
    dsn = sync_set.dsns["sync"]
    workday.latency = 0.04
    total = 40
    for n in range(total):
        await _deliver(sync_set, ats_id, synthetic_hire(100 + n))
    await eventually(lambda: _count_ge(_verified(dsn, tenant), 5), within=60, what="the batch to start")
    kill9(sync_set.procs["sync"].proc)
    at_crash = await _verified(dsn, tenant)()
    assert at_crash < total, "the crash must happen mid-batch"
    await asyncio.to_thread(sync_set.start, "sync")
    await eventually(
        lambda: _count_ge(_verified(dsn, tenant), total), within=90, what="every hire after restart"
    )
    await asyncio.sleep(1)
    assert len(workday.hires) == total and len(workday.workers) == total
    assert len({w["Applicant_ID"] for w in workday.workers.values()}) == total
    assert await value(dsn, "SELECT count(*) FROM dead_letters WHERE tenant_id = $1", tenant) == 0
    _ = datetime.now(UTC)


async def test_lever_oauth_tokens_are_renewed_stored_and_never_spent_twice(sync_set) -> None:  # type: ignore[no-untyped-def]
    with FakeLever(oauth_token="lever-access-0") as lv:  # noqa: S106 - fake credential
        lv.seed_opportunities(3)
        tenant = f"t-{uuid.uuid4().hex[:8]}"
        async with grpc.aio.insecure_channel(sync_set.target("sync")) as ch:
            stub = sync_pb2_grpc.SyncServiceStub(ch)
            created = await stub.CreateConnection(
                pb.CreateConnectionRequest(
                    tenant_id=tenant,
                    credentials={
                        "signature_token": "lever-sig",
                        "oauth_token": "lever-access-0",
                        "refresh_token": lv.refresh_token,
                        "client_id": lv.client_id,
                        "client_secret": lv.client_secret,
                    },
                    connection=pb.Connection(
                        provider="lever",
                        owner="ats-owner@acme.test",
                        base_url=f"{lv.base_url}/v1",
                        settings={"token_url": f"{lv.base_url}/oauth/token"},
                    ),
                )
            )
            run = pb.RunReconciliationRequest(tenant_id=tenant, connection_id=created.connection.id)
            # The hour passed: two workers meet the 401 at once; one refresh serves both.
            lv.expire_access_tokens()
            first, second = await asyncio.gather(stub.RunReconciliation(run), stub.RunReconciliation(run))
            assert first.fetched + second.fetched >= 3
            assert lv.refreshes == 1
            # Another hour: the rotated refresh token was stored, so the next refresh works too.
            lv.expire_access_tokens()
            await stub.RunReconciliation(run)
            assert lv.refreshes == 2
        assert [r.path for r in lv.requests if r.path == "/oauth/token"] == ["/oauth/token"] * 2


async def test_a_vendor_401_during_reconciliation_is_tried_once_and_alerts_the_owner(sync_set) -> None:  # type: ignore[no-untyped-def]
    with FakeGreenhouse() as gh:
        gh.seed_candidates(2)
        tenant, ats_id, _ = await _setup(sync_set, None, gh_base_url=gh.base_url)
        dsn = sync_set.dsns["sync"]
        gh.set_down(True, status=401)  # the API key was revoked
        async with grpc.aio.insecure_channel(sync_set.target("sync")) as ch:
            stub = sync_pb2_grpc.SyncServiceStub(ch)
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.RunReconciliation(
                    pb.RunReconciliationRequest(tenant_id=tenant, connection_id=ats_id)
                )
        listed = [r for r in gh.requests if "/applications" in r.path]
        assert len(listed) == 1, "a refused request must not be retried"
        alerts = await rows(
            dsn,
            "SELECT envelope FROM outbox WHERE tenant_id = $1 AND event_type = 'notification.alert'",
            tenant,
        )
        assert len(alerts) == 1
        assert b"ats-owner@acme.test" in bytes(alerts[0]["envelope"])

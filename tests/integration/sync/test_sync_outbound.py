"""The outbound guard on the running sync service (the platform's; the dev stack opens loopback for the
fakes): connection URLs validated at creation, a vendor's refusal body found nowhere a tenant or a
candidate sees it (gRPC answer, stored reasons, alerts, the owner's e-mail, dead letters), and an
automation webhook to an inside address refused while one to the (opened) loopback is reached."""

from __future__ import annotations

import json
import uuid
from typing import Any

import grpc
import pytest
from interloop.sync.v1 import sync_pb2 as pb
from interloop.sync.v1 import sync_pb2_grpc
from interloop_common.rpc import field_violations
from interloop_devstack.testing import Mailbox, ServiceSet, eventually, rows
from interloop_fakes.ats import FakeGreenhouse, FakeWorkday
from interloop_fakes.ats.workday import VALIDATION
from interloop_fakes.ats.workday import fault as workday_fault
from interloop_sync.rpc.convert import struct
from litestar import Response

from .conftest import GH_SECRET, WORKDAY_MAPPING, synthetic_hire
from .conftest import deliver_greenhouse as _deliver
from .conftest import staged_alerts as _alerts

pytestmark = pytest.mark.integration

SECRET = "AKIA-METADATA-SECRET-do-not-echo"
HOOK = "/v1/candidates/1/activity_feed/notes"  # a route of the fake's (it records what reaches a route)


def _leaky_body() -> Response:
    body = {"message": SECRET, "errors": [{"field": "name", "error": SECRET}], "Token": SECRET}
    return Response(content=json.dumps(body).encode(), status_code=400, media_type="application/json")


class LeakyGreenhouse(FakeGreenhouse):
    """Refuses with a secret in its error body (as a metadata service's credential document would be)."""

    def failure_response(self, status: int) -> Response:
        response = _leaky_body()
        response.status_code = status
        return response


class LeakyWorkday(FakeWorkday):
    """Refuses with the secret in its Validation_Fault: faultstring, message and Xpath."""

    def failure_response(self, status: int) -> Response:
        return workday_fault(
            VALIDATION, f"Validation error occurred. {SECRET}", [(SECRET, f"/{SECRET}")], status
        )


def stub(ch: grpc.aio.Channel) -> sync_pb2_grpc.SyncServiceStub:
    return sync_pb2_grpc.SyncServiceStub(ch)


async def _connect(platform: ServiceSet, tenant: str, **connection: Any) -> str:
    credentials = connection.pop("credentials")
    async with grpc.aio.insecure_channel(platform.target("sync")) as ch:
        created = await stub(ch).CreateConnection(
            pb.CreateConnectionRequest(
                tenant_id=tenant, credentials=credentials, connection=pb.Connection(**connection)
            )
        )
    return created.connection.id


async def _stored_text(dsn: str, tenant: str) -> str:
    """Everything sync stored for the tenant that a person reads: operations, cursors, HRIS syncs,
    automation actions, the communications log (e-mail bodies), dead-letter reasons, alerts."""
    text = []
    for table in ("sync_operations", "sync_cursors", "hris_syncs", "automation_actions", "communications"):
        text += [
            r["t"]
            for r in await rows(dsn, f"SELECT t::text AS t FROM {table} t WHERE tenant_id = $1", tenant)
        ]  # noqa: S608 - fixed names
    text += [
        r["reason"] for r in await rows(dsn, "SELECT reason FROM dead_letters WHERE tenant_id = $1", tenant)
    ]
    text += [f"{a.summary}\n{a.detail}" for a in await _alerts(dsn, tenant)]
    return "\n".join(text)


def _mail_for(mailbox: Mailbox, tenant: str) -> list[str]:
    return [
        f"{m['Subject']}\n{m.get_body(('plain',)).get_content()}"
        for _, m in list(mailbox.messages)
        if f"tenant: {tenant}" in m.get_body(("plain",)).get_content()
    ]


async def test_connection_urls_are_validated_at_creation(platform: ServiceSet) -> None:
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    async with grpc.aio.insecure_channel(platform.target("sync")) as ch:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub(ch).CreateConnection(
                pb.CreateConnectionRequest(
                    tenant_id=tenant,
                    credentials={"signature_token": "s", "api_key": "k"},
                    connection=pb.Connection(
                        provider="lever",
                        owner="owner@acme.test",
                        base_url="http://169.254.169.254/latest/meta-data",
                        settings={"token_url": "https://user:pw@auth.lever.co/oauth/token"},
                    ),
                )
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        violations = dict(field_violations(err.value))
        assert "outbound guard refuses" in violations["connection.base_url"]
        assert "no user name or password" in violations["connection.settings.token_url"]
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub(ch).CreateConnection(
                pb.CreateConnectionRequest(
                    tenant_id=tenant,
                    credentials={"webhook_secret": "s"},
                    connection=pb.Connection(
                        provider="greenhouse",
                        owner="owner@acme.test",
                        base_url="https://harvest.greenhouse.io.evil.test",
                    ),
                )
            )
        violations = dict(field_violations(err.value))
        assert "harvest.greenhouse.io" in violations["connection.base_url"]
        created = await stub(
            ch
        ).CreateConnection(  # the vendor's own host over https: accepted, nothing called
            pb.CreateConnectionRequest(
                tenant_id=tenant,
                credentials={"webhook_secret": "s"},
                connection=pb.Connection(
                    provider="greenhouse", owner="owner@acme.test", base_url="https://harvest.greenhouse.io"
                ),
            )
        )
        assert created.connection.base_url == "https://harvest.greenhouse.io"


async def test_a_vendor_refusal_body_appears_nowhere_a_tenant_sees(
    platform: ServiceSet, mailbox: Mailbox
) -> None:
    dsn = platform.dsns["sync"]
    # ATS: reconciliation refused (401) with the secret in the body
    with LeakyGreenhouse() as gh:
        gh.seed_candidates(2)
        ats_tenant = f"t-{uuid.uuid4().hex[:8]}"
        ats_id = await _connect(
            platform,
            ats_tenant,
            provider="greenhouse",
            owner="ats-owner@acme.test",
            base_url=gh.base_url,
            credentials={"webhook_secret": GH_SECRET, "api_key": gh.api_key},
        )
        gh.set_down(True, status=401)
        async with grpc.aio.insecure_channel(platform.target("sync")) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await stub(ch).RunReconciliation(
                    pb.RunReconciliationRequest(tenant_id=ats_tenant, connection_id=ats_id)
                )
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert err.value.details() == "reconciliation refused: greenhouse: auth_failed (HTTP 401)"
        assert [r.path for r in gh.requests] == ["/v1/applications"]  # reached, once

    # HRIS: the hire refused (422) with the secret in the body: dead-lettered at once
    with LeakyWorkday() as wd:
        hris_tenant = f"t-{uuid.uuid4().hex[:8]}"
        hris_id = await _connect(
            platform,
            hris_tenant,
            provider="workday",
            owner="hris-owner@acme.test",
            base_url=wd.base_url,
            settings={"tenant": wd.tenant},
            field_mapping=struct(WORKDAY_MAPPING),
            credentials=wd.credentials,
        )
        hire_ats = await _connect(
            platform,
            hris_tenant,
            provider="greenhouse",
            owner="ats-owner@acme.test",
            hris_connection_id=hris_id,
            credentials={"webhook_secret": GH_SECRET},
        )
        wd.set_down(True, status=500)
        await _deliver(platform, hire_ats, synthetic_hire(501))
        refused = await eventually(
            lambda: rows(
                dsn,
                "SELECT last_error FROM automation_actions WHERE tenant_id = $1 AND kind = 'hris_hire'"
                " AND status = 'failed'",
                hris_tenant,
            ),
            within=60,
            what="the refused hire, failed at once",
        )
        assert "workday: validation_failed (HTTP 500)" in refused[0]["last_error"]
        assert wd.requests, "the hire reached the fake"

    # Greenhouse refused with a 401; Workday with a Validation_Fault on HTTP 500.
    for tenant, status in ((ats_tenant, "HTTP 401"), (hris_tenant, "HTTP 500")):
        alerts = await eventually(lambda t=tenant: _alerts(dsn, t), what="the owner's alert")

        async def mail(t: str = tenant, n: int = len(alerts)) -> list[str] | None:
            found = _mail_for(mailbox, t)
            return found if len(found) >= n else None

        mails = await eventually(mail, within=30, what="the alert e-mails")
        assert any(status in m for m in mails), mails  # a fixed code and the status instead
        stored = await _stored_text(dsn, tenant)
        assert status in stored
        for said in (*mails, stored):
            assert SECRET not in said


async def test_an_automation_webhook_to_an_inside_address_is_refused(platform: ServiceSet) -> None:
    dsn = platform.dsns["sync"]
    tenant = f"t-{uuid.uuid4().hex[:8]}"
    with LeakyGreenhouse() as receiver:  # stands in for the tenant's endpoint on (opened) loopback
        receiver.set_down(True, status=404)
        ats_id = await _connect(
            platform,
            tenant,
            provider="greenhouse",
            owner="ats-owner@acme.test",
            credentials={"webhook_secret": GH_SECRET},
        )
        async with grpc.aio.insecure_channel(platform.target("sync")) as ch:
            for rule_id, url in (
                ("metadata", "http://169.254.169.254/latest/meta-data/iam/security-credentials/"),
                ("private", "http://10.0.0.1/hook"),
                ("loopback", f"{receiver.base_url}{HOOK}"),
            ):
                await stub(ch).CreateAutomationRule(
                    pb.CreateAutomationRuleRequest(
                        tenant_id=tenant,
                        rule=pb.AutomationRule(id=rule_id, dsl=f'on hire do call_webhook(url="{url}")'),
                    )
                )
        await _deliver(platform, ats_id, synthetic_hire(502))

        async def errors() -> dict[str, str] | None:
            found = {
                r["rule_id"]: r["last_error"]
                for r in await rows(
                    dsn,
                    "SELECT rule_id, last_error FROM automation_actions"
                    " WHERE tenant_id = $1 AND last_error IS NOT NULL",
                    tenant,
                )
            }
            return found if len(found) == 3 else None

        got = await eventually(errors, within=30, what="the three webhook attempts")
        assert got == {
            "metadata": "webhook: destination_not_allowed",
            "private": "webhook: destination_not_allowed",
            "loopback": "webhook: request_refused (HTTP 404)",  # reached; its body kept out
        }
        hooks = [r for r in receiver.requests if r.path == HOOK]
        assert hooks and hooks[0].method == "POST" and hooks[0].headers["idempotency-key"]
    assert SECRET not in await _stored_text(dsn, tenant)

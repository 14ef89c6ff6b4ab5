"""The partner port with mutual TLS: a gateway pod configured with a server certificate and a client CA
accepts only clients presenting a certificate that CA signed, and a partner registered with a certificate
subject is refused when its key arrives under another certificate (a leaked key alone is not enough)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import asyncpg
import grpc
import pytest
from interloop.partner.v1 import partner_pb2 as pb
from interloop.partner.v1 import partner_pb2_grpc
from interloop_cli.demo import create_api_key
from interloop_devstack.certs import TestCA
from interloop_gateway.store import partners

pytestmark = pytest.mark.integration


async def _call(
    target: str, ca: bytes, client: tuple[bytes, bytes] | None, key: str, tenant: str
) -> pb.GetPartnerInfoResponse:
    creds = grpc.ssl_channel_credentials(
        root_certificates=ca,
        private_key=client[0] if client else None,
        certificate_chain=client[1] if client else None,
    )
    async with grpc.aio.secure_channel(target, creds) as ch:
        return await partner_pb2_grpc.PartnerServiceStub(ch).GetPartnerInfo(
            pb.GetPartnerInfoRequest(),
            metadata=[("authorization", f"Bearer {key}"), ("x-tenant-id", tenant)],
            timeout=15,
        )


async def test_mutual_tls_on_the_partner_port(gateway_pod, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ca, stranger_ca = TestCA("partners CA"), TestCA("someone else's CA")
    server_key, server_cert = ca.issue("127.0.0.1", server=True)
    files = {"cert": server_cert, "key": server_key, "ca": ca.pem}
    for name, data in files.items():
        (tmp_path / f"{name}.pem").write_bytes(data)
    pod = gateway_pod(
        partner_tls_cert_file=str(tmp_path / "cert.pem"),
        partner_tls_key_file=str(tmp_path / "key.pem"),
        partner_tls_client_ca_file=str(tmp_path / "ca.pem"),
    )
    await asyncio.to_thread(pod.start)
    try:
        tenant = f"mtls-{uuid.uuid4().hex[:6]}"
        await create_api_key(pod.dsns["gateway"], tenant_id=tenant, key=f"il_{tenant}")
        conn = await asyncpg.connect(pod.dsns["gateway"])
        try:
            await partners.register(conn, "acme-ats", "Acme ATS", client_cert_subject="acme-ats")
            bound = await partners.issue_key(conn, "acme-ats")
            await partners.register(conn, "plain-ats", "Plain ATS")
            plain = await partners.issue_key(conn, "plain-ats")
            for p in ("acme-ats", "plain-ats"):
                await partners.grant(conn, tenant, p, ["read"], "admin")
        finally:
            await conn.close()
        target = pod.target("gateway")
        acme_cert, other_cert = ca.issue("acme-ats"), ca.issue("other-ats")

        info = await _call(target, ca.pem, acme_cert, bound, tenant)
        assert (info.partner_id, info.tenant_id) == ("acme-ats", tenant)
        # a partner not bound to a subject: any certificate of the CA, with its key
        assert (await _call(target, ca.pem, other_cert, plain, tenant)).partner_id == "plain-ats"
        # the bound partner's key under another certificate of the same CA: refused
        with pytest.raises(grpc.aio.AioRpcError) as leaked:
            await _call(target, ca.pem, other_cert, bound, tenant)
        assert leaked.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "client certificate" in (leaked.value.details() or "")
        # no client certificate, one from another CA, or no TLS at all: the handshake fails
        for client in (None, stranger_ca.issue("acme-ats")):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await _call(target, ca.pem, client, bound, tenant)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        async with grpc.aio.insecure_channel(target) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as plaintext:
                await partner_pb2_grpc.PartnerServiceStub(ch).GetPartnerInfo(
                    pb.GetPartnerInfoRequest(), timeout=10
                )
        assert plaintext.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        pod.stop()

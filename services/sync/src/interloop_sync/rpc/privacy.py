"""SyncService's privacy RPCs: erasure requests, access-request exports, retention and legal holds."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
import grpc
from interloop.sync.v1 import sync_pb2 as pb
from interloop_common.db import tenant_tx
from interloop_common.errors import NotFound
from interloop_common.idempotency import once
from interloop_common.rpc import Check, FieldViolations, ts
from interloop_common.service import Runtime

from interloop_sync.domain.identity import normalise_email
from interloop_sync.store import mirror
from interloop_sync.store import retention as store
from interloop_sync.usecases import retention

SCOPES = ("candidate", "job", "tenant")


def policy_pb(row: asyncpg.Record | None) -> pb.RetentionPolicy:
    if row is None:
        return pb.RetentionPolicy(
            keep_days=store.DEFAULT_KEEP_DAYS, effective_days=store.keep_days(None), is_default=True
        )
    return pb.RetentionPolicy(
        keep_days=row["keep_days"],
        federal_contractor=row["federal_contractor"],
        effective_days=store.keep_days(row),
        updated_by=row["updated_by"],
        updated_at=ts(row["updated_at"]),
    )


def hold_pb(row: asyncpg.Record) -> pb.LegalHold:
    return pb.LegalHold(
        id=str(row["id"]),
        scope=row["scope"],
        subject=row["subject"],
        reason=row["reason"],
        placed_by=row["placed_by"],
        placed_at=ts(row["placed_at"]),
        released_by=row["released_by"] or "",
        released_at=ts(row["released_at"]) if row["released_at"] else None,
    )


def _when(value: str) -> Any:
    return ts(datetime.fromisoformat(value))


def purge_pb(report: asyncpg.Record, purged: list[dict], held: list[dict]) -> pb.RunRetentionPurgeResponse:
    return pb.RunRetentionPurgeResponse(
        id=str(report["id"]),
        ran_at=ts(report["ran_at"]),
        dry_run=report["dry_run"],
        keep_days=report["keep_days"],
        purged=[
            pb.PurgedCandidate(
                candidate_id=p["candidate_id"],
                closed_at=_when(p["closed_at"]),
                erasure_id=p.get("erasure_id", ""),
            )
            for p in purged
        ],
        held=[
            pb.HeldCandidate(
                candidate_id=h["candidate_id"], closed_at=_when(h["closed_at"]), reasons=h["reasons"]
            )
            for h in held
        ],
    )


class PrivacyRpcs:
    """Mixed into SyncServicer."""

    rt: Runtime

    async def FindCandidates(self, request: pb.FindCandidatesRequest, context: grpc.aio.ServicerContext):
        email = normalise_email(request.email) if len(request.email) <= 320 else None
        Check().require(bool(request.tenant_id), "tenant_id", "required").require(
            email is not None, "email", "an email address"
        ).done()
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            found = await mirror.candidates_with_email(conn, request.tenant_id, email)  # type: ignore[arg-type]
        return pb.FindCandidatesResponse(candidate_ids=found)

    async def GetRetentionPolicy(
        self, request: pb.GetRetentionPolicyRequest, context: grpc.aio.ServicerContext
    ):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            row = await store.policy(conn, request.tenant_id)
        return pb.GetRetentionPolicyResponse(policy=policy_pb(row))

    async def SetRetentionPolicy(
        self, request: pb.SetRetentionPolicyRequest, context: grpc.aio.ServicerContext
    ):
        Check().require(bool(request.tenant_id), "tenant_id", "required").require(
            1 <= request.keep_days <= 36500, "keep_days", "1-36500 days"
        ).require(bool(request.updated_by), "updated_by", "required").done()
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            row = await store.set_policy(
                conn, request.tenant_id, request.keep_days, request.federal_contractor, request.updated_by
            )
        return pb.SetRetentionPolicyResponse(policy=policy_pb(row))

    @once(pb.PlaceLegalHoldResponse)
    async def PlaceLegalHold(self, request: pb.PlaceLegalHoldRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").require(
            request.scope in SCOPES, "scope", "one of candidate, job, tenant"
        ).require(
            (request.scope == "tenant") == (request.subject == "") and len(request.subject) <= 200,
            "subject",
            "the candidate or job id (1-200 characters); empty for a hold on the tenant",
        ).require(0 < len(request.reason) <= 2000, "reason", "1-2000 characters").require(
            bool(request.placed_by), "placed_by", "required"
        ).done()
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            row = await store.place_hold(
                conn, request.tenant_id, request.scope, request.subject, request.reason, request.placed_by
            )
        return pb.PlaceLegalHoldResponse(hold=hold_pb(row))

    @once(pb.ReleaseLegalHoldResponse)
    async def ReleaseLegalHold(self, request: pb.ReleaseLegalHoldRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").require(
            bool(request.released_by), "released_by", "required"
        ).done()
        try:
            hold_id = uuid.UUID(request.hold_id)
        except ValueError:
            raise FieldViolations([("hold_id", "not a legal hold id")]) from None
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            row = await store.release_hold(conn, request.tenant_id, hold_id, request.released_by)
        if row is None:
            raise NotFound(f"no active legal hold {request.hold_id}")
        return pb.ReleaseLegalHoldResponse(hold=hold_pb(row))

    async def ListLegalHolds(self, request: pb.ListLegalHoldsRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        async with tenant_tx(self.rt.pool, request.tenant_id) as conn:
            rows = await store.holds(conn, request.tenant_id, active_only=not request.include_released)
        return pb.ListLegalHoldsResponse(holds=[hold_pb(r) for r in rows])

    async def RunRetentionPurge(
        self, request: pb.RunRetentionPurgeRequest, context: grpc.aio.ServicerContext
    ):
        Check().require(bool(request.tenant_id), "tenant_id", "required").require(
            bool(request.requested_by), "requested_by", "required"
        ).done()
        report, purged, held = await retention.run_purge(
            self.rt.pool, request.tenant_id, by=request.requested_by, dry_run=request.dry_run
        )
        return purge_pb(report, purged, held)

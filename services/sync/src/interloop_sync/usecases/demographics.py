"""Demographics from the ATS for the bias audit: a Greenhouse connection's EEOC self-identification
(Harvest v1 `GET /v1/eeoc`, followed by its `next` links) becomes `ats.candidate.demographics_reported` for
each candidate the mirror holds and that was not erased, with only the audit's attributes and only answers
given ("Decline To Self Identify" is left out). Sync keeps no copy (data minimisation): the scorecard
service stores it, for compliance eyes only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from interloop.events.v1 import ats_pb2
from interloop_common.db import tenant_tx
from interloop_common.erasure import is_erased
from interloop_common.errors import Conflict, NotFound, Unavailable
from interloop_common.outbox import stage
from interloop_common.rpc import ts
from interloop_common.vendor_http import Permanent, VendorError

from interloop_sync.store import connections, mirror
from interloop_sync.usecases import SOURCE
from interloop_sync.usecases.connections import token_renewer
from interloop_sync.usecases.context import SyncContext
from interloop_sync.vendors import registry
from interloop_sync.vendors._http import reason

DECLINED = "decline to self identify"


@dataclass
class Imported:
    received: int = 0
    reported: int = 0
    unknown_candidates: int = 0
    declined: int = 0


def attributes_of(record: dict[str, Any]) -> dict[str, str]:
    """{"sex": "female", "race": "Asian"}: the answers given, in the audit's attributes."""
    out = {}
    for attribute, field in (("sex", "gender"), ("race", "race")):
        answer = record.get(field) or {}
        text = str(answer.get("description") or "").strip()
        if text and text.lower() != DECLINED:
            out[attribute] = text.lower() if attribute == "sex" else text
    return out


async def import_eeoc(ctx: SyncContext, tenant_id: str, connection_id: str) -> Imported:
    async with tenant_tx(ctx.pool, tenant_id) as conn:
        c = await connections.get(conn, tenant_id, connection_id)
    if c is None or registry.kind(c.provider) != "ats":
        raise NotFound(f"no ATS connection {connection_id}")
    adapter = registry.ats(c.provider)
    creds = ctx.require_vault().decrypt(c.credentials)
    if not adapter.has_api_access(creds):
        raise Conflict(
            f"connection {connection_id} has no {c.provider} API credentials to read EEOC data with"
        )
    client = adapter.client(ctx.http(c.provider), c, creds, token_renewer(ctx, c))
    list_eeoc = getattr(client, "list_eeoc", None)  # what the vendor's API offers (Greenhouse Harvest)
    if list_eeoc is None:
        raise Conflict(f"{c.provider} connections have no EEOC import")
    result, cursor = Imported(), None
    try:
        while True:
            try:
                page = await list_eeoc(cursor=cursor)
            except ValueError as exc:
                raise Conflict(str(exc)) from None
            async with tenant_tx(ctx.pool, tenant_id) as conn:
                for record in page.items:
                    result.received += 1
                    candidate_id = str(record.get("candidate_id") or "")
                    held = candidate_id and await mirror.get_candidate(conn, tenant_id, c.id, candidate_id)
                    if not held or await is_erased(conn, tenant_id, candidate_id):
                        result.unknown_candidates += 1
                        continue
                    attributes = attributes_of(record)
                    if not attributes:
                        result.declined += 1
                        continue
                    reported = ats_pb2.CandidateDemographicsReported(
                        provider=c.provider,
                        connection_id=c.id,
                        remote_candidate_id=candidate_id,
                        attributes=attributes,
                    )
                    if record.get("submitted_at"):
                        reported.submitted_at.CopyFrom(
                            ts(datetime.fromisoformat(str(record["submitted_at"]).replace("Z", "+00:00")))
                        )
                    await stage(
                        conn,
                        type="ats.candidate.demographics_reported",
                        source=SOURCE,
                        tenant_id=tenant_id,
                        subject=f"candidate/{candidate_id}",
                        payload=reported,
                    )
                    result.reported += 1
            cursor = page.next_cursor
            if not cursor:
                return result
    except Permanent as exc:
        raise Conflict(f"EEOC import refused: {reason(exc)}") from None
    except VendorError as exc:
        raise Unavailable(f"EEOC import could not reach Greenhouse: {reason(exc)}") from None

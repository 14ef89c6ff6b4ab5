"""Changes an ATS vendor pushes over the partner API (``PushPartnerChanges``): in ONE tenant transaction, the
partner's connection (made on its first push), then per change the delivery record (its request id: a change
seen before is a duplicate and not applied again) and the same normalised path a webhook delivery takes
(``inbound._Apply``: mirror, automations, scheduling requests at interview stages, the HRIS hand-off at a
hire, erasure at a deletion). A change naming an application Interloop does not hold refuses the whole batch:
nothing is applied."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from interloop_common.db import tenant_tx
from interloop_common.errors import Conflict

from interloop_sync.domain import automations as auto
from interloop_sync.domain import partner
from interloop_sync.domain.model import Hire
from interloop_sync.domain.normalise import InterviewStagePolicy
from interloop_sync.store import connections, mirror
from interloop_sync.store.connections import Connection
from interloop_sync.usecases import metrics
from interloop_sync.usecases.context import SyncContext
from interloop_sync.usecases.inbound import _Apply, enabled_rules, first_delivery
from interloop_sync.vendors import registry

OPERATION = "partner"


class UnknownApplications(Conflict):
    """Changes name applications Interloop does not hold (FAILED_PRECONDITION); the batch is not applied."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {d}" for f, d in problems) + "; nothing was applied")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Result:
    request_id: str
    outcome: str  # accepted | duplicate


class _PartnerApply(_Apply):
    """``_Apply`` for one pushed change: a hire's source document comes from the mirror and the change."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        c: Connection,
        rules: list[auto.Rule],
        partner_id: str,
        pc: partner.PartnerChange,
    ) -> None:
        super().__init__(conn, c, {}, pc.request_id, rules)
        self.partner_id, self.change = partner_id, pc.change

    async def hire_source(self, e: Hire) -> Any:
        app = await mirror.get_application(self.conn, self.t, self.cid, e.application_id)
        assert app is not None and isinstance(self.change, partner.HireApplication)  # checked before applying
        cand = await mirror.get_candidate(self.conn, self.t, self.cid, app.candidate_id or "")
        jobs = await mirror.get_jobs(self.conn, self.t, self.cid, app.job_ids)
        return partner.hire_document(self.partner_id, app, cand, jobs, self.change.start_date)


async def push(
    ctx: SyncContext, tenant_id: str, partner_id: str, changes: list[partner.PartnerChange]
) -> list[Result]:
    """Apply ``changes`` (already validated) in order, all or nothing; one result per change, in order."""
    results: list[Result] = []
    applied: list[_Apply] = []
    problems: list[tuple[str, str]] = []
    async with tenant_tx(ctx.pool, tenant_id) as conn:
        c = await connections.partner_connection(
            conn, tenant_id, registry.PARTNER, partner_id, owner=ctx.settings.alert_owner
        )
        policy = InterviewStagePolicy.from_config(c.stage_policy)  # {}: the default policy
        rules = await enabled_rules(conn, ctx.cache, tenant_id)
        for i, pc in enumerate(changes):
            if not await first_delivery(conn, c, pc.request_id, [pc.kind], OPERATION):
                results.append(Result(pc.request_id, "duplicate"))
                continue
            app_id = pc.application_id
            known = await mirror.get_application(conn, tenant_id, c.id, app_id) if app_id else None
            if pc.needs_known_application and known is None:
                problems.append(
                    (
                        f"changes[{i}].{pc.kind}.application_id",
                        f"no application {app_id!r} from partner {partner_id!r} (never pushed, or deleted "
                        "with its candidate): upsert_application first, in this batch or an earlier one",
                    )
                )
                continue
            related: list[str] = []
            if isinstance(pc.change, partner.DeleteCandidate):
                related = await mirror.candidate_applications(conn, tenant_id, c.id, pc.change.candidate_id)
            events = partner.events(
                partner_id, pc, known=known, candidate_applications=related, policy=policy
            )
            apply = _PartnerApply(conn, c, rules, partner_id, pc)
            await apply.delivery(events, OPERATION, f"{pc.request_id}: {pc.kind}")
            applied.append(apply)
            results.append(Result(pc.request_id, "accepted"))
        if problems:
            raise UnknownApplications(problems)  # rolls the whole batch back
    for apply in applied:
        apply.count(OPERATION)
    for r in results:
        if r.outcome == "duplicate":
            metrics.record("inbound", OPERATION, "duplicate")
    return results

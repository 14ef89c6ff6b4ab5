"""Inbound webhooks: verify the vendor signature on the raw bytes, dedupe by delivery id, quarantine malformed
bodies, then in ONE transaction store the delivery, update the mirror, stage events in the outbox and plan
automations. A forged delivery stores nothing.

A vendor whose webhooks carry ids only (Lever: ``fetches_on_webhook``) has its events completed from its API
after verification and BEFORE that transaction (no connection is held while the vendor answers). A replay is
answered from the delivery table without calling the vendor; a 429 or 5xx is retried under
``vendor_http.with_retries`` and then answered UNAVAILABLE with nothing stored (the vendor redelivers); a
refusal (401, 404, a malformed answer) cannot be fixed by a redelivery: the delivery is quarantined with the
fixed reason and the connection's owner alerted, in one transaction, and nothing is applied."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
from interloop.events.v1 import ats_pb2
from interloop_common import vendor_http
from interloop_common.clock import utc_now
from interloop_common.db import system_tx, tenant_tx
from interloop_common.erasure import erases_person, is_erased, tombstone
from interloop_common.errors import NotFound, Unauthenticated, Unavailable
from interloop_common.inbox import erase_dead_letters
from interloop_common.outbox import stage
from interloop_common.rpc import ts

from interloop_sync.domain import automations as auto
from interloop_sync.domain.credentials import Credentials, CredentialVault
from interloop_sync.domain.identity import contact_needles
from interloop_sync.domain.model import (
    Anonymisation,
    ApplicationChanged,
    CandidateChanged,
    Deletion,
    Hire,
    JobChanged,
    MalformedPayload,
    Merge,
    NormalisedEvent,
    OfferChanged,
    Rejection,
    StageChange,
    Unrecognised,
)
from interloop_sync.domain.normalise import InterviewStagePolicy, parse_body
from interloop_sync.domain.signatures import SignatureError, UnverifiableBody
from interloop_sync.store import automations as rules_store
from interloop_sync.store import connections, mirror
from interloop_sync.store.cache import ConfigCache
from interloop_sync.store.connections import Connection
from interloop_sync.usecases import SOURCE, alert_owner, metrics
from interloop_sync.usecases.connections import token_renewer
from interloop_sync.usecases.context import SyncContext, require
from interloop_sync.vendors import registry
from interloop_sync.vendors._http import reason
from interloop_sync.vendors.ats import AtsAdapter

log = logging.getLogger(__name__)
MAX_QUARANTINE_BYTES = 1024 * 1024
# The vendor is waiting for our answer: a Retry-After longer than this is not waited out here (the vendor
# redelivers a delivery we answer with an error).
WEBHOOK_RATE_LIMIT_WAIT_S = 5.0


class UnknownConnection(NotFound):
    pass


class Rejected(Unauthenticated):
    """Signature forged, stale or missing: the delivery is refused and nothing is stored."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(f"webhook signature {kind}: {reason}")
        self.kind = kind
        self.reason = reason


@dataclass
class IngestResult:
    outcome: str  # accepted | duplicate | quarantined
    delivery_id: str = ""
    event_types: list[str] = field(default_factory=list)
    reason: str = ""
    tenant_id: str = ""


async def ingest(
    pool: asyncpg.Pool,
    vault: CredentialVault | None,
    *,
    provider: str,
    connection_id: str,
    raw: bytes,
    headers: dict[str, str],
    freshness: timedelta,
    cache: ConfigCache | None = None,
    ctx: SyncContext | None = None,
) -> IngestResult:
    """``ctx`` gives the vendor clients a ``fetches_on_webhook`` adapter completes its events with."""
    cache = cache or ConfigCache(ttl=0)
    c, creds, adapter = await _connection(pool, vault, cache, provider, connection_id)
    secret = creds[adapter.signing_credential].reveal()
    try:
        verified = adapter.verify(secret, headers, raw, now=utc_now(), max_age=freshness)
    except UnverifiableBody as exc:
        # Signed inside the body (Lever): an unparseable body cannot be authenticated, only inspected.
        return await _quarantine(pool, c, raw, headers, f"unverifiable body: {exc.reason}")
    except SignatureError as exc:
        _count(c, "rejected")
        raise Rejected(exc.kind, exc.reason) from None

    try:
        parsed = parse_body(provider, raw)
        policy = (
            InterviewStagePolicy.from_config(c.stage_policy) if c.stage_policy else InterviewStagePolicy()
        )
        events = adapter.normalise(parsed, event_id=verified.delivery_id, policy=policy)
    except MalformedPayload as exc:
        return await _quarantine(pool, c, raw, headers, str(exc))

    actions = [e.action for e in events]
    if ctx is not None and adapter.fetches_on_webhook and adapter.has_api_access(creds):
        async with tenant_tx(pool, c.tenant_id) as conn:
            seen = await mirror.delivery_seen(conn, c.tenant_id, c.id, verified.delivery_id)
        if not seen:
            try:
                events = await _enrich(ctx, c, creds, adapter, events, policy)
            except (vendor_http.Permanent, MalformedPayload) as exc:
                return await _refused(pool, c, raw, headers, exc)
            except vendor_http.VendorError as exc:
                why = reason(exc)
                async with tenant_tx(pool, c.tenant_id) as conn:
                    await mirror.record_operation(conn, c.tenant_id, c.id, "inbound", "fetch", "error", why)
                metrics.record("inbound", "fetch", "error")
                raise Unavailable(f"{c.provider} did not answer for this delivery: {why}") from None
    log.debug("%s delivery %s (labelled %s)", provider, verified.delivery_id, verified.label)
    async with tenant_tx(pool, c.tenant_id) as conn:
        if not await first_delivery(conn, c, verified.delivery_id, actions, "webhook"):
            metrics.record("inbound", "webhook", "duplicate")
            return IngestResult("duplicate", verified.delivery_id, actions, tenant_id=c.tenant_id)
        rules = await enabled_rules(conn, cache, c.tenant_id)
        apply = _Apply(conn, c, parsed, verified.delivery_id, rules)
        await apply.delivery(events, "webhook", ",".join(actions))
    apply.count("webhook")
    return IngestResult("accepted", verified.delivery_id, actions, tenant_id=c.tenant_id)


async def first_delivery(
    conn: asyncpg.Connection, c: Connection, delivery_id: str, actions: list[str], operation: str
) -> bool:
    """Record delivery ``delivery_id`` of ``c`` in the caller's transaction: False (logged as a duplicate,
    nothing else to store) when it was seen before."""
    if await mirror.record_delivery(conn, c.tenant_id, c.id, delivery_id, actions):
        return True
    await mirror.record_operation(conn, c.tenant_id, c.id, "inbound", operation, "duplicate", delivery_id)
    return False


async def enabled_rules(conn: asyncpg.Connection, cache: ConfigCache, tenant_id: str) -> list[auto.Rule]:
    """The tenant's enabled automation rules, cached briefly: every delivery plans with them."""
    rules = cache.rules.get(tenant_id)
    if rules is None:
        rules = await rules_store.enabled_rules(conn, tenant_id)
        cache.rules.put(tenant_id, rules)
    return rules


async def _connection(
    pool: asyncpg.Pool, vault: CredentialVault | None, cache: ConfigCache, provider: str, connection_id: str
) -> tuple[Connection, Credentials, AtsAdapter]:
    """The webhook's connection, decrypted credentials and adapter: cached briefly, since every delivery needs
    them."""
    c = cache.connections.get(connection_id)
    if c is None:
        async with system_tx(pool) as conn:
            c = await connections.get_any_tenant(conn, connection_id)
        if c is not None:
            cache.connections.put(connection_id, c)
    adapter = registry.webhook_adapter(provider, c)
    if c is None or adapter is None:
        raise UnknownConnection(f"no {provider} connection {connection_id!r}")
    return c, cache.decrypt(require(vault), c), adapter


async def _enrich(
    ctx: SyncContext,
    c: Connection,
    creds: Credentials,
    adapter: AtsAdapter,
    events: list[NormalisedEvent],
    policy: InterviewStagePolicy,
) -> list[NormalisedEvent]:
    """``events`` completed from the vendor's API: 429s (Retry-After) and 5xx retried, refusals at once."""
    client = adapter.client(ctx.http(c.provider), c, creds, token_renewer(ctx, c))
    return await vendor_http.with_retries(
        lambda: adapter.enrich(client, events, policy),
        attempts=ctx.settings.consumer_max_attempts,
        initial=ctx.settings.consumer_backoff_initial_seconds,
        maximum=ctx.settings.consumer_backoff_max_seconds,
        rate_limit_cap=WEBHOOK_RATE_LIMIT_WAIT_S,
    )


async def _refused(
    pool: asyncpg.Pool, c: Connection, raw: bytes, headers: dict[str, str], exc: Exception
) -> IngestResult:
    """The vendor refused what the delivery names (bad credentials, an unknown id) or answered nonsense: the
    delivery is kept for a human (quarantine) and the owner alerted, in one transaction; nothing applied."""
    why = reason(exc) if isinstance(exc, vendor_http.VendorError) else f"{c.provider}: {exc}"
    async with tenant_tx(pool, c.tenant_id) as conn:
        await mirror.quarantine(
            conn, c.tenant_id, c.id, f"fetch refused: {why}", raw[:MAX_QUARANTINE_BYTES], headers
        )
        await mirror.record_operation(conn, c.tenant_id, c.id, "inbound", "fetch", "error", why)
        await alert_owner(
            conn,
            c,
            f"sync: a {c.provider} webhook could not be completed from the {c.provider} API",
            f"{type(exc).__name__}: {why}; the delivery is quarantined (fix it, then rerun it)",
        )
    metrics.record("inbound", "fetch", "error")
    return IngestResult("quarantined", reason=f"fetch refused: {why}", tenant_id=c.tenant_id)


def _count(c: Connection, outcome: str) -> None:
    metrics.OPERATIONS.labels("inbound", "webhook", outcome).inc()


async def _quarantine(
    pool: asyncpg.Pool, c: Connection, raw: bytes, headers: dict[str, str], reason: str
) -> IngestResult:
    async with tenant_tx(pool, c.tenant_id) as conn:
        await mirror.quarantine(conn, c.tenant_id, c.id, reason, raw[:MAX_QUARANTINE_BYTES], headers)
        await mirror.record_operation(conn, c.tenant_id, c.id, "inbound", "webhook", "error", reason)
    metrics.record("inbound", "webhook", "error")
    return IngestResult("quarantined", reason=reason, tenant_id=c.tenant_id)


def _name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p)


class _Apply:
    """Applies normalised events of one delivery (a webhook, a reconciled record, a partner's pushed
    change) to the mirror inside the delivery's transaction."""

    def __init__(
        self,
        conn: asyncpg.Connection,
        c: Connection,
        parsed: dict[str, Any],
        delivery_id: str,
        rules: list[auto.Rule],
    ) -> None:
        self.conn, self.c, self.parsed, self.delivery_id, self.rules = conn, c, parsed, delivery_id, rules
        self.t, self.cid = c.tenant_id, c.id
        self.now = utc_now()
        self.duplicates = 0
        # candidate id -> (email, name) as the mirror holds them now, so one delivery asks at most once.
        self.contacts: dict[str, tuple[str, str]] = {}

    async def delivery(self, events: list[NormalisedEvent], operation: str, detail: str) -> None:
        """Apply every event of the delivery and log it as ``operation``."""
        for event in events:
            await self.event(event)
        await mirror.record_operation(self.conn, self.t, self.cid, "inbound", operation, "success", detail)

    def count(self, operation: str) -> None:
        """Metrics of the applied delivery, once its transaction committed."""
        metrics.record("inbound", operation, "success")
        for _ in range(self.duplicates):
            metrics.record("inbound", "identity", "duplicate")

    async def hire_source(self, e: Hire) -> Any:
        """The document the HRIS field mapping reads (``ApplicationHired.source_json``): the vendor's part of
        the delivery."""
        return registry.ats(self.c.provider).hire_source(self.parsed)

    async def candidate(self, cand: Any) -> None:
        if cand is None:
            return
        if await mirror.upsert_candidate(self.conn, self.t, self.cid, cand):
            self.duplicates += 1
            await mirror.record_operation(
                self.conn, self.t, self.cid, "inbound", "identity", "duplicate", cand.remote_id
            )
        if cand.emails and cand.first_name is not None and cand.last_name is not None:
            # The upsert stores a non-empty email list and non-null names as given: no need to read them back.
            self.contacts[cand.remote_id] = (cand.emails[0], _name(cand.first_name, cand.last_name))
        else:
            self.contacts.pop(cand.remote_id, None)

    async def application(self, app: Any, cand: Any, jobs: Any) -> None:
        await self.candidate(cand)
        for j in jobs or ():
            await mirror.upsert_job(self.conn, self.t, self.cid, j)
        if app is not None:
            await mirror.upsert_application(self.conn, self.t, self.cid, app)

    async def contact(self, candidate_id: str | None) -> tuple[str, str]:
        if not candidate_id:
            return "", ""
        known = self.contacts.get(candidate_id)
        if known is not None:
            return known
        cand = await mirror.get_candidate(self.conn, self.t, self.cid, candidate_id)
        if cand is None:
            return "", ""
        known = (cand.emails[0] if cand.emails else ""), _name(cand.first_name, cand.last_name)
        self.contacts[candidate_id] = known
        return known

    async def event(self, e: NormalisedEvent) -> None:
        if not isinstance(e, Deletion | Anonymisation) and await is_erased(
            self.conn, self.t, _candidate_of(e)
        ):
            # A late or re-sent change about a candidate erased here: nothing of them is stored again and
            # nothing is announced or planned (the tombstone), whatever the vendor still sends.
            metrics.ERASED_SKIPPED.labels(self.c.provider).inc()
            log.info("%s %s about an erased candidate: ignored", self.c.provider, type(e).__name__)
            return
        handler = getattr(self, f"on_{type(e).__name__}", None)
        if handler is not None:
            await handler(e)
        await self.plan(e)

    async def on_CandidateChanged(self, e: CandidateChanged) -> None:  # noqa: N802
        await self.candidate(e.candidate)

    async def on_ApplicationChanged(self, e: ApplicationChanged) -> None:  # noqa: N802
        await self.application(e.application, e.candidate, e.jobs)
        stage = e.application.current_stage
        if stage is not None:
            prev, _ = await mirror.current_stage(self.conn, self.t, self.cid, e.application.remote_id)
            if prev != stage.remote_id:
                await mirror.move_stage(
                    self.conn,
                    self.t,
                    self.cid,
                    e.application.remote_id,
                    stage.remote_id,
                    stage.name,
                    e.occurred_at or self.now,
                )

    async def on_StageChange(self, e: StageChange) -> None:  # noqa: N802
        await self.application(e.application, e.candidate, e.jobs)
        prev_id, prev_name = await mirror.current_stage(self.conn, self.t, self.cid, e.application_id)
        if prev_id == e.to_stage.remote_id:
            return  # the same stage again (a re-sent update): nothing entered, nothing to announce
        at = e.occurred_at or self.now
        await mirror.move_stage(
            self.conn, self.t, self.cid, e.application_id, e.to_stage.remote_id, e.to_stage.name, at
        )
        email, name = await self.contact(e.candidate_id)
        from_stage = (
            e.from_stage.name or e.from_stage.remote_id if e.from_stage else (prev_name or prev_id or "")
        )
        await stage(
            self.conn,
            type="ats.application.stage_changed",
            source=SOURCE,
            tenant_id=self.t,
            subject=f"application/{e.application_id}",
            payload=ats_pb2.ApplicationStageChanged(
                provider=self.c.provider,
                connection_id=self.cid,
                remote_candidate_id=e.candidate_id or "",
                remote_application_id=e.application_id,
                remote_job_id=(e.application.job_ids[0] if e.application and e.application.job_ids else ""),
                from_stage=from_stage,
                to_stage=e.to_stage.name or e.to_stage.remote_id,
                is_interview_stage=e.is_interview_stage,
                changed_at=ts(at),
                candidate_email=email,
                candidate_name=name,
            ),
            key=f"{self.t}/{e.application_id}",
        )

    async def on_OfferChanged(self, e: OfferChanged) -> None:  # noqa: N802
        await mirror.upsert_offer(
            self.conn, self.t, self.cid, e.offer, status="deleted" if e.change == "deleted" else None
        )

    async def on_Hire(self, e: Hire) -> None:  # noqa: N802
        await self.application(e.application, e.candidate, e.jobs)
        if e.reverted:
            await mirror.reopen_application(self.conn, self.t, self.cid, e.application_id)
            return
        at = e.occurred_at or self.now
        await mirror.close_application(self.conn, self.t, self.cid, e.application_id, "hired", at)
        if e.offer is not None:
            await mirror.upsert_offer(self.conn, self.t, self.cid, e.offer, status="accepted")
        source = await self.hire_source(e)
        await stage(
            self.conn,
            type="ats.application.hired",
            source=SOURCE,
            tenant_id=self.t,
            subject=f"application/{e.application_id}",
            payload=ats_pb2.ApplicationHired(
                provider=self.c.provider,
                connection_id=self.cid,
                remote_candidate_id=e.candidate_id or "",
                remote_application_id=e.application_id,
                remote_offer_id=e.offer.remote_id if e.offer else "",
                source_json=json.dumps(source or {}),
                hired_at=ts(at),
            ),
            key=f"{self.t}/{e.application_id}",
        )

    async def on_Rejection(self, e: Rejection) -> None:  # noqa: N802
        if e.application is not None:
            await mirror.upsert_application(self.conn, self.t, self.cid, e.application)
        at = e.occurred_at or self.now
        if e.reverted:
            await mirror.reopen_application(self.conn, self.t, self.cid, e.application_id)
        else:
            await mirror.close_application(self.conn, self.t, self.cid, e.application_id, "rejected", at)
            # What was still to happen for the application does not (a reminder, a link email, a delayed
            # step); rules that fire on the rejection itself plan after this, and earlier ones are kept. So
            # are a hire's: some ATSs also archive a hired application, and only their API tells which.
            await rules_store.cancel_for_application(
                self.conn,
                self.t,
                e.application_id,
                keep_on=(auto.event_kind(e), e.action, auto.EVENT_KINDS[Hire]),
                why="application withdrawn" if e.withdrawn else "application rejected",
            )
        await stage(
            self.conn,
            type="ats.application.rejected",
            source=SOURCE,
            tenant_id=self.t,
            subject=f"application/{e.application_id}",
            payload=ats_pb2.ApplicationRejected(
                provider=self.c.provider,
                connection_id=self.cid,
                remote_candidate_id=e.candidate_id or "",
                remote_application_id=e.application_id,
                reason=e.reason or e.reason_id or "",
                reverted=e.reverted,
                remote_job_id=await self.job_of(e, e.application_id),
                withdrawn=e.withdrawn,
                rejected_at=ts(at),
            ),
            key=f"{self.t}/{e.application_id}",
        )

    async def on_Merge(self, e: Merge) -> None:  # noqa: N802
        self.contacts.clear()
        await mirror.merge_candidates(self.conn, self.t, self.cid, e.surviving_id, e.merged_id)
        await stage(
            self.conn,
            type="ats.candidate.merged",
            source=SOURCE,
            tenant_id=self.t,
            subject=f"candidate/{e.surviving_id}",
            payload=ats_pb2.CandidatesMerged(
                provider=self.c.provider,
                connection_id=self.cid,
                surviving_candidate_id=e.surviving_id,
                merged_candidate_id=e.merged_id,
            ),
        )

    async def on_Deletion(self, e: Deletion) -> None:  # noqa: N802
        if e.entity == "candidate":
            held = await mirror.get_candidate(self.conn, self.t, self.cid, e.remote_id)
            if held is not None:  # find what we held of them in dead-lettered records too
                await erase_dead_letters(self.conn, self.t, contact_needles(held))
            await mirror.erase_candidate(self.conn, self.t, self.cid, e.remote_id, None, deleted=True)
            for app_id in e.related_ids:
                await mirror.delete_application(self.conn, self.t, self.cid, app_id)
            await self._erased(e.remote_id, [], deleted=True)
        elif e.entity in ("application", "opportunity"):
            await mirror.delete_application(self.conn, self.t, self.cid, e.remote_id)
        elif e.entity == "job":
            from interloop_sync.domain.model import Job

            await mirror.upsert_job(
                self.conn, self.t, self.cid, Job(self.c.provider, e.remote_id), deleted=True
            )
        # interviews and scorecards are not mirrored: acknowledged, nothing to change.

    async def on_Anonymisation(self, e: Anonymisation) -> None:  # noqa: N802
        await mirror.erase_candidate(
            self.conn, self.t, self.cid, e.candidate_id, list(e.fields), deleted=False
        )
        await self._erased(e.candidate_id, list(e.fields), deleted=False)

    async def _erased(self, candidate_id: str, fields: list[str], *, deleted: bool) -> None:
        self.contacts.clear()
        if erases_person(fields, deleted=deleted):
            await rules_store.redact_candidate(self.conn, self.t, candidate_id)
            # nothing planned or sent about them from here on, whatever is still in flight
            await tombstone(self.conn, self.t, candidate_id, f"ats:{self.c.provider}")
        await stage(
            self.conn,
            type="ats.candidate.erased",
            source=SOURCE,
            tenant_id=self.t,
            subject=f"candidate/{candidate_id}",
            payload=ats_pb2.CandidateErased(
                provider=self.c.provider,
                connection_id=self.cid,
                remote_candidate_id=candidate_id,
                fields=fields,
                deleted=deleted,
            ),
        )

    async def on_JobChanged(self, e: JobChanged) -> None:  # noqa: N802
        await mirror.upsert_job(self.conn, self.t, self.cid, e.job)

    async def on_Unrecognised(self, e: Unrecognised) -> None:  # noqa: N802
        await mirror.record_unrecognised(self.conn, self.t, self.cid, self.delivery_id, e.action, e.raw)

    async def job_of(self, e: NormalisedEvent, application_id: str) -> str:
        """The application's (first) job: from the event when it carries it, else from the mirror."""
        app = getattr(e, "application", None)
        if app is not None and app.job_ids:
            return str(app.job_ids[0])
        if not application_id:
            return ""
        jobs = await mirror.application_jobs(self.conn, self.t, self.cid, application_id)
        return jobs[0] if jobs else ""

    async def plan(self, e: NormalisedEvent) -> None:
        if not self.rules:
            return
        planned = auto.plan(self.rules, e, self.now)
        if not planned:
            return
        candidate_id = getattr(e, "candidate_id", None) or (
            e.candidate.remote_id if isinstance(e, CandidateChanged) else None
        )
        email, name = await self.contact(candidate_id)
        application_id = getattr(e, "application_id", "") or ""
        context = {
            "candidate_id": candidate_id or "",
            "application_id": application_id,
            "job_id": await self.job_of(e, application_id),
            "candidate_email": email,
            "candidate_name": name,
            "event": e.action,
            "provider": self.c.provider,
            "stage": getattr(getattr(e, "to_stage", None), "name", None) or "",
        }
        for p in planned:
            await rules_store.add_action(self.conn, self.t, self.cid, p, context, self.now)


def _candidate_of(e: NormalisedEvent) -> str:
    """The remote candidate an event is about ("" when it names none)."""
    named = getattr(e, "candidate_id", None)
    if named:
        return str(named)
    cand = getattr(e, "candidate", None)
    return str(cand.remote_id) if cand is not None and cand.remote_id else ""

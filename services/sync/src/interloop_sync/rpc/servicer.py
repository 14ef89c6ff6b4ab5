"""`interloop.sync.v1.SyncService`: validate the request, protobuf <-> domain, call a use case."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
from interloop.sync.v1 import sync_pb2 as pb
from interloop.sync.v1 import sync_pb2_grpc
from interloop_common.clock import utc_now
from interloop_common.export import export_request, to_struct
from interloop_common.idempotency import once
from interloop_common.inbox import replay_dead_letters
from interloop_common.rpc import Check, FieldViolations, decode_cursor, encode_cursor, page_size, ts
from interloop_common.service import Runtime

from interloop_sync.domain.automations import EmailTemplate
from interloop_sync.domain.mapping import FieldMapping, FieldMappingError
from interloop_sync.domain.normalise import InterviewStagePolicy
from interloop_sync.rpc import partner as partner_rpc
from interloop_sync.rpc.convert import MODES, connection_pb, erasure_pb, from_struct, rule_pb
from interloop_sync.rpc.privacy import PrivacyRpcs
from interloop_sync.store.connections import Connection
from interloop_sync.usecases import (
    communications,
    connections,
    dead_letters,
    demographics,
    erasures,
    export,
    funnel,
    inbound,
    outcomes,
    partner,
    reconcile,
    rules,
)
from interloop_sync.usecases import context as sync_context
from interloop_sync.vendors import registry
from interloop_sync.vendors._http import url_problem

_OUTCOMES = {
    "accepted": pb.INGEST_OUTCOME_ACCEPTED,
    "duplicate": pb.INGEST_OUTCOME_DUPLICATE,
    "quarantined": pb.INGEST_OUTCOME_QUARANTINED,
}


class SyncServicer(PrivacyRpcs, sync_pb2_grpc.SyncServiceServicer):
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    @property
    def pool(self):  # type: ignore[no-untyped-def] - the pool idempotency.once records keyed calls in
        return self.rt.pool

    @property
    def ctx(self) -> sync_context.SyncContext:
        return sync_context.of(self.rt)

    # ---- connections

    @once(pb.CreateConnectionResponse)
    async def CreateConnection(self, request: pb.CreateConnectionRequest, context: grpc.aio.ServicerContext):
        c, creds = request.connection, dict(request.credentials)
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        adapter = registry.adapter(c.provider)
        providers = registry.providers()
        check.require(adapter is not None, "connection.provider", f"one of {', '.join(providers)}")
        check.require("@" in c.owner, "connection.owner", "the email of the named human alerted on failures")
        for name in adapter.required_credentials if adapter is not None else ():
            check.require(bool(creds.get(name)), f"credentials.{name}", f"required for {c.provider}")
        for name in adapter.required_settings if adapter is not None else ():
            check.require(
                bool(c.settings.get(name)), f"connection.settings.{name}", f"required for {c.provider}"
            )
        base_url = adapter.base_url_required if adapter is not None else None
        check.require(base_url is None or bool(c.base_url), "connection.base_url", base_url or "")
        if adapter is not None:  # the URLs the service will call with the credentials: the vendor's only
            policy = self.ctx.policies[c.provider]
            urls = {"connection.base_url": c.base_url or None, "connection.settings.token_url": None}
            if "token_url" in c.settings:
                urls["connection.settings.token_url"] = c.settings["token_url"]
            for name, url in urls.items():
                problem = url_problem(url, policy) if url is not None else None
                check.require(problem is None, name, problem or "")
        mapping, policy = from_struct(c.field_mapping), from_struct(c.stage_policy)
        if mapping:
            try:
                FieldMapping.from_dict(mapping)
            except FieldMappingError as exc:
                for p in exc.problems:
                    check.require(
                        False,
                        f"connection.field_mapping.fields.{p.field}",
                        f"{p.reason}{f' (expected {p.expected})' if p.expected else ''}",
                    )
        if policy:
            try:
                InterviewStagePolicy.from_config(policy)
            except (TypeError, ValueError, AttributeError) as exc:
                check.require(False, "connection.stage_policy", f"keywords, stage_ids, stage_names: {exc}")
        check.done()
        stored = await connections.create_connection(
            self.ctx,
            Connection(
                tenant_id=request.tenant_id,
                id=str(uuid.uuid4()),
                provider=c.provider,
                mode=MODES.get(c.mode, "active"),
                owner=c.owner,
                base_url=c.base_url,
                credentials=b"",  # sealed by the use case
                created_at=utc_now(),
                name=c.name,
                field_mapping=mapping,
                stage_policy=policy,
                hris_connection_id=c.hris_connection_id,
                settings=dict(c.settings),
            ),
            creds,
        )
        return pb.CreateConnectionResponse(connection=connection_pb(stored))

    async def ListConnections(self, request: pb.ListConnectionsRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        limit = page_size(request.page.page_size)
        found = await connections.list_connections(
            self.rt.pool, request.tenant_id, after=decode_cursor(request.page.page_token), limit=limit
        )
        nxt = encode_cursor(found.items[-1].id) if found.more else ""
        return pb.ListConnectionsResponse(
            connections=[connection_pb(c) for c in found.items], page={"next_page_token": nxt}
        )

    async def GetConnection(self, request: pb.GetConnectionRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").require(
            bool(request.connection_id), "connection_id", "required"
        ).done()
        c = await connections.get_connection(self.rt.pool, request.tenant_id, request.connection_id)
        return pb.GetConnectionResponse(connection=connection_pb(c))

    # ---- inbound

    async def IngestWebhook(self, request: pb.IngestWebhookRequest, context: grpc.aio.ServicerContext):
        ctx = self.ctx
        result = await inbound.ingest(
            self.rt.pool,
            ctx.vault,
            provider=request.provider,
            connection_id=request.connection_id,
            raw=request.raw_body,
            headers=dict(request.headers),
            freshness=timedelta(seconds=ctx.settings.webhook_freshness_seconds),
            cache=ctx.cache,
            ctx=ctx,
        )
        return pb.IngestWebhookResponse(
            outcome=_OUTCOMES[result.outcome],
            delivery_id=result.delivery_id,
            event_types=result.event_types,
            reason=result.reason,
            tenant_id=result.tenant_id if result.outcome in ("accepted", "duplicate") else "",
        )

    @once(pb.EraseCandidateResponse)
    async def EraseCandidate(self, request: pb.EraseCandidateRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").require(
            0 < len(request.candidate_id) <= 200, "candidate_id", "1-200 characters"
        ).require(bool(request.requested_by), "requested_by", "required").require(
            len(request.reason) <= 2000, "reason", "at most 2000 characters"
        ).done()
        row, steps = await erasures.request(
            self.rt.pool, request.tenant_id, request.candidate_id, request.requested_by, request.reason
        )
        return pb.EraseCandidateResponse(erasure=erasure_pb(row, steps))

    async def ExportCandidate(self, request: pb.ExportCandidateRequest, context: grpc.aio.ServicerContext):
        tenant_id, candidate_id = export_request(request)
        records = await export.export(self.rt.pool, tenant_id, candidate_id)
        return pb.ExportCandidateResponse(records=to_struct(records))

    async def GetErasure(self, request: pb.GetErasureRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        try:
            erasure_id = uuid.UUID(request.erasure_id)
        except ValueError:
            raise FieldViolations([("erasure_id", "not an erasure id")]) from None
        row, steps = await erasures.get(self.rt.pool, request.tenant_id, erasure_id)
        return pb.GetErasureResponse(erasure=erasure_pb(row, steps))

    async def PushPartnerChanges(
        self, request: pb.PushPartnerChangesRequest, context: grpc.aio.ServicerContext
    ):
        """Changes an ATS vendor pushes (the gateway authenticated the partner and checked its grant).

        * The batch is checked whole first: INVALID_ARGUMENT with every field violation: ``tenant_id``,
          ``partner_id``, ``changes`` (1-500), ``changes[i].request_id`` (1-200 characters, unique in the
          batch), ``changes[i].change`` (no kind set), and per kind ``changes[i].<kind>.<field>``: the ids
          it needs, ``upsert_application.stage_id`` when ``stage_name`` is set, ``move_stage.stage_id``,
          ``upsert_candidate.emails[j]`` (an email), ``hire_application.start_date`` (required,
          YYYY-MM-DD). Nothing is stored then, not even the partner's connection.
        * Then the changes apply in order in ONE transaction, through the tenant's connection of provider
          ``partner`` for this partner (made on the first push: named ``Partner <partner_id>``, with
          ``settings.partner_id``, no credentials; ListConnections lists it), on the webhook path: the
          mirror and the automation rules; ``ats.application.stage_changed`` at a move (a scheduling
          request for the job's default panel when the stage is an interview stage: ``interview_stage``,
          or when unset the connection's interview-stage policy on the stage id and name, by default a
          name containing "interview"); ``ats.application.rejected``; ``ats.application.hired`` (the HRIS
          hand-off, whose field mapping reads ``partner.hire_document``, e.g. ``partner.HIRE_MAPPING``);
          ``ats.candidate.erased`` at a deletion (PII erased, the candidate's applications deleted; a
          candidate never pushed is accepted and erased all the same). Upserts announce nothing: an
          application's stage given in ``upsert_application`` is recorded silently (a move is move_stage).
        * A request id seen before for this tenant and partner answers DUPLICATE and is not applied again,
          whatever it carries now; every other change answers ACCEPTED; one result per change, in order.
          A move to the stage the application is already in is ACCEPTED and announces nothing.
        * move_stage, reject_application and hire_application must name an application pushed before (in
          this batch or an earlier one) and not deleted since; otherwise FAILED_PRECONDITION naming every
          such change (``changes[i].move_stage.application_id: no application ...``) and nothing is
          applied. An application may name a candidate not pushed yet (the scheduling request then has no
          email).
        """
        changes = partner_rpc.changes_of(request)
        results = await partner.push(self.ctx, request.tenant_id, request.partner_id, changes)
        return pb.PushPartnerChangesResponse(
            results=[
                pb.PartnerChangeResult(request_id=r.request_id, outcome=_OUTCOMES[r.outcome]) for r in results
            ]
        )

    # ---- dead letters

    async def ListDeadLetters(self, request: pb.ListDeadLettersRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        limit = page_size(request.page.page_size)
        found = await dead_letters.list_open(
            self.rt.pool, request.tenant_id, after=decode_cursor(request.page.page_token), limit=limit
        )
        nxt = encode_cursor(str(found.items[-1]["id"])) if found.more else ""
        return pb.ListDeadLettersResponse(
            dead_letters=[
                pb.DeadLetter(
                    id=str(r["id"]),
                    topic=r["topic"],
                    reason=r["reason"],
                    attempts=r["attempts"],
                    failed_at=ts(r["failed_at"]),
                    event_type=r["event_type"],
                )
                for r in found.items
            ],
            page={"next_page_token": nxt},
        )

    async def ListCommunications(
        self, request: pb.ListCommunicationsRequest, context: grpc.aio.ServicerContext
    ):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        limit = page_size(request.page.page_size)
        before = None
        if request.page.page_token:
            try:
                at, _, cid = decode_cursor(request.page.page_token).partition("|")
                before = (datetime.fromisoformat(at), uuid.UUID(cid))
            except ValueError:
                raise FieldViolations([("page.page_token", "not a cursor this list returned")]) from None
        found = await communications.list_communications(
            self.rt.pool,
            request.tenant_id,
            candidate_id=request.candidate_id,
            recipient=request.recipient,
            before=before,
            limit=limit,
        )
        last = found.items[-1] if found.more else None
        nxt = encode_cursor(f"{last['sent_at'].isoformat()}|{last['id']}") if last else ""
        return pb.ListCommunicationsResponse(
            communications=[
                pb.Communication(
                    id=str(r["id"]),
                    channel=r["channel"],
                    recipient=r["recipient"],
                    subject=r["subject"],
                    status=r["status"],
                    kind=r["kind"],
                    rule_id=r["rule_id"],
                    candidate_id=r["candidate_id"],
                    booking_id=r["booking_id"],
                    event_at=ts(r["event_at"]),
                    sent_at=ts(r["sent_at"]),
                    seconds_after_event=(r["sent_at"] - r["event_at"]).total_seconds(),
                )
                for r in found.items
            ],
            page={"next_page_token": nxt},
        )

    async def ReplayDeadLetters(
        self, request: pb.ReplayDeadLettersRequest, context: grpc.aio.ServicerContext
    ):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        for i, value in enumerate(request.ids):
            try:
                uuid.UUID(value)
            except ValueError:
                raise FieldViolations(
                    [(f"ids[{i}]", "a dead-letter id (UUID) from ListDeadLetters")]
                ) from None
        n = await replay_dead_letters(
            self.rt.pool, self.rt.producer, tenant_id=request.tenant_id, ids=list(request.ids) or None
        )
        return pb.ReplayDeadLettersResponse(replayed=n)

    # ---- reconciliation

    async def RunReconciliation(
        self, request: pb.RunReconciliationRequest, context: grpc.aio.ServicerContext
    ):
        Check().require(bool(request.tenant_id), "tenant_id", "required").require(
            bool(request.connection_id), "connection_id", "required"
        ).done()
        result = await reconcile.run_connection(self.ctx, request.tenant_id, request.connection_id)
        return pb.RunReconciliationResponse(
            fetched=result.fetched, upserted=result.upserted, cursor=result.cursor
        )

    async def ImportDemographics(
        self, request: pb.ImportDemographicsRequest, context: grpc.aio.ServicerContext
    ):
        Check().require(bool(request.tenant_id), "tenant_id", "required").require(
            bool(request.connection_id), "connection_id", "required"
        ).done()
        done = await demographics.import_eeoc(self.ctx, request.tenant_id, request.connection_id)
        return pb.ImportDemographicsResponse(
            received=done.received,
            reported=done.reported,
            unknown_candidates=done.unknown_candidates,
            declined=done.declined,
        )

    # ---- automations

    @once(pb.CreateAutomationRuleResponse)
    async def CreateAutomationRule(
        self, request: pb.CreateAutomationRuleRequest, context: grpc.aio.ServicerContext
    ):
        r = request.rule
        json_form = from_struct(r.json) if r.HasField("json") else {}
        Check().require(bool(request.tenant_id), "tenant_id", "required").require(
            bool(r.dsl) != bool(json_form), "rule", "exactly one of dsl or json"
        ).done()
        row = await rules.create_rule(
            self.ctx,
            request.tenant_id,
            source={"dsl": r.dsl} if r.dsl else {"json": json_form},
            rule_id=r.id or json_form.get("id") or "",
            disabled=r.disabled,
            templates={t.name: EmailTemplate(t.subject, t.body, t.html) for t in request.templates},
        )
        return pb.CreateAutomationRuleResponse(rule=rule_pb(row))

    async def ListAutomationRules(
        self, request: pb.ListAutomationRulesRequest, context: grpc.aio.ServicerContext
    ):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        limit = page_size(request.page.page_size)
        found = await rules.list_rules(
            self.rt.pool, request.tenant_id, after=decode_cursor(request.page.page_token), limit=limit
        )
        nxt = encode_cursor(found.items[-1]["id"]) if found.more else ""
        return pb.ListAutomationRulesResponse(
            rules=[rule_pb(r) for r in found.items], page={"next_page_token": nxt}
        )

    # ---- funnel

    async def GetFunnel(self, request: pb.GetFunnelRequest, context: grpc.aio.ServicerContext):
        Check().require(bool(request.tenant_id), "tenant_id", "required").done()
        if request.connection_id:
            try:
                uuid.UUID(request.connection_id)
            except ValueError:
                raise FieldViolations([("connection_id", "a connection id (UUID)")]) from None
        f = await funnel.funnel(self.rt.pool, request.tenant_id, request.connection_id)
        return pb.GetFunnelResponse(
            stages=[
                pb.StageFunnel(
                    stage=s["stage"],
                    entered=s["entered"],
                    dropped=s["dropped"],
                    current=s["current"],
                    avg_hours_in_stage=float(s["hours"]),
                )
                for s in f.stages
            ],
            sources=[
                pb.SourceFunnel(source=s["source"], applications=s["applications"], hires=s["hires"])
                for s in f.sources
            ],
            offers_resolved=f.offers_resolved,
            offers_accepted=f.offers_accepted,
            offer_acceptance_rate=f.offers_accepted / f.offers_resolved if f.offers_resolved else 0.0,
            sync_error_rate=f.sync_errors / f.sync_operations if f.sync_operations else 0.0,
            duplicate_rate=f.duplicates / f.inbound if f.inbound else 0.0,
            applications=f.applications,
            hires=f.hires,
        )

    # ---- post-hire outcomes

    @once(pb.RecordOutcomeResponse)
    async def RecordOutcome(self, request: pb.RecordOutcomeRequest, context: grpc.aio.ServicerContext):
        check = Check().require(bool(request.tenant_id), "tenant_id", "required")
        check.require(bool(request.candidate_id), "candidate_id", "the candidate's id (as in the ATS)")
        for name, reason in outcomes.problems(request.outcome, request.value):
            check.require(False, name, reason)
        check.done()
        at = request.recorded_at.ToDatetime(tzinfo=UTC) if request.HasField("recorded_at") else utc_now()
        event_id, duplicate = await outcomes.record_outcome(
            self.rt.pool,
            request.tenant_id,
            candidate_id=request.candidate_id,
            job_id=request.job_id,
            application_id=request.application_id,
            outcome=request.outcome,
            value=request.value,
            recorded_at=at,
        )
        return pb.RecordOutcomeResponse(event_id=event_id, duplicate=duplicate)

"""protobuf <-> REST for connections, dead letters, communications, automation rules, the funnel and
post-hire outcomes."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from google.protobuf import json_format, struct_pb2
from interloop.sync.v1 import sync_pb2 as pb

from interloop_gateway.domain.connections import schemas
from interloop_gateway.problems import problem

MODES = {"active": pb.CONNECTION_MODE_ACTIVE, "shadow": pb.CONNECTION_MODE_SHADOW}
MODE_NAMES = {v: k for k, v in MODES.items()}


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(value)
    return out


def _dict(value: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(value)


def connection_pb(body: schemas.ConnectionIn) -> pb.Connection:
    return pb.Connection(
        provider=body.provider,
        mode=MODES[body.mode],
        owner=body.owner,
        name=body.name,
        base_url=body.base_url,
        field_mapping=_struct(body.field_mapping),
        stage_policy=_struct(body.stage_policy),
        hris_connection_id=body.hris_connection_id,
        settings=body.settings,
    )


def connection_out(c: pb.Connection) -> schemas.ConnectionOut:
    return schemas.ConnectionOut(
        id=c.id,
        provider=c.provider,
        mode=MODE_NAMES.get(c.mode, "active"),
        owner=c.owner,
        name=c.name,
        base_url=c.base_url,
        created_at=c.created_at.ToDatetime().isoformat() + "Z",
        field_mapping=_dict(c.field_mapping),
        stage_policy=_dict(c.stage_policy),
        hris_connection_id=c.hris_connection_id,
        settings=dict(c.settings),
    )


def reconciliation_out(r: pb.RunReconciliationResponse) -> schemas.ReconciliationOut:
    return schemas.ReconciliationOut(fetched=r.fetched, upserted=r.upserted, cursor=r.cursor)


def dead_letter_out(d: pb.DeadLetter) -> schemas.DeadLetterOut:
    return schemas.DeadLetterOut(
        id=d.id,
        topic=d.topic,
        reason=d.reason,
        attempts=d.attempts,
        event_type=d.event_type,
        failed_at=d.failed_at.ToDatetime().isoformat() + "Z",
    )


def communication_out(c: pb.Communication) -> schemas.CommunicationOut:
    return schemas.CommunicationOut(
        id=c.id,
        channel=c.channel,
        recipient=c.recipient,
        subject=c.subject,
        status=c.status,
        kind=c.kind,
        rule_id=c.rule_id,
        candidate_id=c.candidate_id or None,
        interview_id=c.booking_id or None,
        event_at=c.event_at.ToDatetime(tzinfo=UTC).isoformat(),
        sent_at=c.sent_at.ToDatetime(tzinfo=UTC).isoformat(),
        seconds_after_event=round(c.seconds_after_event, 3),
    )


def rule_pb(body: schemas.AutomationRuleIn) -> pb.AutomationRule:
    rule = pb.AutomationRule(id=body.id, dsl=body.dsl, disabled=not body.enabled)
    if body.rule:
        rule.json.CopyFrom(_struct(body.rule))
    return rule


def templates_pb(body: schemas.AutomationRuleIn) -> list[pb.EmailTemplate]:
    return [
        pb.EmailTemplate(name=t.name, subject=t.subject, body=t.body, html=t.html) for t in body.templates
    ]


def rule_out(r: pb.AutomationRule) -> schemas.AutomationRuleOut:
    return schemas.AutomationRuleOut(
        id=r.id,
        dsl=r.dsl,
        rule=_dict(r.json) if r.HasField("json") else None,
        on=r.on,
        action=r.action,
        enabled=not r.disabled,
    )


def funnel_out(f: pb.GetFunnelResponse) -> schemas.FunnelOut:
    return schemas.FunnelOut(
        stages=[
            schemas.StageFunnelOut(
                stage=s.stage,
                entered=s.entered,
                dropped=s.dropped,
                current=s.current,
                avg_hours_in_stage=round(s.avg_hours_in_stage, 3),
            )
            for s in f.stages
        ],
        sources=[
            schemas.SourceFunnelOut(
                source=s.source,
                applications=s.applications,
                hires=s.hires,
                hire_rate=round(s.hires / s.applications, 4) if s.applications else 0.0,
            )
            for s in f.sources
        ],
        applications=f.applications,
        hires=f.hires,
        offers_resolved=f.offers_resolved,
        offers_accepted=f.offers_accepted,
        offer_acceptance_rate=round(f.offer_acceptance_rate, 4),
        sync_error_rate=round(f.sync_error_rate, 4),
        duplicate_rate=round(f.duplicate_rate, 4),
    )


def observed_outcomes(body: schemas.OutcomeIn) -> list[tuple[str, float]]:
    """The (outcome, value) pairs an outcome body reports; 400 naming what is missing."""
    observed: list[tuple[str, float]] = []
    if body.retained_90d is not None:
        observed.append(("retained_90d", 1.0 if body.retained_90d else 0.0))
    if body.first_performance_rating is not None:
        observed.append(("first_performance_rating", float(body.first_performance_rating)))
    if body.outcome:
        if body.value is None:
            raise problem(400, "value: required with outcome (true/false or a number)")
        observed.append((body.outcome, float(body.value)))
    if not body.candidate_id:
        raise problem(400, "candidate_id: the candidate's id as in the ATS")
    if not observed:
        raise problem(400, "retained_90d (true/false) or first_performance_rating (a number) is required")
    return observed


def outcome_request(
    tenant_id: str, body: schemas.OutcomeIn, outcome: str, value: float
) -> pb.RecordOutcomeRequest:
    req = pb.RecordOutcomeRequest(
        tenant_id=tenant_id,
        candidate_id=body.candidate_id,
        job_id=body.job_id,
        application_id=body.application_id,
        outcome=outcome,
        value=value,
    )
    at = body.recorded_at
    if at is not None:
        req.recorded_at.FromDatetime(at if at.tzinfo else at.replace(tzinfo=UTC))
    return req

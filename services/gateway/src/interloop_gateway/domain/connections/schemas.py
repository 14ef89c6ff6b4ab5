"""Request and response bodies of connections, dead letters, automations and the funnel."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar.params import KwargDefinition

from interloop_gateway.wire import Page, Timestamp


class ConnectionIn(msgspec.Struct):
    provider: Literal["greenhouse", "lever", "workday", "bamboohr"]
    owner: str
    credentials: dict[str, str]
    mode: Literal["active", "shadow"] = "active"
    name: str = ""
    base_url: str = ""
    field_mapping: dict[str, Any] = {}
    stage_policy: dict[str, Any] = {}
    hris_connection_id: str = ""
    settings: dict[str, str] = {}


class EmailTemplateIn(msgspec.Struct):
    name: str
    subject: str
    body: str
    html: bool = False


class AutomationRuleIn(msgspec.Struct):
    id: str = ""
    dsl: str = ""
    rule: dict[str, Any] = {}
    enabled: bool = True
    templates: list[EmailTemplateIn] = []


class ReplayIn(msgspec.Struct):
    ids: list[str] = []


class OutcomeIn(msgspec.Struct):
    """A post-hire outcome from an HRIS or a person: `retained_90d` and/or `first_performance_rating`
    (or the generic `outcome` + `value` pair)."""

    candidate_id: str
    job_id: str = ""
    application_id: str = ""
    retained_90d: bool | None = None
    first_performance_rating: float | None = None
    outcome: str = ""
    value: float | None = None
    recorded_at: datetime | None = None


# -- responses


class ConnectionOut(msgspec.Struct):
    """A connection; its credentials are never returned."""

    id: str
    provider: str
    mode: str
    owner: str
    name: str
    base_url: str
    created_at: Timestamp
    field_mapping: dict[str, Any]
    stage_policy: dict[str, Any]
    hris_connection_id: str
    settings: dict[str, str]


class ReconciliationOut(msgspec.Struct):
    # records read from the vendor, records that changed the mirror, the persisted resume point
    fetched: int
    upserted: int
    cursor: str


class DeadLetterOut(msgspec.Struct):
    id: str
    topic: str
    reason: str
    attempts: int
    event_type: str
    failed_at: Timestamp


class ReplayOut(msgspec.Struct):
    replayed: int


class CommunicationOut(msgspec.Struct):
    id: str
    channel: str
    recipient: str
    subject: str
    status: str
    kind: str
    rule_id: str
    candidate_id: str | None
    interview_id: str | None
    event_at: Timestamp
    sent_at: Timestamp
    seconds_after_event: float


class AutomationRuleOut(msgspec.Struct):
    id: str
    dsl: str
    # the JSON form, when the rule was given as JSON
    rule: dict[str, Any] | None
    on: str
    action: str
    enabled: bool


class StageFunnelOut(msgspec.Struct):
    stage: str
    entered: int
    dropped: int
    current: int
    avg_hours_in_stage: float


class SourceFunnelOut(msgspec.Struct):
    source: str
    applications: int
    hires: int
    hire_rate: float


class FunnelOut(msgspec.Struct):
    stages: list[StageFunnelOut]
    sources: list[SourceFunnelOut]
    applications: int
    hires: int
    offers_resolved: int
    offers_accepted: int
    offer_acceptance_rate: float
    sync_error_rate: float
    duplicate_rate: float


class RecordedOutcomeOut(msgspec.Struct):
    outcome: str
    value: float
    # the hris.outcome.recorded event (the same id when the same outcome is recorded again)
    event_id: str
    duplicate: bool


class RecordedOutcomesOut(msgspec.Struct):
    items: list[RecordedOutcomeOut]


ConnectionsPage = Annotated[Page[ConnectionOut], KwargDefinition(schema_component_key="ConnectionsPage")]
DeadLettersPage = Annotated[Page[DeadLetterOut], KwargDefinition(schema_component_key="DeadLettersPage")]
CommunicationsPage = Annotated[
    Page[CommunicationOut], KwargDefinition(schema_component_key="CommunicationsPage")
]
AutomationRulesPage = Annotated[
    Page[AutomationRuleOut], KwargDefinition(schema_component_key="AutomationRulesPage")
]
